"""The ``steady_state`` section: the hypothesis and its probes, node tree to dataclasses.

``history`` (``7d`` or ``{last: 7d, above_alpha: warn|refuse}``) asks ``gameday plan``
and ``run`` to replay that much history before any fault; ``against: history`` (which
implies ``history: 7d``) calibrates the abort threshold on it.

A probe is a mapping with a ``name`` and exactly one kind key (``ratio``, ``latency``,
``gauge``, ``ready_replicas``); the kind decides which other keys are allowed, so a typo
is suggested against the right vocabulary. Decisions: ratios accept ``0.01`` or ``"1%"``;
a ratio probe without ``max`` compares with the pre-fault baseline; ``for`` is a
duration turned into whole ticks (``ceil(for / tick)``, at least 1); the baseline must
span at least ``MIN_BASELINE_TICKS`` ticks (the baseline bound needs a spread); and the
hypothesis needs at least one statistical probe (guardrails sit outside alpha and cannot
tell a healthy service from a sick one on their own).
"""

from __future__ import annotations

import dataclasses
import math

from runner.model import durations, fields, syntax
from runner.model import experiment as model
from runner.model import problems as probs
from runner.model.yamlsafe import Map, Node, Scalar

MIN_BASELINE_TICKS = 3

KINDS = ("ratio", "latency", "gauge", "ready_replicas")
_KEYS: dict[str, tuple[str, ...]] = {
    "ratio": ("name", "ratio", "max", "weight", "mode"),
    "latency": ("name", "latency", "quantile", "max", "weight", "mode"),
    "gauge": ("name", "gauge", "min", "max", "for"),
    "ready_replicas": ("name", "ready_replicas", "min", "for"),
}
_ALL_KEYS = tuple(dict.fromkeys(key for keys in _KEYS.values() for key in keys))
_MODES = ("default", "fast")


@dataclasses.dataclass(frozen=True)
class _Spec:
    """What a probe builder reads: the probe's values and the context they depend on."""

    read: fields.Reader
    values: dict[str, Node]
    path: str
    name: str
    tick: float
    namespace: str | None


def ticks(seconds: float, tick: float) -> int:
    """Whole ticks covering ``seconds`` (at least 1); tolerant of float noise."""
    return max(1, math.ceil(seconds / tick - 1e-9))


def steady_state(
    read: fields.Reader, node: Node, tick: float, namespace: str | None
) -> model.SteadyState | None:
    """The hypothesis; ``namespace`` is the target's, the default for ready_replicas."""
    path = "steady_state"
    values = read.mapping(
        node, path, allowed=("alpha", "baseline", "min_effect", "probes", "history", "against"),
        required=("probes",)
    )
    if values is None:
        return None
    defaults = model.SteadyState()
    alpha = baseline = min_effect = None
    if "alpha" in values:
        alpha = read.number(values["alpha"], f"{path}.alpha", low=0, high=0.5,
                            open_low=True, open_high=True)
    if "baseline" in values:
        baseline = read.duration(values["baseline"], f"{path}.baseline")
        if baseline is not None and baseline < MIN_BASELINE_TICKS * tick:
            read.fail(
                values["baseline"],
                f"{path}.baseline",
                f"the baseline ({baseline:g}s) must span at least {MIN_BASELINE_TICKS} ticks "
                f"of {tick:g}s, so write {MIN_BASELINE_TICKS * tick:g}s or more (or a "
                "shorter prometheus.tick)",
            )
    if "min_effect" in values:
        min_effect = read.number(values["min_effect"], f"{path}.min_effect", low=1,
                                 open_low=True)
    probes = _probes(read, values.get("probes"), tick, namespace)
    history, above = _history(read, values.get("history"), f"{path}.history")
    against = "slo"
    if "against" in values:
        against = read.choice(values["against"], f"{path}.against", ("slo", "history"),
                              what="threshold source") or "slo"
    if against == "history" and history is None:
        history = DEFAULT_HISTORY
    return model.SteadyState(
        alpha=defaults.alpha if alpha is None else alpha,
        baseline=defaults.baseline if baseline is None else baseline,
        probes=probes,
        min_effect=defaults.min_effect if min_effect is None else min_effect,
        history=history, history_above_alpha="refuse" if above == "refuse" else "warn",
        against="history" if against == "history" else "slo",
    )


#: How much history ``against: history`` replays when ``history`` does not say.
DEFAULT_HISTORY = 7 * 86_400.0


