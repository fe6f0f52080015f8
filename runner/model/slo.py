"""SLO vocabulary shared by experiments and game days: targets, burn-rate rules, queries.

An experiment's ``abort: [{burn-rate: {...}}]`` and a game day's ``burn-rate`` and
``error-budget`` gates speak the same words, so they are read by the same code.
Decisions:

- ``slo`` is a ratio strictly between 0 and 1: ``99.9%`` or ``0.999``.
- A burn-rate rule lists ``windows`` as ``[duration, factor]`` pairs and is hot only when
  every window is above its factor (the SRE workbook's multi-window rule). Without
  ``windows`` it is the workbook's page rule: ``[[5m, 14.4], [1h, 14.4]]``.
- The events are ``bad`` (or ``good``) and ``total`` counter series selectors; gameday
  takes their increase over each window itself. In an experiment they default to the
  steady state's ratio probe (``probe:`` names it when there are several), so the burn
  rate watches what the hypothesis watches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from runner.model import durations, fields, syntax
from runner.model import experiment as model
from runner.model import problems as probs
from runner.model.yamlsafe import Node, Seq

#: The SRE workbook's fast-burn page: 2 % of a 30-day budget in an hour, confirmed over 5m.
DEFAULT_WINDOWS = (model.BurnWindow(300.0, 14.4), model.BurnWindow(3600.0, 14.4))
BURN_KEYS = ("slo", "windows", "bad", "good", "total", "probe")
GATE_BURN_KEYS = ("slo", "windows", "bad", "good", "total")


def target(read: fields.Reader, node: Node, path: str) -> float | None:
    """An SLO target such as ``99.9%`` (0 < slo < 1)."""
    return read.parsed(node, path, durations.parse_ratio, low=0.0, high=1.0,
                       open_low=True, open_high=True)


def windows(read: fields.Reader, node: Node, path: str) -> tuple[model.BurnWindow, ...]:
    items = read.sequence(node, path, what="[duration, factor] pairs")
    if items is None:
        return ()
    if not items:
        read.fail(node, path, "list at least one [duration, factor] pair, e.g. [[5m, 14.4], "
                  "[1h, 14.4]]", "missing")
    found: list[model.BurnWindow] = []
    for index, item in enumerate(items):
        where = probs.index_path(path, index)
        if not isinstance(item, Seq) or len(item.items) != 2:
            read.fail(item, where, f"expected a [duration, factor] pair such as [5m, 14.4], "
                      f"found {fields.found(item)}", "type")
            continue
        seconds = read.duration(item.items[0], f"{where}[0]")
        factor = read.number(item.items[1], f"{where}[1]", low=0.0, open_low=True)
        if seconds is not None and factor is not None:
            found.append(model.BurnWindow(seconds, factor))
    seen = [w.seconds for w in found]
    if len(set(seen)) != len(seen):
        read.fail(node, path, "a window is listed twice; give each duration once", "duplicate")
    return tuple(found)


def events(read: fields.Reader, values: dict[str, Node], path: str, *, node: Node,
           required: bool) -> tuple[str | None, str | None, str | None]:
    """``(bad, good, total)`` counter selectors; exactly one of bad and good with total."""
    text: dict[str, str | None] = {}
    for key in ("bad", "good", "total"):
        text[key] = None
        if key in values:
            value = read.string(values[key], f"{path}.{key}", what="a counter series selector")
            if value is not None and (bad := syntax.series_selector(value.strip())) is not None:
                read.fail(values[key], f"{path}.{key}", bad)
            elif value is not None:
                text[key] = value.strip()
    given = [k for k in ("bad", "good") if k in values]
    if len(given) == 2:
        read.fail(node, path, "give either bad or good (with total), not both", "conflict")
    if given and "total" not in values:
        read.fail(node, f"{path}.total", "'total' is required with bad or good", "missing")
    if "total" in values and not given:
        read.fail(node, path, "give bad (failed events) or good (successful events) with "
                  "total", "missing")
    if required and not given and "total" not in values:
        read.fail(node, path, "give the events: bad (or good) and total counter series "
                  "selectors", "missing")
    return text["bad"], text["good"], text["total"]


def burn_rate(read: fields.Reader, node: Node, path: str, *,
              probes: Sequence[model.Probe] | None) -> model.BurnRate | None:
    """A burn-rate rule. ``probes`` (an experiment's) lend their ratio selectors by
    default; None (a game day's gate) makes the selectors required."""
    allowed = BURN_KEYS if probes is not None else GATE_BURN_KEYS
    values = read.mapping(node, path, allowed=allowed, required=("slo",), what="burn-rate key")
    if values is None:
        return None
    slo = target(read, values["slo"], f"{path}.slo") if "slo" in values else None
    rule_windows = windows(read, values["windows"], f"{path}.windows") \
        if "windows" in values else DEFAULT_WINDOWS
    explicit = any(k in values for k in ("bad", "good", "total"))
    if explicit and "probe" in values:
        read.fail(node, path, "give either probe or the bad/good/total selectors, not both",
                  "conflict")
    bad, good, total = events(read, values, path, node=node, required=probes is None)
    if not explicit and probes is not None:
        ratio = _probe(read, values, path, node, probes)
        if ratio is not None:
            bad, total = ratio.errors, ratio.total
    if slo is None or total is None or (bad is None and good is None) or not rule_windows:
        return None
    return model.BurnRate(slo=slo, windows=rule_windows, total=total, bad=bad, good=good)


def _probe(read: fields.Reader, values: dict[str, Node], path: str, node: Node,
           probes: Sequence[model.Probe]) -> model.RatioProbe | None:
    ratios = [p for p in probes if isinstance(p, model.RatioProbe)]
    if "probe" in values:
        name = read.string(values["probe"], f"{path}.probe", what="a ratio probe's name")
        if name is None:
            return None
        chosen = next((p for p in ratios if p.name == name), None)
        if chosen is None:
            read.fail(values["probe"], f"{path}.probe", probs.unknown_message(
                "ratio probe", name, [p.name for p in ratios] or ["(no ratio probe)"]),
                "unknown")
        return chosen
    if len(ratios) == 1:
        return ratios[0]
    if not probes:
        return None  # the steady state has problems of its own, already reported
    read.fail(node, path, "say which events to watch: probe: <a ratio probe's name>, or "
              "bad (or good) and total selectors" + (
                  f" (the steady state has {len(ratios)} ratio probes)" if ratios else
                  " (the steady state has no ratio probe)"), "missing")
    return None


# -- evaluation (pure): what a burn-rate rule says about measured error ratios -------------

def promql_duration(seconds: float) -> str:
    """Seconds as a PromQL range duration (``300s``, ``1500ms``)."""
    return f"{seconds:.0f}s" if float(seconds).is_integer() else f"{round(seconds * 1000)}ms"


def error_ratio_query(rule: model.BurnRate, seconds: float) -> str:
    """PromQL for the error ratio of ``rule``'s events over the last ``seconds``.

    No bad series yet (nothing failed) reads as zero failures; no total series reads as
    no answer (an empty result: unknown, never "healthy").
    """
    w = promql_duration(seconds)
    total = f"sum(increase({rule.total}[{w}]))"
    if rule.bad is not None:
        return f"(sum(increase({rule.bad}[{w}])) or vector(0)) / {total}"
    return f"1 - ((sum(increase({rule.good}[{w}])) or vector(0)) / {total})"


@dataclasses.dataclass(frozen=True)
class WindowBurn:
    """One window: the error ratio measured there and the burn rate it means."""

    seconds: float
    factor: float
    ratio: float | None  # None: not known (no traffic, no answer)

    def burn(self, slo_target: float) -> float | None:
        if self.ratio is None:
            return None
        return self.ratio / (1.0 - slo_target)


@dataclasses.dataclass(frozen=True)
class Burn:
    """A burn-rate rule evaluated: hot only when every window is known and above its factor."""

    slo: float
    windows: tuple[WindowBurn, ...]

    @property
    def hot(self) -> bool:
        return bool(self.windows) and all(
            (b := w.burn(self.slo)) is not None and b > w.factor for w in self.windows)

    def sentence(self) -> str:
        """``burn rate 21.3x over 5m (> 14.4) and 7.1x over 1h (> 6) of the 99.9 % SLO``."""
        parts = []
        for w in self.windows:
            burn = w.burn(self.slo)
            shown = "unknown (no traffic or no answer)" if burn is None else f"{burn:.3g}x"
            mark = ">" if burn is not None and burn > w.factor else "<="
            parts.append(f"{shown} over {_short_duration(w.seconds)} "
                         f"({mark} {w.factor:g})" if burn is not None else
                         f"{shown} over {_short_duration(w.seconds)}")
        return (f"burn rate {' and '.join(parts)} of the {self.slo * 100:.4g} % SLO "
                f"({'hot' if self.hot else 'not hot'})")

    def to_dict(self) -> dict[str, object]:
        return {"slo": self.slo, "hot": self.hot, "windows": [
            {"seconds": w.seconds, "factor": w.factor, "error_ratio": w.ratio,
             "burn_rate": w.burn(self.slo)} for w in self.windows]}


def evaluate(rule: model.BurnRate, ratios: Sequence[float | None]) -> Burn:
    """The rule over measured error ratios, one per window in ``rule.windows`` order."""
    return Burn(rule.slo, tuple(WindowBurn(w.seconds, w.factor, r)
                                for w, r in zip(rule.windows, ratios, strict=True)))


def _short_duration(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:g}s"
