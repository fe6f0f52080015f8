"""Load and validate a game-day file: every problem at once, nothing imported or run.

The pipeline mirrors the experiment loader's and reuses its parts: bounded bytes →
``yamlsafe.compose`` → the day's sections (``parse``) → for each entry, its experiment
tree (a file relative to the day file, or ``inline``) with the day's defaults and the
entry's overrides applied (``merge``) → the experiment loader's own builder
(``loader.from_tree``) → the run order (``queue.order``). Either a ``Day`` or one
``errors.ValidationFailed`` listing every problem (exit 2).

Where a problem is reported:
- in the day file: its dotted path and line (``experiments[2].needs (line 31)``);
- in an experiment file: under the entry that names it, with the path and line in that
  file (``experiments[0] (line 9): in checkout.yaml, faults[0].pod-kill.count (line 12):
  ...``); a problem in a default or override copied into it points at the day file's
  line, and is said once however many experiments inherit it.

Experiments keep their file's sha256 (``Experiment.sha256``, what ``gameday revert`` vouches
with); an inline experiment's source is ``<day file>#experiments[i]``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from runner import errors
from runner.day import entries as day_entries
from runner.day import model as day_model
from runner.day import parse
from runner.model import document, fields, sections, yamlsafe
from runner.model import experiment as model
from runner.model import loader as exp_loader
from runner.model import problems as probs
from runner.model.yamlsafe import Map, Node

Problem = probs.Problem
KIND = "gameday"
TOP_KEYS = ("version", "kind", "title", "owner", "description", "when", "defaults", "gates",
            "experiments")
REQUIRED = ("kind", "title", "experiments")
SUPPORTED_VERSION = 1


def load(path: str | Path, *, environ: Mapping[str, str] | None = None) -> day_model.Day:
    """The validated day in ``path``; raises ``InputError`` or ``ValidationFailed``."""
    data = exp_loader.read_bytes(path)
    day, found = _analyse(data, str(path), os.environ if environ is None else environ)
    if found or day is None:
        raise errors.ValidationFailed(str(path), [str(p) for p in found])
    return day


def check(path: str | Path, *, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem of the day file at ``path`` (empty when valid); never raises."""
    try:
        data = exp_loader.read_bytes(path)
        return _analyse(data, str(path), os.environ if environ is None else environ)[1]
    except errors.InputError as error:
        return [Problem("", None, error.message, "file")]


def is_day(path: str | Path) -> bool:
    """Whether ``path`` holds a game-day file (``kind: gameday`` at the top)."""
    try:
        text = exp_loader.decode(exp_loader.read_bytes(path), str(path))
        root = yamlsafe.compose(text, probs.Problems())
    except (errors.InputError, yamlsafe.Rejected):
        return False
    if not isinstance(root, Map) or "kind" not in root.entries:
        return False
    value = root.entries["kind"][1]
    return isinstance(value, yamlsafe.Scalar) and value.value == KIND


def _analyse(data: bytes, source: str, environ: Mapping[str, str],
             ) -> tuple[day_model.Day | None, list[Problem]]:
    text = exp_loader.decode(data, source)
    collected = probs.Problems()
    try:
        root = yamlsafe.compose(text, collected)
    except yamlsafe.Rejected as rejected:
        return None, rejected.problems
    said = {(p.path, p.line) for p in collected.sorted()}
    schema = probs.Problems()
    sha = hashlib.sha256(data).hexdigest()
    context = day_entries.Context(Path(source).parent, source, sha, environ)
    day = _build(fields.Reader(schema), root, context)
    collected.extend(p for p in schema.sorted() if (p.path, p.line) not in said)
    if day is None or collected:
        return None, collected.sorted()
    return dataclasses.replace(day, sha256=sha), []


def _build(read: fields.Reader, root: Node | None,
           context: day_entries.Context) -> day_model.Day | None:
    if not isinstance(root, Map):
        read.fail(root, "", "a game-day file is a mapping with kind: gameday, title and "
                  f"experiments; found {'nothing' if root is None else fields.found(root)}",
                  "type" if root is not None else "missing")
        return None
    values = read.mapping(root, "", allowed=TOP_KEYS, required=REQUIRED)
    assert values is not None
    if "kind" in values:
        read.choice(values["kind"], "kind", (KIND,), what="kind")
    if "version" in values:
        given = read.integer(values["version"], "version")
        if given is not None and given != SUPPORTED_VERSION:
            read.fail(values["version"], "version", f"version {given} is not supported; "
                      f"this gameday reads version {SUPPORTED_VERSION}")
    text = {key: read.string(values[key], key, what=f"a {key}") if key in values else None
            for key in ("title", "owner", "description")}
    window = parse.when(read, values["when"]) if "when" in values else None
    if "defaults" in values:
        context.defaults = parse.defaults(read, values["defaults"])
        context.default_lines = frozenset(day_entries.lines_of(values["defaults"]))
        _check_defaults(read, context)
    where = parse.Where(context.environ, context.base)
    gates = parse.gates(read, values["gates"], "gates", where) if "gates" in values else ()
    built = day_entries.entries(read, values.get("experiments"), context)
    if text["title"] is None or built is None:
        return None
    return day_model.Day(title=text["title"].strip(), experiments=built, owner=text["owner"],
                         description=text["description"], window=window, gates=gates,
                         source=context.source,
                         document=document.redact(yamlsafe.plain(root)))


def _check_defaults(read: fields.Reader, context: day_entries.Context) -> None:
    """The defaults on their own (an experiment that overrides one still has it checked),
    each problem said once under ``defaults.``."""
    if context.defaults is None:
        return
    found = probs.Problems()
    sub = fields.Reader(found)
    given = {k: v for k, (_line, v) in context.defaults.entries.items()}
    target = sections.target(sub, given["target"]) if "target" in given else model.Target()
    if "prometheus" in given:
        sections.prometheus(sub, given["prometheus"], target, context.environ,
                            context.defaults, base=context.base)
    if "blast_radius" in given:
        sections.blast_radius(sub, given["blast_radius"], target, context.defaults)
    steady = given.get("steady_state")
    if isinstance(steady, Map):
        for key, (_line, value) in steady.entries.items():
            path = f"steady_state.{key}"
            if key == "alpha":
                sub.number(value, path, low=0, high=0.5, open_low=True, open_high=True)
            elif key == "baseline":
                sub.duration(value, path)
            elif key == "min_effect":
                sub.number(value, path, low=1, open_low=True)
    for problem in found.sorted():
        path = f"defaults.{problem.path}"
        context.relayed.add((problem.line, path, problem.message))
        read.problems.add(path, problem.line, problem.message, problem.kind)
