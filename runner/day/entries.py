"""The ``experiments:`` list of a game day: ids, needs, and each experiment's tree.

Part of the day loader (``loader``). Every entry is read even when another has problems,
so duplicate ids, needs that name no experiment and cycles are all said at once. An
entry's experiment is a file (relative to the day file) or ``inline``; either way the
day's defaults and the entry's overrides are applied to its node tree (``merge``) and the
experiment loader's own builder validates it (``loader.from_tree``). Problems found in an
experiment file are said under the entry, with that file's path and line; problems in
a copied default or override are said once, at the day file's line.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path

from runner import errors
from runner.day import merge, parse, queue
from runner.day import model as day_model
from runner.model import experiment as model
from runner.model import fields, yamlsafe
from runner.model import loader as exp_loader
from runner.model import problems as probs
from runner.model.yamlsafe import Map, Node

Problem = probs.Problem


@dataclasses.dataclass
class Context:
    """What every entry is built with: where the day file is, and what was said already."""

    base: Path
    source: str
    sha256: str
    environ: Mapping[str, str]
    defaults: Map | None = None
    relayed: set[tuple[int | None, str, str]] = dataclasses.field(default_factory=set)
    default_lines: frozenset[int] = frozenset()

    def copied(self, path: str, line: int | None, inner: str) -> str | None:
        """The day-file path of a default or override copied into an experiment."""
        if line is not None and abs(line) in self.default_lines:
            return f"defaults.{inner}" if inner else "defaults"
        if merge.is_day_line(line):
            return f"{path}.overrides.{inner}" if inner else f"{path}.overrides"
        return None


def lines_of(node: Node) -> set[int]:
    found = {node.line}
    if isinstance(node, Map):
        for line, value in node.entries.values():
            found |= {line} | lines_of(value)
    elif isinstance(node, yamlsafe.Seq):
        for item in node.items:
            found |= lines_of(item)
    return found


def entries(read: fields.Reader, node: Node | None, context: Context,
             ) -> tuple[day_model.DayExperiment, ...] | None:
    items = None if node is None else read.sequence(node, "experiments", what="experiments")
    if items is None:
        return None
    if not items:
        read.fail(node, "experiments", "a game day needs at least one experiment", "missing")
    heads = [_head(item, index) for index, item in enumerate(items)]
    ok = _links(read, heads)
    built: dict[str, day_model.DayExperiment] = {}
    for head in heads:
        entry = _entry(read, head.item, probs.index_path("experiments", head.index), context)
        if entry is None:
            ok = False
        elif entry.id not in built:
            built[entry.id] = entry
    first = {h.id: h for h in reversed(heads) if h.id}  # the first of duplicate ids
    placed, cycles = queue.order([queue.Node(h.id, h.needs) for h in heads
                                  if h.id and first[h.id] is h])
    for cycle in cycles:
        read.fail(node, "experiments", "these experiments need each other, so none of them "
                  f"can run first: {' → '.join(cycle)}; remove one of the needs", "conflict")
    if not ok or cycles:
        return None
    return tuple(built[entry_id] for entry_id in placed)


@dataclasses.dataclass(frozen=True)
class _Head:
    """An entry's id and needs as written (also when the rest of it has problems)."""

    index: int
    item: Node
    id: str | None
    needs: tuple[str, ...]


def _head(item: Node, index: int) -> _Head:
    def text(node: Node | None) -> str | None:
        ok = isinstance(node, yamlsafe.Scalar) and isinstance(node.value, str)
        return node.value if ok else None  # type: ignore[union-attr,return-value]

    if not isinstance(item, Map):
        return _Head(index, item, None, ())
    entry_id = text(item.entries["id"][1]) if "id" in item.entries else None
    raw = item.entries["needs"][1] if "needs" in item.entries else None
    needs = [text(raw)] if isinstance(raw, yamlsafe.Scalar) else \
        [text(n) for n in raw.items] if isinstance(raw, yamlsafe.Seq) else []
    return _Head(index, item, entry_id, tuple(n for n in needs if n))


def _links(read: fields.Reader, heads: list[_Head]) -> bool:
    """Duplicate ids and needs naming no experiment; True when there are none."""
    first: dict[str, _Head] = {}
    ok = True
    for head in heads:
        if head.id is None:
            continue
        if head.id in first:
            read.fail(head.item, f"experiments[{head.index}].id", f"id {head.id!r} is "
                      f"already used by the experiment at line {first[head.id].item.line}; "
                      "give each experiment its own id", "duplicate")
            ok = False
        else:
            first[head.id] = head
    for head in heads:
        for need in head.needs:
            if need not in first:
                read.fail(head.item, f"experiments[{head.index}].needs", probs.unknown_message(
                    "experiment id", need, list(first) or ["(none)"]), "unknown")
                ok = False
    return ok


