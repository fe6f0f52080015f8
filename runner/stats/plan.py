"""Calibration: from the probes, α and the baseline to a frozen ``MonitorPlan``.

The plan fixes, before any fault, everything the sequential test will use: each probe's
weight (normalised), effective p0, test mode, damping reference n_ref and dispersion
bound φ, the α the e-processes run at and the rejection threshold. Fixing these in
advance is what keeps the test valid (weights or p0 chosen after seeing the fault data
would void Ville's bound), and journaling the plan lets a reviewer replay every tick.

Decisions:
- α is split only when some probe has no SLO (baseline comparison): α_b = 0.2·α is
  shared equally by those probes' baseline bounds, α_f = 0.8·α goes to the e-processes.
  The margin m = 0.5 already makes a failed baseline bound rare, so most of α buys speed.
- An SLO probe "holds" when its end-of-baseline (1 − α) upper bound is below p0; if any
  probe does not hold, ``baseline_holds`` is False and ``problems`` says why in
  sentences (the engine refuses to inject, exit 3). Guardrails are the engine's part.
- Fast mode is granted per probe only when the baseline passes ``dispersion``'s checks;
  otherwise the default test runs and the reason is kept in the plan and the warnings.
- The power check of probe j uses w_j·α_test: the level at which that probe alone makes
  the weighted average reject, so a light probe is honestly reported as slow.
- The plan is a value: ``to_dict``/``from_dict`` round-trip it through the journal.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Literal, TypedDict, cast

import numpy as np
import numpy.typing as npt

from runner.stats import baseline as base
from runner.stats import combine, dispersion, power

Mode = Literal["default", "fast"]


@dataclasses.dataclass(frozen=True)
class Obs:
    """One tick of a statistical probe: ``n`` requests, ``e`` bad ones (errors, slow)."""

    n: float
    e: float


@dataclasses.dataclass(frozen=True)
class ProbeSpec:
    """A statistical probe. ``p0`` None = compare with the pre-fault baseline."""

    name: str
    p0: float | None
    weight: float = 1.0
    mode: Mode = "default"


class ProbeCalibrationDict(TypedDict):
    name: str
    weight: float
    p0: float
    p0_requested: float | None
    mode_requested: str
    mode_used: str
    fallback_reason: str | None
    phi: float | None
    n_ref: float | None
    phi_hat: float | None
    acf1: float | None
    baseline_ticks: int
    baseline_ratio: float | None
    upper_bound: float | None
    holds: bool
    earliest_abort_ticks: int | None
    power_warning: str | None


class MonitorPlanDict(TypedDict):
    alpha: float
    alpha_test: float
    threshold_log: float
    min_effect: float
    window_ticks: int
    probes: list[ProbeCalibrationDict]
    baseline_holds: bool
    problems: list[str]
    warnings: list[str]


@dataclasses.dataclass(frozen=True)
class ProbeCalibration:
    """One probe as the test will run it, with the baseline numbers behind each choice."""

    name: str
    weight: float
    p0: float
    p0_requested: float | None
    mode_requested: Mode
    mode_used: Mode
    fallback_reason: str | None
    phi: float | None
    n_ref: float | None
    phi_hat: float | None
    acf1: float | None
    baseline_ticks: int
    baseline_ratio: float | None
    upper_bound: float | None
    holds: bool
    earliest_abort_ticks: int | None
    power_warning: str | None

    def to_dict(self) -> ProbeCalibrationDict:
        return cast(ProbeCalibrationDict, dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class MonitorPlan:
    """Everything fixed before the fault window; ``probes`` in the order of the specs."""

    alpha: float
    alpha_test: float
    threshold_log: float
    min_effect: float
    window_ticks: int
    probes: tuple[ProbeCalibration, ...]
    baseline_holds: bool
    problems: tuple[str, ...]
    warnings: tuple[str, ...]

    def to_dict(self) -> MonitorPlanDict:
        return MonitorPlanDict(
            alpha=self.alpha,
            alpha_test=self.alpha_test,
            threshold_log=self.threshold_log,
            min_effect=self.min_effect,
            window_ticks=self.window_ticks,
            probes=[p.to_dict() for p in self.probes],
            baseline_holds=self.baseline_holds,
            problems=list(self.problems),
            warnings=list(self.warnings),
        )

    @classmethod
    def from_dict(cls, data: MonitorPlanDict) -> MonitorPlan:
        probes = tuple(ProbeCalibration(**p) for p in data["probes"])  # type: ignore[arg-type]
        return cls(
            alpha=data["alpha"],
            alpha_test=data["alpha_test"],
            threshold_log=data["threshold_log"],
            min_effect=data["min_effect"],
            window_ticks=data["window_ticks"],
            probes=probes,
            baseline_holds=data["baseline_holds"],
            problems=tuple(data["problems"]),
            warnings=tuple(data["warnings"]),
        )


def usable(o: Obs | None) -> bool:
    """Whether a tick carries data: present, finite, and some traffic."""
    return o is not None and math.isfinite(o.n) and math.isfinite(o.e) and o.n > 0


FloatArray = npt.NDArray[np.float64]


def _arrays(series: Sequence[Obs | None]) -> tuple[FloatArray, FloatArray]:
    kept = [o for o in series if o is not None and usable(o)]
    return (np.array([o.n for o in kept], dtype=np.float64),
            np.array([o.e for o in kept], dtype=np.float64))


def _check(specs: Sequence[ProbeSpec], alpha: float, min_effect: float, window: int) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not min_effect > 1.0:
        raise ValueError(f"min_effect must be > 1, got {min_effect}")
    if window < 1:
        raise ValueError(f"window_ticks must be >= 1, got {window}")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"probe names must be unique, got {names}")
    for s in specs:
        if s.p0 is not None and not 0.0 < s.p0 < 1.0:
            raise ValueError(f"{s.name}: p0 must be in (0, 1), got {s.p0}")


def _slo_problem(name: str, p0: float, upper: float | None, s: base.BaselineSummary,
                 alpha: float) -> str | None:
    if upper is None:
        return (f"{name}: no traffic during the baseline, so nothing shows the steady state "
                "holds; check the query and that the service receives requests")
    if upper < p0:
        return None
    ratio = s.ratio or 0.0
    why = (f"the observed error ratio {ratio:.3g} is already at or above the SLO {p0:.3g}"
           if ratio >= p0 else
           f"with {s.total_n:.0f} requests over {s.ticks} ticks it could be as high as "
           f"{upper:.3g} ({1 - alpha:.0%} upper bound; observed {ratio:.3g}), not shown below "
           f"the SLO {p0:.3g}; a longer baseline or more traffic would settle it")
    return f"{name}: the steady state does not hold before any fault: {why}"


def _calibrate_one(spec: ProbeSpec, weight: float, series: Sequence[Obs | None], *,
                   alpha: float, alpha_b: float, alpha_test: float, min_effect: float,
                   window: int) -> tuple[ProbeCalibration, list[str], list[str]]:
    problems: list[str] = []
    warnings: list[str] = []
    n, e = _arrays(series)
    s = base.summarise(n, e)
    if spec.p0 is not None:
        upper = base.upper_bound(n, e, alpha)
        p0 = spec.p0
        problem = _slo_problem(spec.name, p0, upper, s, alpha)
    else:
        upper = base.upper_bound(n, e, alpha_b)
        p0 = 1.0 if upper is None else base.baseline_p0(upper)
        problem = None if upper is not None else (
            f"{spec.name}: no traffic during the baseline, so there is nothing to compare the "
            "fault window with; check the query and that the service receives requests")
    if problem:
        problems.append(problem)
    mode: Mode = "default"
    reason: str | None = None
    phi: float | None = None
    if spec.mode == "fast":
        reason = dispersion.fallback_reason(s.ticks, s.total_e, s.phi_hat, s.acf1, s.halves_p)
        if reason is None:
            mode, phi = "fast", float(dispersion.phi_bound(s.phi_hat or 1.0, s.ticks))
        else:
            warnings.append(f"{spec.name}: {reason}")
    ticks: int | None = None
    warning: str | None = None
    if weight > 0:
        ticks = power.earliest_abort_ticks(mode, s.n_ref, p0, psi=min_effect,
                                           alpha=weight * alpha_test, phi=phi)
        warning = power.power_warning(spec.name, ticks, window_ticks=window, psi=min_effect,
                                      p0=p0, n_ref=s.n_ref)
        if warning:
            warnings.append(warning)
    calibration = ProbeCalibration(
        name=spec.name, weight=weight, p0=p0, p0_requested=spec.p0, mode_requested=spec.mode,
        mode_used=mode, fallback_reason=reason, phi=phi, n_ref=s.n_ref, phi_hat=s.phi_hat,
        acf1=s.acf1, baseline_ticks=s.ticks, baseline_ratio=s.ratio, upper_bound=upper,
        holds=problem is None, earliest_abort_ticks=ticks, power_warning=warning,
    )
    return calibration, problems, warnings


def calibrate(
    specs: Sequence[ProbeSpec],
    alpha: float,
    baseline: Mapping[str, Sequence[Obs | None]],
    *,
    min_effect: float = 2.0,
    window_ticks: int,
) -> MonitorPlan:
    """Fix the plan from the baseline (looked at once, at its end). Pure and deterministic."""
    _check(specs, alpha, min_effect, window_ticks)
    weights = combine.normalise_weights([s.weight for s in specs])
    without_slo = sum(1 for s in specs if s.p0 is None)
    alpha_b_total = base.ALPHA_SHARE * alpha if without_slo else 0.0
    alpha_b = alpha_b_total / without_slo if without_slo else 0.0
    alpha_test = alpha - alpha_b_total
    probes: list[ProbeCalibration] = []
    problems: list[str] = []
    warnings: list[str] = []
    for spec, weight in zip(specs, weights, strict=True):
        cal, probs, warns = _calibrate_one(
            spec, weight, baseline.get(spec.name, ()), alpha=alpha, alpha_b=alpha_b,
            alpha_test=alpha_test, min_effect=min_effect, window=window_ticks)
        probes.append(cal)
        problems.extend(probs)
        warnings.extend(warns)
    return MonitorPlan(
        alpha=alpha, alpha_test=alpha_test, threshold_log=math.log(1.0 / alpha_test),
        min_effect=min_effect, window_ticks=window_ticks, probes=tuple(probes),
        baseline_holds=not problems, problems=tuple(problems), warnings=tuple(warnings),
    )
