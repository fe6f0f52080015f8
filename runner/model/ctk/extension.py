"""The ``gameday`` entry of a Chaos Toolkit experiment's ``extensions``: gameday's statistics.

``extensions`` is Chaos Toolkit's own place for tool-specific data (``chaos run`` ignores
what it does not know). An entry ``{"name": "gameday", ...}`` may hold the native
sections ``target``, ``blast_radius``, ``prometheus``, ``steady_state`` (sequential
Prometheus probes and guardrails), ``abort``, ``duration`` (how long the window stays
open after the method) and ``recovery``; they are read by the native builders, so they
mean exactly what they mean in a native experiment, and their problems are reported
under ``extensions[i].<section>``. One exception: ``ready_replicas`` probes read the
platform's API, which a Chaos Toolkit run has for the local sandbox only; on a
Kubernetes target they are refused (a gauge probe reads the same from Prometheus).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from runner.model import experiment as model
from runner.model import fields, probes, sections
from runner.model import problems as probs
from runner.model.yamlsafe import Map, Node

NAME = "gameday"
KEYS = ("name", "target", "blast_radius", "prometheus", "steady_state", "abort", "duration",
        "recovery")
#: The tick when the extension names no Prometheus: only tolerance checks, no reads.
TICK_WITHOUT_PROMETHEUS = 1.0


@dataclasses.dataclass(frozen=True)
class Gameday:
    """What the extension adds (defaults when the file has no gameday entry)."""

    target: model.Target = dataclasses.field(default_factory=model.Target)
    target_given: bool = False
    blast_radius: model.BlastRadius = dataclasses.field(default_factory=model.BlastRadius)
    prometheus: model.PrometheusConfig = dataclasses.field(
        default_factory=lambda: model.PrometheusConfig(tick=TICK_WITHOUT_PROMETHEUS))
    steady_state: model.SteadyState = dataclasses.field(
        default_factory=lambda: model.SteadyState(probes=(), baseline=0.0))
    abort: model.AbortPolicy = dataclasses.field(default_factory=model.AbortPolicy)
    duration: float = 0.0
    recovery: model.Recovery = dataclasses.field(default_factory=model.Recovery)
    given: bool = False


def extensions(read: fields.Reader, node: Node, environ: Mapping[str, str],
               base: Path | None) -> Gameday:
    items = read.sequence(node, "extensions", what="extensions (mappings with a name)") or []
    found = Gameday()
    for index, item in enumerate(items):
        path = probs.index_path("extensions", index)
        if not isinstance(item, Map) or "name" not in item.entries:
            read.fail(item, f"{path}.name", "each extension is a mapping with a name",
                      "missing")
            continue
        name = read.string(item.entries["name"][1], f"{path}.name", what="an extension name")
        if name == NAME:
            if found.given:
                read.fail(item, path, "the gameday extension is given twice", "duplicate")
                continue
            found = _gameday(read, item, path, environ, base)
    return found


def _gameday(read: fields.Reader, node: Map, path: str, environ: Mapping[str, str],
             base: Path | None) -> Gameday:
    inner = fields.Reader(probs.Problems())
    values = inner.mapping(node, "", allowed=KEYS, what="key of the gameday extension") or {}
    target = sections.target(inner, values.get("target"))
    blast = sections.blast_radius(inner, values.get("blast_radius"), target, node)
    prom = sections.prometheus(inner, values.get("prometheus"), target, environ, node,
                               base=base) if "prometheus" in values else \
        model.PrometheusConfig(tick=TICK_WITHOUT_PROMETHEUS)
    steady = model.SteadyState(probes=(), baseline=0.0)
    if "steady_state" in values:
        steady = probes.steady_state(inner, values["steady_state"], prom.tick,
                                     target.namespace) or steady
        if "prometheus" not in values:
            inner.fail(values["steady_state"], "prometheus", "Prometheus probes need a "
                       "prometheus section (url: sandbox for the local sandbox's)", "missing")
    if target.platform == "kubernetes" and any(
            isinstance(p, model.ReadyReplicasProbe) for p in steady.probes):
        inner.fail(values["steady_state"], "steady_state.probes", "ready_replicas probes "
                   "read the platform's API, and a Chaos Toolkit run has no Kubernetes "
                   "platform: use a gauge probe on kube_deployment_status_replicas_available "
                   "instead", "conflict")
    duration = 0.0
    if "duration" in values:
        duration = inner.duration(values["duration"], "duration", positive=False) or 0.0
    abort = sections.abort(inner, values.get("abort"), prom.tick)
    recovery = sections.recovery(inner, values.get("recovery"), prom.tick)
    for problem in inner.problems.sorted():
        where = f"{path}.{problem.path}" if problem.path else path
        read.problems.add(where, problem.line, problem.message, problem.kind)
    return Gameday(target=target, target_given="target" in values, blast_radius=blast,
                   prometheus=prom, steady_state=steady, abort=abort, duration=duration,
                   recovery=recovery, given=True)
