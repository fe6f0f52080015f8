"""Per-tick reading of probes and the bookkeeping around it (pure helpers).

Turns the metrics source's and platform's readings into what the statistics and the
guardrails consume, and keeps the per-probe streak of ticks without data. A failing
read is "no data" for that tick, never a crash: blindness is an abort condition of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from runner import errors, ports
from runner.model import experiment as model
from runner.stats import monitor as stats


def stat_specs(steady: model.SteadyState) -> list[stats.ProbeSpec]:
    """ProbeSpecs for the sequential test: ratio p0 = max; latency p0 = 1 - quantile."""
    specs: list[stats.ProbeSpec] = []
    for probe in steady.stat_probes:
        if isinstance(probe, model.RatioProbe):
            specs.append(stats.ProbeSpec(probe.name, probe.max, probe.weight, probe.mode))
        else:
            p0 = 1.0 - probe.quantile
            specs.append(stats.ProbeSpec(probe.name, p0, probe.weight, probe.mode))
    return specs


@dataclasses.dataclass(frozen=True)
class Reading:
    """One tick's samples by probe name, and the read errors met (for the journal)."""

    samples: Mapping[str, ports.Sample]
    errors: tuple[str, ...] = ()

    def obs(self, steady: model.SteadyState) -> dict[str, stats.Obs | None]:
        out: dict[str, stats.Obs | None] = {}
        for probe in steady.stat_probes:
            sample = self.samples.get(probe.name)
            out[probe.name] = (
                stats.Obs(sample.n, sample.e) if isinstance(sample, ports.Counts) else None
            )
        return out

    def value(self, name: str) -> float | None:
        sample = self.samples.get(name)
        return sample.value if isinstance(sample, ports.Value) else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, sample in self.samples.items():
            if isinstance(sample, ports.Counts):
                out[name] = {"n": sample.n, "e": sample.e}
            elif isinstance(sample, ports.Value):
                out[name] = {"value": sample.value}
            else:
                out[name] = None
        return out


def read(
    steady: model.SteadyState, metrics: ports.MetricsSource, platform: ports.Platform
) -> Reading:
    """Read every probe once; failures become None samples plus an error sentence."""
    problems: list[str] = []
    prom_probes = [p for p in steady.probes if not isinstance(p, model.ReadyReplicasProbe)]
    samples: dict[str, ports.Sample] = {p.name: None for p in steady.probes}
    if prom_probes:
        try:
            samples.update(metrics.sample(prom_probes))
        except errors.GamedayError as exc:
            problems.append(exc.message)
        problems.extend(f"{name}: {text}" for name, text in metrics.read_errors().items())
    for probe in steady.probes:
        if isinstance(probe, model.ReadyReplicasProbe):
            try:
                value = platform.ready_replicas(probe)
            except errors.GamedayError as exc:
                problems.append(exc.message)
                value = None
            samples[probe.name] = None if value is None else ports.Value(float(value))
    return Reading(samples=samples, errors=tuple(problems))


def guardrail_bounds(probe: model.Guardrail) -> tuple[float | None, float | None, int]:
    if isinstance(probe, model.GaugeProbe):
        return probe.min, probe.max, probe.for_ticks
    return float(probe.min), None, probe.for_ticks


def in_bounds(value: float | None, lo: float | None, hi: float | None) -> bool:
    if value is None:
        return False
    return (lo is None or value >= lo) and (hi is None or value <= hi)


class Guardrails:
    """The guardrails' deterministic state over a phase: which fired, this tick and ever."""

    def __init__(self, steady: model.SteadyState) -> None:
        self._probes = steady.guardrails
        self._states = {g.name: stats.GuardrailState() for g in self._probes}
        self.fired_now: dict[str, float | None] = {}
        self.ever_fired: dict[str, float | None] = {}

    def update(self, reading: Reading) -> dict[str, Any]:
        """Feed one tick; returns the journal view ``{name: {value, in_bounds, fired}}``."""
        view: dict[str, Any] = {}
        self.fired_now = {}
        for g in self._probes:
            lo, hi, k = guardrail_bounds(g)
            value = reading.value(g.name)
            self._states[g.name], fired = stats.guardrail_step(self._states[g.name], value,
                                                                lo, hi, k)
            if fired:
                self.fired_now[g.name] = value
                self.ever_fired[g.name] = value
            view[g.name] = {"value": value, "in_bounds": in_bounds(value, lo, hi),
                            "fired": fired}
        return view


class Streaks:
    """Consecutive ticks without data, per statistical probe."""

    def __init__(self, names: list[str]) -> None:
        self._streaks = dict.fromkeys(names, 0)

    def update(self, obs: Mapping[str, stats.Obs | None]) -> dict[str, int]:
        for name in self._streaks:
            o = obs.get(name)
            self._streaks[name] = 0 if o is not None and o.n > 0 else self._streaks[name] + 1
        return dict(self._streaks)
