"""Hostile-file-safe YAML: bytes in, a tree of nodes that know their line, or problems.

Decisions (each one closes a way a file can hurt ``gameday validate``):

* Size is capped (``MAX_BYTES``, 1 MiB) before the file is read in full; NUL bytes mean
  binary; the text must be UTF-8 (a BOM is allowed).
* The tree is built from pyyaml's *event stream* by an iterative composer of our own
  (libyaml's C parser when available). Nothing is ever constructed from a tag, so
  ``!!python/object`` cannot run code; any explicit tag other than the plain ones
  (``!!str !!int !!float !!bool !!null !!map !!seq``) is a problem, with its line.
* Nesting deeper than ``MAX_DEPTH`` (64) stops the parse at once. The composer keeps its
  own stack, so no input can reach Python's recursion limit.
* Anchors and aliases are allowed (they are handy for shared selectors), but every
  alias counts the full size of what it points to, and the expanded document may hold
  at most ``MAX_VALUES`` values: a billion-laughs file stops after a few hundred
  events. An alias to a collection that is still open (a recursive document) is refused.
* Duplicate keys are problems (pyyaml silently keeps the last one). Merge keys (``<<``)
  work as in YAML 1.1; keys they bring in never count as duplicates.
* A second document (``---``) is refused: one experiment per file.

Mapping keys are kept as their source text (``on:`` stays ``"on"``, not ``True``), so the
plain data is always JSON-able. Timestamps stay strings.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import yaml
import yaml.constructor
import yaml.resolver

from runner.model import problems as probs

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 50_000

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null")}
_SEQ_TAGS = {f"{_TAG}seq"}
_MAP_TAGS = {f"{_TAG}map"}

ScalarValue = str | int | float | bool | None


@dataclasses.dataclass(eq=False)
class Scalar:
    """A scalar: its constructed value, its source text and its 1-based line."""

    value: ScalarValue
    text: str
    line: int


@dataclasses.dataclass(eq=False)
class Seq:
    """A sequence, built item by item while parsing (hence not frozen)."""

    items: list[Node]
    line: int


@dataclasses.dataclass(eq=False)
class Map:
    """A mapping; keys are their source text, in file order, each with its key line."""

    entries: dict[str, tuple[int, Node]]
    line: int


Node = Scalar | Seq | Map


class Rejected(Exception):
    """The YAML could not be turned into a tree; ``problems`` says why and where."""

    def __init__(self, problems: list[probs.Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def show_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _scalar(event: Any, line: int, path: str, problems: probs.Problems) -> Scalar:
    value: str = event.value
    tag: str | None = event.tag
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, event.implicit)  # type: ignore[no-untyped-call]
    elif tag not in _SCALAR_TAGS:
        return Scalar(value, value, line)  # reported as a disallowed tag already
    node = yaml.ScalarNode(tag, value)
    constructed: ScalarValue = value
    try:
        if tag == f"{_TAG}null":
            constructed = None
        elif tag == f"{_TAG}bool":
            constructed = _CONSTRUCTOR.bool_values[value.lower()]
        elif tag == f"{_TAG}int":
            constructed = _CONSTRUCTOR.construct_yaml_int(node)
        elif tag == f"{_TAG}float":
            constructed = _CONSTRUCTOR.construct_yaml_float(node)
    except (ValueError, KeyError, IndexError, TypeError, OverflowError):  # pyyaml on odd text
        problems.add(path, line, f"{probs.short(value)} is not a valid {show_tag(tag)} value",
                     "yaml")
    return Scalar(constructed, value, line)


@dataclasses.dataclass
class _Open:
    """A collection being built, with what the composer needs to finish it."""

    node: Seq | Map
    start: int  # value counter when it opened, for the expanded size
    anchor: str | None
    key: Scalar | None = None  # a mapping's pending key
    key_merges: bool = False  # the pending key is a plain << (a YAML 1.1 merge)
    merges: list[Node] = dataclasses.field(default_factory=list)


class _Composer:
    """Builds the tree from events with an explicit stack and hard bounds."""

    def __init__(self, problems: probs.Problems) -> None:
        self.problems = problems
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[Node, int]] = {}  # node, expanded size
        self.open_anchors: set[str] = set()
        self.values = 0
        self.documents = 0
        self.root: Node | None = None

    def where(self) -> str:
        """The dotted path of the value being parsed now (``faults[1].latency``)."""
        path = ""
        for open_ in self.stack:
            if isinstance(open_.node, Seq):
                path = probs.index_path(path, len(open_.node.items))
            elif open_.key is not None:
                path = probs.key_path(path, open_.key.text)
        return path

    def stop(self, line: int | None, message: str) -> Rejected:
        self.problems.add(self.where(), line, message, "unsafe")
        return Rejected(self.problems.sorted())

    def count(self, size: int, line: int) -> None:
        self.values += size
        if self.values > MAX_VALUES:
            raise self.stop(
                line,
                f"the document expands to more than {MAX_VALUES} values (aliases included); "
                "an experiment needs a few hundred. Is this a YAML alias bomb? "
                "Write the values out instead of repeating aliases.",
            )

    def check_tag(self, event: Any, line: int, allowed: set[str], what: str) -> None:
        tag = event.tag
        if tag is not None and tag != "!" and tag not in allowed:
            self.problems.add(
                self.where(),
                line,
                f"YAML tag {probs.short(show_tag(tag))} is not allowed on {what}: experiments "
                "are plain YAML (at most !!str, !!int, !!float, !!bool, !!null on a value, "
                "!!seq on a list, !!map on a mapping); remove the tag",
                "unsafe",
            )

    def feed(self, event: Any) -> None:
        line = event.start_mark.line + 1
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.stop(
                    line,
                    "the file holds more than one YAML document (a '---' separator); "
                    "put one experiment per file.",
                )
        elif isinstance(event, yaml.ScalarEvent):
            self.check_tag(event, line, _SCALAR_TAGS, "a value")
            self.count(1, line)
            scalar = _scalar(event, line, self.where(), self.problems)
            self.anchor(event.anchor, scalar, 1)
            self.attach(scalar, line, plain_key=event.implicit[0])
        elif isinstance(event, yaml.AliasEvent):
            self.alias(str(event.anchor), line)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            sequence = isinstance(event, yaml.SequenceStartEvent)
            if sequence:
                self.check_tag(event, line, _SEQ_TAGS, "a list")
            else:
                self.check_tag(event, line, _MAP_TAGS, "a mapping")
            if len(self.stack) >= MAX_DEPTH:
                self.stack.clear()  # the path to such depth says nothing useful
                raise self.stop(
                    line,
                    f"the document is nested deeper than {MAX_DEPTH} levels; "
                    "an experiment needs fewer than ten.",
                )
            self.count(1, line)
            node: Seq | Map = Seq([], line) if sequence else Map({}, line)
            if event.anchor is not None:
                self.open_anchors.add(event.anchor)
            self.stack.append(_Open(node, self.values - 1, event.anchor))
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            done = self.stack.pop()
            if isinstance(done.node, Map):
                self.merge(done)
            if done.anchor is not None:
                self.open_anchors.discard(done.anchor)
                self.anchor(done.anchor, done.node, self.values - done.start)
            self.attach(done.node, line)

    def anchor(self, name: str | None, node: Node, size: int) -> None:
        if name is not None:
            self.anchors[name] = (node, size)

    def alias(self, name: str, line: int) -> None:
        if name in self.open_anchors:
            raise self.stop(
                line, f"alias *{name} points into itself (a recursive document); remove it."
            )
        if name not in self.anchors:
            message = f"alias *{name} has no anchor &{name} before it"
            self.problems.add(self.where(), line, message, "yaml")
            self.attach(Scalar(None, "", line), line)
            return
        node, size = self.anchors[name]
        self.count(size, line)
        self.attach(node, line)

    def attach(self, node: Node, line: int, *, plain_key: bool = False) -> None:
        if not self.stack:
            self.root = node
            return
        top = self.stack[-1]
        if isinstance(top.node, Seq):
            top.node.items.append(node)
            return
        if top.key is None:
            if not isinstance(node, Scalar):
                self.problems.add(
                    "", line, "a mapping key must be a plain word, not a list or mapping", "yaml"
                )
                node = Scalar("?", "?", line)
            top.key = node
            top.key_merges = plain_key and node.text == "<<"
            return
        key, top.key = top.key, None
        if top.key_merges:
            top.merges.append(node)
            return
        entries = top.node.entries
        if key.text in entries:
            first = entries[key.text][0]
            self.problems.add(
                probs.key_path(self.where(), key.text),
                key.line,
                f"duplicate key {key.text!r} (first at line {first}); YAML would silently "
                "keep only the last one, so remove one of them.",
                "duplicate",
            )
            return
        entries[key.text] = (key.line, node)

    def merge(self, done: _Open) -> None:
        assert isinstance(done.node, Map)
        sources: list[Node] = []
        for value in done.merges:
            sources.extend(value.items if isinstance(value, Seq) else [value])
        for source in sources:
            if not isinstance(source, Map):
                self.problems.add(
                    "", source.line, "a merge key (<<) needs a mapping or a list of them", "yaml"
                )
                continue
            for key, entry in source.entries.items():
                done.node.entries.setdefault(key, entry)


def _syntax_problem(error: yaml.YAMLError, text: str) -> probs.Problem:
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        return probs.Problem(
            "",
            line,
            f"the file contains a control character #x{error.character:04x}, which YAML "
            "does not allow; remove it (is this a binary file?)",
            "yaml",
        )
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        what = error.problem or "invalid YAML"
        if error.context and error.context_mark is not None:
            what += f" ({error.context} that starts at line {error.context_mark.line + 1})"
        lines = text.splitlines()
        if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line]:
            what += "; this line holds a tab, and YAML indents with spaces only"
        return probs.Problem(
            "",
            None if mark is None else mark.line + 1,
            f"YAML syntax error: {what}; check the indentation, colons, brackets and quotes",
            "yaml",
        )
    return probs.Problem("", None, f"YAML syntax error: {error}", "yaml")


def compose(text: str, problems: probs.Problems) -> Node | None:
    """The tree of ``text``; None for a file without a document.

    Problems that leave a complete tree (duplicate keys, tags, an undefined alias) are
    added to ``problems`` so the schema can still be checked; the others (syntax, depth,
    size, recursion, several documents) raise ``Rejected`` with everything found so far.
    """
    composer = _Composer(problems)
    events: Iterator[Any] = yaml.parse(text, Loader=_Loader)
    try:
        for event in events:
            composer.feed(event)
    except yaml.YAMLError as error:
        problems.extend([_syntax_problem(error, text)])
        raise Rejected(problems.sorted()) from None
    return composer.root


def plain(node: Node) -> Any:
    """The node as strict-JSON data (dicts, lists, scalars); bounded by MAX_VALUES.

    Infinities and NaN (``.inf``, ``.nan``) are not JSON, so they stay as their text.
    """
    if isinstance(node, Scalar):
        value = node.value
        return node.text if isinstance(value, float) and not math.isfinite(value) else value
    if isinstance(node, Seq):
        return [plain(item) for item in node.items]
    return {key: plain(value) for key, (_line, value) in node.entries.items()}
