"""Load and validate an experiment file: every problem at once, nothing imported or run.

The pipeline: read the bytes (bounded, before anything else: size cap, NUL bytes, UTF-8)
→ ``yamlsafe.compose`` (a line-marked node tree; tags, alias bombs, depth, duplicate keys
and extra documents refused) → the section builders (``sections``, ``probes``,
``faults``), which all append to one ``Problems`` collector → either an ``Experiment`` or
one ``errors.ValidationFailed`` listing every problem with its path and line. The
schema is still checked after YAML problems that leave a whole tree (a duplicate key, a
tag), and says nothing more about a path the YAML layer already flagged.

Errors: a file that cannot be read as text (missing, a directory, unreadable, too big,
binary, not UTF-8) is an ``errors.InputError`` with one paragraph; everything after that
is a ``ValidationFailed``. Both exit 2. ``check`` returns the same as ``Problem`` values
and never raises. The environment (for ``${ENV_VAR}`` in headers) is injected.
Top-level keys starting with ``x-`` are ignored (docker-compose's convention), so shared
settings can live under an anchor: ``x-slow: &slow {delay: 200ms}``.
A Chaos Toolkit experiment (``method``, ``steady-state-hypothesis``, ``rollbacks`` and no
``faults``; JSON or YAML) is built by ``runner.model.ctk.load`` into the same model.
Only the stdlib and pyyaml are imported: ``gameday validate`` must start fast.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from runner import errors
from runner.model import document, durations, faults, fields, probes, sections, yamlsafe
from runner.model import experiment as model
from runner.model import problems as probs
from runner.model.ctk import load as ctk_load

Problem = probs.Problem
parse_duration = durations.parse_duration

TOP_KEYS = (
    "version", "title", "owner", "description", "target", "blast_radius", "prometheus",
    "steady_state", "faults", "duration", "abort", "recovery", "seed",
)
REQUIRED = ("title", "steady_state", "faults", "duration")
SUPPORTED_VERSION = 1
EXTENSION_PREFIX = "x-"  # top-level keys kept for anchors and tooling, otherwise ignored


def load(path: str | Path, *, environ: Mapping[str, str] | None = None) -> model.Experiment:
    """The validated experiment in ``path``; raises ``InputError`` or ``ValidationFailed``."""
    return load_text(read_bytes(path), str(path), environ=environ)


def load_text(
    text: str | bytes, source: str, *, environ: Mapping[str, str] | None = None
) -> model.Experiment:
    """The validated experiment in ``text``; ``source`` names it in messages."""
    experiment, found = _analyse(text, source, os.environ if environ is None else environ)
    if found or experiment is None:
        raise errors.ValidationFailed(source, [str(p) for p in found])
    return experiment


def check(path: str | Path, *, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem of the file at ``path`` (empty when valid); never raises."""
    try:
        data = read_bytes(path)
    except errors.InputError as error:
        return [Problem("", None, error.message, "file")]
    return check_text(data, str(path), environ=environ)


def check_text(
    text: str | bytes, source: str, *, environ: Mapping[str, str] | None = None
) -> list[Problem]:
    """Every problem of ``text`` (empty when valid); never raises."""
    try:
        _experiment, found = _analyse(text, source, os.environ if environ is None else environ)
    except errors.InputError as error:
        return [Problem("", None, error.message, "file")]
    return found