def _entry(read: fields.Reader, item: Node, path: str, context: Context,
           ) -> day_model.DayExperiment | None:
    values = read.mapping(item, path, allowed=parse.ENTRY_KEYS, required=("id",),
                          what="experiment key")
    if values is None:
        return None
    entry_id = parse.entry_id(read, values["id"], f"{path}.id") if "id" in values else None
    needs = read.strings(values["needs"], f"{path}.needs", what="experiment ids") \
        if "needs" in values else ()
    on_broken = "stop"
    if "on_broken" in values:
        on_broken = read.choice(values["on_broken"], f"{path}.on_broken", ("stop", "continue"),
                                what="on_broken") or on_broken
    gates = parse.gates(read, values["gates"], f"{path}.gates",
                        parse.Where(context.environ, context.base)) if "gates" in values else ()
    overrides = parse.overrides(read, values["overrides"], f"{path}.overrides") \
        if "overrides" in values else None
    if ("file" in values) == ("inline" in values):
        read.fail(item, path, "give the experiment either as file: <path relative to the day "
                  "file> or as inline: {title, steady_state, faults, duration}",
                  "conflict" if "file" in values else "missing")
        return None
    built = _file(read, values["file"], path, overrides, context) if "file" in values \
        else _inline(read, values["inline"], path, overrides, context)
    if built is None or entry_id is None or needs is None:
        return None
    experiment, where, file_sha = built
    return day_model.DayExperiment(
        id=entry_id, experiment=experiment, source=where, needs=tuple(needs),
        on_broken="continue" if on_broken == "continue" else "stop", gates=gates,
        file_sha256=file_sha, line=item.line)


def _file(read: fields.Reader, node: Node, path: str, overrides: Map | None,
          context: Context) -> tuple[model.Experiment, str, str] | None:
    name = read.string(node, f"{path}.file", what="an experiment file's path")
    if name is None:
        return None
    target = context.base / name
    try:
        data = exp_loader.read_bytes(target)
        text = exp_loader.decode(data, str(target))
    except errors.InputError as error:
        message = error.message if target.exists() else (
            f"{name}: no such file (looked for {target.resolve()}; a file: path is relative "
            "to the day file's directory)")
        read.fail(node, f"{path}.file", message, "file")
        return None
    tree_problems = probs.Problems()
    try:
        root = yamlsafe.compose(text, tree_problems)
    except yamlsafe.Rejected as rejected:
        for p in rejected.problems:
            _relay(read, node, path, name, p, context)
        return None
    for p in tree_problems.sorted():
        _relay(read, node, path, name, p, context)
    merged = merge.apply(root, context.defaults, overrides, foreign=True) \
        if root is not None else root
    found = probs.Problems()
    sha = hashlib.sha256(data).hexdigest()
    experiment = exp_loader.from_tree(merged, str(target), found, environ=context.environ,
                                      base=target.parent, sha256=sha)
    for p in found.sorted():
        _relay(read, node, path, name, p, context)
    if experiment is None or tree_problems:
        return None
    return experiment, str(target), sha


def _relay(read: fields.Reader, node: Node, path: str, name: str, p: Problem,
           context: Context) -> None:
    copied = context.copied(path, p.line, p.path) if merge.is_day_line(p.line) else None
    if copied is not None:
        line = abs(p.line or 0)
        if (line, copied, p.message) not in context.relayed:
            context.relayed.add((line, copied, p.message))
            read.problems.add(copied, line, p.message, p.kind)
        return
    at = f" (line {p.line})" if p.line is not None else ""
    where = f"{p.path}{at}: " if p.path else (f"line {p.line}: " if p.line else "")
    read.problems.add(path, node.line, f"in {name}, {where}{p.message}", p.kind)


def _inline(read: fields.Reader, node: Node, path: str, overrides: Map | None,
            context: Context) -> tuple[model.Experiment, str, None] | None:
    merged = merge.apply(node, context.defaults, overrides, foreign=False)
    found = probs.Problems()
    where = f"{context.source}#{path}"
    experiment = exp_loader.from_tree(merged, where, found, environ=context.environ,
                                      base=context.base, sha256=context.sha256)
    for p in found.sorted():
        inner = f"{path}.inline.{p.path}" if p.path else f"{path}.inline"
        at = context.copied(path, p.line, p.path) if p.line in context.default_lines else None
        key = (p.line, at or inner, p.message)
        if key in context.relayed:
            continue
        context.relayed.add(key)
        read.problems.add(at or inner, p.line, p.message, p.kind)
    return None if experiment is None else (experiment, where, None)