def _history(read: fields.Reader, node: Node | None, path: str) -> tuple[float | None, str]:
    """``history: 7d`` or ``history: {last: 7d, above_alpha: warn|refuse}``."""
    if node is None:
        return None, "warn"
    if isinstance(node, Map):
        values = read.mapping(node, path, allowed=("last", "above_alpha"), required=("last",))
        if values is None or "last" not in values:
            return None, "warn"
        seconds = read.duration(values["last"], f"{path}.last")
        above = "warn"
        if "above_alpha" in values:
            above = read.choice(values["above_alpha"], f"{path}.above_alpha",
                                ("warn", "refuse"), what="action") or "warn"
        return seconds, above
    return read.duration(node, path), "warn"


def _probes(
    read: fields.Reader, node: Node | None, tick: float, namespace: str | None
) -> tuple[model.Probe, ...]:
    path = "steady_state.probes"
    items = None if node is None else read.sequence(node, path, what="probes")
    if items is None:
        return ()
    if not items:
        read.fail(node, path, "the steady state needs at least one probe", "missing")
    built: list[model.Probe] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(items):
        item_path = probs.index_path(path, index)
        probe, name = _probe(read, item, item_path, tick, namespace)
        if name is not None and name in seen:
            read.fail(item, f"{item_path}.name", f"probe name {name!r} is already used "
                      f"by {seen[name]}; give each probe its own name", "duplicate")
        if name is not None:
            seen.setdefault(name, item_path)
        if probe is not None:
            built.append(probe)
    if items and len(built) == len(items) and not any(
        isinstance(p, model.RatioProbe | model.LatencyProbe) for p in built
    ):
        read.fail(node, path, "the steady state needs at least one ratio or latency probe; "
                  "guardrails (gauge, ready_replicas) alone cannot say the service is healthy",
                  "missing")
    return tuple(built)


def _probe(
    read: fields.Reader, node: Node, path: str, tick: float, namespace: str | None
) -> tuple[model.Probe | None, str | None]:
    """The probe (None if malformed) and its name (None if absent or malformed)."""
    kinds = [k for k in KINDS if isinstance(node, Map) and k in node.entries]
    if len(kinds) > 1:
        read.fail(node, path, f"a probe has exactly one kind, found {' and '.join(kinds)}; "
                  "split it into several probes", "conflict")
    allowed = (*_KEYS[kinds[0]], *kinds[1:]) if kinds else _ALL_KEYS
    values = read.mapping(node, path, allowed=allowed, required=("name",))
    if values is None:
        return None, None
    name = read.string(values["name"], f"{path}.name", what="a probe name") \
        if "name" in values else None
    if not kinds:
        read.fail(node, path, f"a probe needs one of {', '.join(KINDS)}", "missing")
        return None, name
    builders = {"ratio": _ratio, "latency": _latency, "gauge": _gauge,
                "ready_replicas": _ready_replicas}
    probe = builders[kinds[0]](_Spec(read, values, path, name or "?", tick, namespace))
    return (probe if name is not None else None), name


def _weight_mode(
    read: fields.Reader, values: dict[str, Node], path: str
) -> tuple[float, model.TestMode]:
    weight = 1.0
    if "weight" in values:
        weight = read.number(values["weight"], f"{path}.weight", low=0, open_low=True) or 1.0
    mode: model.TestMode = "default"
    if "mode" in values and read.choice(values["mode"], f"{path}.mode", _MODES,
                                        what="mode") == "fast":
        mode = "fast"
    return weight, mode


def _ratio(spec: _Spec) -> model.Probe | None:
    read, values, path, name = spec.read, spec.values, spec.path, spec.name
    inner = read.mapping(values["ratio"], f"{path}.ratio", allowed=("errors", "total"),
                         required=("errors", "total"))
    selectors: dict[str, str] = {}
    for key in ("errors", "total"):
        if inner is None or key not in inner:
            continue
        text = read.string(inner[key], f"{path}.ratio.{key}", what="a counter selector")
        if text is not None and (bad := syntax.series_selector(text)) is not None:
            read.fail(inner[key], f"{path}.ratio.{key}", bad)
        elif text is not None:
            selectors[key] = text.strip()
    slo = None
    if "max" in values:
        slo = read.parsed(values["max"], f"{path}.max", durations.parse_ratio,
                          low=0, high=1, open_low=True, open_high=True)
    weight, mode = _weight_mode(read, values, path)
    if len(selectors) != 2:
        return None
    return model.RatioProbe(name, selectors["errors"], selectors["total"], slo, weight, mode)


