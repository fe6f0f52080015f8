"""A Chaos Toolkit experiment file into ``model.Experiment`` (called by ``model.loader``).

Decisions:

- The file is read exactly as ``chaos run`` reads it (JSON is YAML here, with lines),
  and nothing in it is resolved: ``${name}`` placeholders, environment variables and
  configuration probes are the run's business (``runner.adapters.ctk``), as in chaoslib.
- ``title``, ``description`` and ``method`` are required, as ``chaos validate`` requires
  them; unknown top-level keys are refused with a suggestion (``x-`` keys are kept for
  anchors); every problem is reported at once, with its path and line.
- A ``ref`` is resolved as chaoslib's activity cache resolves it: by name among the
  method's activities and then the hypothesis probes (a later one wins). The model
  holds the resolved activity, so the journal records what actually ran.
- The method's actions become the experiment's ``faults`` (``ActionFault`` without a
  revert: the rollbacks are the revert group of the whole method), and the method
  itself a ``model.Method``; the hypothesis, configuration, secrets and controls go to
  ``spec.Spec`` for the adapters. The journaled ``document`` is the file as written,
  redacted (``secrets`` and secret-looking keys never enter the journal).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.model import document, fields, yamlsafe
from runner.model import experiment as model
from runner.model import problems as probs
from runner.model.ctk import activity as activity_mod
from runner.model.ctk import extension, sections, spec
from runner.model.yamlsafe import Map, Node

TOP_KEYS = ("version", "title", "description", "tags", "contributions", "configuration",
            "secrets", "controls", "steady-state-hypothesis", "method", "rollbacks",
            "extensions", "runtime")
REQUIRED = ("title", "description", "method")
MARKERS = ("method", "steady-state-hypothesis", "rollbacks")


def is_chaos_toolkit(root: Node | None) -> bool:
    """Whether the file is a Chaos Toolkit experiment (``method``, no native ``faults``)."""
    return isinstance(root, Map) and "faults" not in root.entries \
        and any(key in root.entries for key in MARKERS)


def build(read: fields.Reader, root: Map, environ: Mapping[str, str],
          base: Path | None) -> model.Experiment | None:
    extras = tuple(key for key in root.entries if key.startswith("x-"))
    values = read.mapping(root, "", allowed=(*TOP_KEYS, *extras), required=REQUIRED)
    assert values is not None
    text = {key: read.string(values[key], key, what=f"a {key}") if key in values else None
            for key in ("title", "description")}
    for key, check in (("version", sections.version), ("tags", sections.tags),
                       ("contributions", sections.contributions)):
        if key in values:
            check(read, values[key])
    configuration = sections.configuration(read, values["configuration"]) \
        if "configuration" in values else {}
    secrets = sections.secrets(read, values["secrets"]) if "secrets" in values else {}
    if "controls" in values:
        activity_mod.controls(read, values["controls"], "controls")
    hypothesis_title, probes = _hypothesis(read, values.get("steady-state-hypothesis"))
    method = _activities(read, values.get("method"), "method")
    rollbacks = _activities(read, values.get("rollbacks"), "rollbacks")
    hypothesis_strategy, rollback_strategy = sections.runtime(read, values["runtime"]) \
        if "runtime" in values else (None, None)
    ext = extension.extensions(read, values["extensions"], environ, base) \
        if "extensions" in values else extension.Gameday()
    cache = _cache(method, probes)
    steps = _steps(read, method, values.get("method"), cache)
    resolved_rollbacks = tuple(_resolve(read, a, cache, f"rollbacks[{i}]",
                                        values.get("rollbacks"), i)
                               for i, a in enumerate(rollbacks))
    hypothesis = tuple(_resolve_probe(read, p, cache, i, values.get("steady-state-hypothesis"))
                       for i, p in enumerate(probes))
    if text["title"] is None or read.problems:
        return None
    plain = yamlsafe.plain(root)
    return model.Experiment(
        title=text["title"].strip(), description=text["description"], target=ext.target,
        prometheus=ext.prometheus, steady_state=ext.steady_state,
        faults=tuple(model.ActionFault(action=s.activity, revert=None, name=s.name)
                     for s in steps if s.kind == "action"),
        duration=ext.duration, blast_radius=ext.blast_radius, abort=ext.abort,
        recovery=ext.recovery, document=document.redact(plain),
        method=model.Method(steps=steps, rollbacks=resolved_rollbacks,
                            rollback_strategy=rollback_strategy,  # type: ignore[arg-type]
                            hypothesis_strategy=hypothesis_strategy),
        ctk=spec.Spec(document=plain, configuration=configuration, secrets=secrets,
                      hypothesis_title=hypothesis_title, hypothesis=hypothesis,
                      controls=_controls(plain),
                      gameday_extension=ext.given, target_given=ext.target_given),
    )


def _hypothesis(read: fields.Reader, node: Node | None
                ) -> tuple[str | None, list[dict[str, Any]]]:
    if node is None:
        return None, []
    path = "steady-state-hypothesis"
    values = read.mapping(node, path, allowed=("title", "probes", "controls"),
                          required=("title",))
    if values is None:
        return None, []
    title = read.string(values["title"], f"{path}.title", what="a title") \
        if "title" in values else None
    if "controls" in values:
        activity_mod.controls(read, values["controls"], f"{path}.controls")
    probes: list[dict[str, Any]] = []
    for index, item in enumerate(read.sequence(values["probes"], f"{path}.probes",
                                               what="probes") or [] if "probes" in values
                                 else []):
        found = activity_mod.activity(read, item, f"{path}.probes[{index}]", "hypothesis")
        probes.append(found or {})
    return title, probes


def _activities(read: fields.Reader, node: Node | None, path: str) -> list[dict[str, Any]]:
    if node is None:
        return []
    items = read.sequence(node, path, what="activities") or []
    where: activity_mod.Where = "method" if path == "method" else "rollbacks"
    return [activity_mod.activity(read, item, probs.index_path(path, i), where) or {}
            for i, item in enumerate(items)]


def _cache(method: list[dict[str, Any]], probes: list[dict[str, Any]]
           ) -> dict[str, dict[str, Any]]:
    """chaoslib's activity cache: by name, method first, then the hypothesis probes."""
    cache: dict[str, dict[str, Any]] = {}
    for found in [*method, *probes]:
        if isinstance(found.get("name"), str) and "ref" not in found:
            cache[found["name"]] = found
    return cache