def from_tree(
    root: yamlsafe.Node | None, source: str, problems: probs.Problems, *,
    environ: Mapping[str, str] | None = None, base: Path | None = None, sha256: str = "",
) -> model.Experiment | None:
    """An experiment from an already composed tree (a game day's experiment, with the
    day's defaults and the entry's overrides applied); every problem goes to the fresh
    collector ``problems``, and None is returned when there is any."""
    experiment = _build(fields.Reader(problems), root,
                        os.environ if environ is None else environ, base)
    if experiment is None or problems:
        return None
    return dataclasses.replace(experiment, source=source, sha256=sha256)


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, refusing directories and files over ``yamlsafe.MAX_BYTES``."""
    name = str(path)
    try:
        if os.path.isdir(path):
            raise errors.InputError(
                f"{name} is a directory; give the path of an experiment file inside it "
                "(e.g. experiments/checkout.yaml)."
            )
        size = os.stat(path).st_size
        if size > yamlsafe.MAX_BYTES:
            raise _too_big(name, size)
        with open(path, "rb") as stream:
            data = stream.read(yamlsafe.MAX_BYTES + 1)
    except FileNotFoundError:
        raise errors.InputError(
            f"{name}: no such file; check the path (relative paths start from "
            f"{os.getcwd()})."
        ) from None
    except PermissionError:
        raise errors.InputError(
            f"{name}: permission denied; gameday needs to read this file, so check its mode "
            "and owner (e.g. chmod a+r)."
        ) from None
    except OSError as error:
        raise errors.InputError(
            f"{name}: cannot be read ({error.strerror or error}); check the path."
        ) from None
    if len(data) > yamlsafe.MAX_BYTES:
        raise _too_big(name, None)
    return data


def _too_big(name: str, size: int | None) -> errors.InputError:
    actual = f" ({size} bytes)" if size is not None else ""
    return errors.InputError(
        f"{name} is larger than {yamlsafe.MAX_BYTES // 1024} KiB{actual}; an experiment "
        "file is a few KiB. Is this the right file?"
    )


def decode(data: bytes, source: str) -> str:
    """UTF-8 text (a BOM is dropped); NUL bytes or invalid UTF-8 are an ``InputError``."""
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise errors.InputError(
            f"{source} looks binary (a NUL byte at line {line}); an experiment is a YAML text "
            "file in UTF-8. If it is UTF-16, save it as UTF-8."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        raise errors.InputError(
            f"{source} is not UTF-8 text (byte 0x{byte:02x} at line {line}); save it as "
            "UTF-8."
        ) from None


def _analyse(
    text: str | bytes, source: str, environ: Mapping[str, str]
) -> tuple[model.Experiment | None, list[Problem]]:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > yamlsafe.MAX_BYTES:
        raise _too_big(source, len(raw))
    decoded = decode(raw, source) if isinstance(text, bytes) else text
    collected = probs.Problems()
    try:
        root = yamlsafe.compose(decoded, collected)
    except yamlsafe.Rejected as rejected:
        return None, rejected.problems
    said = {(p.path, p.line) for p in collected.sorted()}
    schema = probs.Problems()
    base = None if source.startswith("<") else Path(source).parent
    experiment = _build(fields.Reader(schema), root, environ, base)
    collected.extend(p for p in schema.sorted() if (p.path, p.line) not in said)
    if experiment is None or collected:
        return None, collected.sorted()
    sha = hashlib.sha256(raw).hexdigest()
    return dataclasses.replace(experiment, source=source, sha256=sha), []


def _build(
    read: fields.Reader, root: yamlsafe.Node | None, environ: Mapping[str, str],
    base: Path | None = None,
) -> model.Experiment | None:
    if root is None:
        read.fail(None, "", "the file is empty (no YAML document); an experiment needs at "
                  "least title, steady_state, faults and duration.", "missing")
        return None
    if not isinstance(root, yamlsafe.Map):
        read.fail(root, "", "the top level must be a mapping of keys (title:, steady_state:, "
                  f"faults:, duration: ...), found {fields.found(root)}.", "type")
        return None
    if ctk_load.is_chaos_toolkit(root):  # method, steady-state-hypothesis, rollbacks
        return ctk_load.build(read, root, environ, base)
    kind = root.entries.get("kind")
    if kind is not None and isinstance(kind[1], yamlsafe.Scalar) and kind[1].value == "gameday":
        read.fail(kind[1], "kind", "this is a game-day file (kind: gameday), not an experiment: "
                  "plan it with `gameday day plan FILE` and run it with `gameday day run FILE`.",
                  "unknown")
        return None
    extensions = tuple(key for key in root.entries if key.startswith(EXTENSION_PREFIX))
    values = read.mapping(root, "", allowed=(*TOP_KEYS, *extensions), required=REQUIRED)
    assert values is not None
    target = sections.target(read, values.get("target"))
    blast = sections.blast_radius(read, values.get("blast_radius"), target, root)
    seed = read.integer(values["seed"], "seed") if "seed" in values else None
    ctx = faults.Context(target, blast, seed)
    if target.platform == "kubernetes" and target.namespace is not None:
        at = values["target"]
        assert isinstance(at, yamlsafe.Map)
        faults.check_namespace(read, at.entries["namespace"][1], "target.namespace",
                               target.namespace, ctx)
    prom = sections.prometheus(read, values.get("prometheus"), target, environ, root,
                               base=base)
    tick = prom.tick
    steady = probes.steady_state(read, values["steady_state"], tick, target.namespace) \
        if "steady_state" in values else None
    fault_list = faults.faults(read, values["faults"], ctx) if "faults" in values else ()
    duration = None
    if "duration" in values:
        duration = read.duration(values["duration"], "duration")
        if duration is not None and duration < tick:
            read.fail(values["duration"], "duration", f"the fault window ({duration:g}s) is "
                      f"shorter than one tick ({tick:g}s); give it at least one tick")
    version = SUPPORTED_VERSION
    if "version" in values:
        given = read.integer(values["version"], "version")
        if given is not None and given != SUPPORTED_VERSION:
            read.fail(values["version"], "version", f"version {given} is not supported; this "
                      f"gameday reads version {SUPPORTED_VERSION}")
    text = {key: read.string(values[key], key, what=f"a {key}") if key in values else None
            for key in ("title", "owner", "description")}
    abort = sections.abort(read, values.get("abort"), tick, steady)
    recovery = sections.recovery(read, values.get("recovery"), tick)
    if steady is None or duration is None or text["title"] is None:
        return None
    return model.Experiment(
        title=text["title"].strip(), target=target, prometheus=prom, steady_state=steady,
        faults=fault_list, duration=duration, version=version, owner=text["owner"],
        description=text["description"], blast_radius=blast, abort=abort, recovery=recovery,
        seed=seed, document=document.redact(yamlsafe.plain(root)),
    )