def _latency(spec: _Spec) -> model.Probe | None:
    read, values, path, name = spec.read, spec.values, spec.path, spec.name
    inner = read.mapping(values["latency"], f"{path}.latency", allowed=("histogram", "match"),
                         required=("histogram",))
    histogram = match = None
    if inner is not None and "histogram" in inner:
        histogram = read.string(inner["histogram"], f"{path}.latency.histogram",
                                what="a histogram metric name")
        if histogram is not None and (bad := syntax.metric_name(histogram)) is not None:
            read.fail(inner["histogram"], f"{path}.latency.histogram", bad)
    if inner is not None and "match" in inner:
        match = read.string(inner["match"], f"{path}.latency.match", what="label matchers")
        if match is not None and (bad := syntax.matchers(match)) is not None:
            read.fail(inner["match"], f"{path}.latency.match", bad)
    quantile = 0.99
    if "quantile" in values:
        quantile = read.number(values["quantile"], f"{path}.quantile", low=0, high=1,
                               open_low=True, open_high=True) or quantile
    threshold = None
    if "max" not in values:
        read.fail(values["latency"], path, "a latency probe needs 'max', the latency "
                  "threshold (e.g. max: 300ms)", "missing")
    elif isinstance(node := values["max"], Scalar) and durations.unitless(node.value):
        read.fail(node, f"{path}.max", f"a latency threshold needs a unit: write "
                  f"{node.value}ms or {node.value}s (a bare number is ambiguous, and "
                  "reading 300 as 300 seconds would never abort)")
    else:
        threshold = read.duration(values["max"], f"{path}.max")
    weight, mode = _weight_mode(read, values, path)
    if histogram is None or threshold is None:
        return None
    return model.LatencyProbe(name, histogram.strip(), threshold, quantile,
                              (match or "").strip(), weight, mode)


def _for_ticks(read: fields.Reader, values: dict[str, Node], path: str, tick: float) -> int:
    if "for" not in values:
        return 1
    seconds = read.duration(values["for"], f"{path}.for", positive=False)
    return 1 if seconds is None else ticks(seconds, tick)


def _gauge(spec: _Spec) -> model.Probe | None:
    read, values, path, name = spec.read, spec.values, spec.path, spec.name
    query = read.string(values["gauge"], f"{path}.gauge", what="a PromQL query")
    if query is not None and (bad := syntax.promql(query)) is not None:
        read.fail(values["gauge"], f"{path}.gauge", bad)
        query = None
    low = read.number(values["min"], f"{path}.min") if "min" in values else None
    high = read.number(values["max"], f"{path}.max") if "max" in values else None
    if "min" not in values and "max" not in values:
        read.fail(values["gauge"], path, "a gauge guardrail needs 'min', 'max' or both",
                  "missing")
    if low is not None and high is not None and low > high:
        read.fail(values["min"], f"{path}.min", f"min ({low:g}) is above max ({high:g})",
                  "conflict")
    for_ticks = _for_ticks(read, values, path, spec.tick)
    if query is None:
        return None
    return model.GaugeProbe(name, query.strip(), low, high, for_ticks)


def _ready_replicas(spec: _Spec) -> model.Probe | None:
    read, values, path, name = spec.read, spec.values, spec.path, spec.name
    inner_path = f"{path}.ready_replicas"
    inner = read.mapping(values["ready_replicas"], inner_path,
                         allowed=("workload", "kind", "namespace"), required=("workload",))
    workload = None
    namespace = spec.namespace
    kind: str | None = "Deployment"
    if inner is not None:
        if "workload" in inner:
            workload = read.string(inner["workload"], f"{inner_path}.workload",
                                   what="a workload name")
        if "kind" in inner:
            kind = read.choice(inner["kind"], f"{inner_path}.kind",
                               ("Deployment", "StatefulSet"), what="workload kind")
        if "namespace" in inner:
            namespace = read.string(inner["namespace"], f"{inner_path}.namespace",
                                    what="a namespace")
    minimum = 1
    if "min" in values:
        minimum = read.integer(values["min"], f"{path}.min", low=0) or 0
    for_ticks = _for_ticks(read, values, path, spec.tick)
    if workload is None:
        return None
    return model.ReadyReplicasProbe(name, workload, "StatefulSet" if kind == "StatefulSet"
                                    else "Deployment", namespace, minimum, for_ticks)