def _line(node: Node | None, index: int) -> Node | None:
    if isinstance(node, yamlsafe.Seq) and index < len(node.items):
        return node.items[index]
    return node


def _resolve(read: fields.Reader, found: dict[str, Any], cache: Mapping[str, dict[str, Any]],
             path: str, node: Node | None, index: int) -> dict[str, Any]:
    if "ref" not in found:
        return found
    target = cache.get(str(found["ref"]))
    if target is None:
        read.fail(_line(node, index), f"{path}.ref", f"{found['ref']!r} names no activity of "
                  "the method or the hypothesis (a ref names an activity by its name)")
        return {}
    return target


def _resolve_probe(read: fields.Reader, found: dict[str, Any],
                   cache: Mapping[str, dict[str, Any]], index: int,
                   node: Node | None) -> dict[str, Any]:
    if "ref" not in found:
        return found
    probes = node.entries.get("probes", (0, None))[1] if isinstance(node, Map) else None
    target = _resolve(read, found, cache, f"steady-state-hypothesis.probes[{index}]", probes,
                      index)
    return {**target, "tolerance": found.get("tolerance")} if target else {}


def _steps(read: fields.Reader, method: list[dict[str, Any]], node: Node | None,
           cache: Mapping[str, dict[str, Any]]) -> tuple[model.Step, ...]:
    steps: list[model.Step] = []
    for index, written in enumerate(method):
        found = _resolve(read, written, cache, f"method[{index}]", node, index)
        if not found:
            continue
        pauses = found.get("pauses") or {}
        steps.append(model.Step(
            index=index, kind="probe" if found.get("type") == "probe" else "action",
            name=str(found.get("name")), activity=found,
            background=bool(found.get("background")),
            pause_before=pauses.get("before"), pause_after=pauses.get("after"),
            checked=found.get("type") == "probe" and "tolerance" in found))
    return tuple(steps)


def _controls(plain: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []

    def visit(controls: Any) -> None:
        for control in controls if isinstance(controls, list) else []:
            module = (control.get("provider") or {}).get("module") \
                if isinstance(control, Mapping) else None
            if isinstance(module, str) and module not in {m for _n, m in found}:
                found.append((str(control.get("name")), module))

    visit(plain.get("controls"))
    hypothesis = plain.get("steady-state-hypothesis") or {}
    visit(hypothesis.get("controls") if isinstance(hypothesis, Mapping) else None)
    for section in ("method", "rollbacks"):
        for entry in plain.get(section) or []:
            visit(entry.get("controls") if isinstance(entry, Mapping) else None)
    for probe in hypothesis.get("probes") or [] if isinstance(hypothesis, Mapping) else []:
        visit(probe.get("controls") if isinstance(probe, Mapping) else None)
    return tuple(found)
