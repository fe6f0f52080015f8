"""Calibration: from the probes, α and the baseline to a frozen ``MonitorPlan``.

The plan fixes, before any fault, everything the sequential test will use: each probe's
weight (normalised), effective p0, test mode, bet sizing, block length, dispersion bound,
the α the e-processes run at and the rejection threshold. Fixing these in advance is what
keeps the test valid (weights or p0 chosen after seeing the fault data would void Ville's
bound), and journaling the plan lets a reviewer replay every tick. The plan also states,
per probe, the question answered, the null tested, its assumptions and what the baseline
checked, with numbers (``claims``).

Decisions:
- α is split only when some probe has no SLO (baseline comparison): α_b = 0.2·α is
  shared equally by those probes' baseline bounds, α_f = 0.8·α goes to the e-processes.
- An SLO probe "holds" when its end-of-baseline (1 − α) upper bound is below p0; else a
  problem says why (the engine refuses to inject, exit 3). Guardrails are the engine's.
- Dependence across ticks (``dependence``): when the baseline contradicts the per-tick
  assumption, the probe bets once per block (a warning with the numbers), or, when no
  block can work, the run is refused with what would fix it (a problem). Never silent.
- Fast mode is granted per probe only when the baseline passes ``dispersion``'s checks
  and no dependence was seen; otherwise the default test runs, and the plan says why.
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
from runner.stats import claims, combine, dependence, dispersion, power

Mode = Literal["default", "fast"]
FloatArray = npt.NDArray[np.float64]


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


class DependenceDict(TypedDict):
    ticks: int
    acf: list[float]
    statistic: float | None
    threshold: float
    flagged: bool
    block: int
    refused: bool


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
    question: str
    null: str
    assumptions: list[str]
    baseline_checked: list[str]
    dependence: DependenceDict
    block_ticks: int
    psi_prior: float
    phi_size: float
    n_mean: float | None
    floor_ticks: int | None


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
    """One probe as the test will run it, with the baseline numbers behind each choice.

    ``phi``: fast mode's dispersion bound φ_b at ``n_mean`` requests a tick (None in the
    default mode); ``phi_size``: the measured dispersion that sizes the bets (any value
    keeps the test valid); ``block_ticks``: ticks pooled per bet (1 = every tick).
    """

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
    question: str = claims.SAFETY
    null: str = ""
    assumptions: tuple[str, ...] = ()
    baseline_checked: tuple[str, ...] = ()
    dependence: DependenceDict = dataclasses.field(default_factory=lambda: DependenceDict(
        ticks=0, acf=[], statistic=None, threshold=dependence.Z_FLAG, flagged=False, block=1,
        refused=False))
    block_ticks: int = 1
    psi_prior: float = 2.0
    phi_size: float = 1.0
    n_mean: float | None = None
    floor_ticks: int | None = None

    def to_dict(self) -> ProbeCalibrationDict:
        # dataclasses.asdict's deep copy, by hand: every field is a plain value but the
        # dependence check (a dict with a list) and the two tuples, copied here.
        out = cast(ProbeCalibrationDict, {f: getattr(self, f) for f in _CALIBRATION_FIELDS})
        out["dependence"] = cast(DependenceDict, {**self.dependence,
                                                  "acf": list(self.dependence["acf"])})
        out["assumptions"] = list(self.assumptions)
        out["baseline_checked"] = list(self.baseline_checked)
        return out

    @classmethod
    def from_dict(cls, data: ProbeCalibrationDict) -> ProbeCalibration:
        fields = dict(data)
        fields["assumptions"] = tuple(data.get("assumptions", ()))
        fields["baseline_checked"] = tuple(data.get("baseline_checked", ()))
        return cls(**fields)  # type: ignore[arg-type]


_CALIBRATION_FIELDS = tuple(f.name for f in dataclasses.fields(ProbeCalibration))


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
            alpha=self.alpha, alpha_test=self.alpha_test, threshold_log=self.threshold_log,
            min_effect=self.min_effect, window_ticks=self.window_ticks,
            probes=[p.to_dict() for p in self.probes], baseline_holds=self.baseline_holds,
            problems=list(self.problems), warnings=list(self.warnings),
        )

    @classmethod
    def from_dict(cls, data: MonitorPlanDict) -> MonitorPlan:
        return cls(
            alpha=data["alpha"], alpha_test=data["alpha_test"],
            threshold_log=data["threshold_log"], min_effect=data["min_effect"],
            window_ticks=data["window_ticks"],
            probes=tuple(ProbeCalibration.from_dict(p) for p in data["probes"]),
            baseline_holds=data["baseline_holds"], problems=tuple(data["problems"]),
            warnings=tuple(data["warnings"]),
        )


def usable(o: Obs | None) -> bool:
    """Whether a tick carries data: present, finite, and some traffic."""
    return o is not None and math.isfinite(o.n) and math.isfinite(o.e) and o.n > 0


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


def _dependence_dict(d: dependence.Diagnosis) -> DependenceDict:
    return DependenceDict(ticks=d.ticks, acf=list(d.acf), statistic=d.statistic,
                          threshold=dependence.Z_FLAG, flagged=d.flagged,
                          block=d.block if d.flagged else 1, refused=d.refuse)


@dataclasses.dataclass(frozen=True)
class _Budget:
    alpha: float
    alpha_b: float
    alpha_test: float
    min_effect: float
    window: int


def _calibrate_one(spec: ProbeSpec, weight: float, series: Sequence[Obs | None],
                   b: _Budget) -> tuple[ProbeCalibration, list[str], list[str]]:
    problems: list[str] = []
    warnings: list[str] = []
    n, e = _arrays(series)
    s = base.summarise(n, e, fast_checks=spec.mode == "fast")
    level = b.alpha if spec.p0 is not None else b.alpha_b
    upper = base.upper_bound(n, e, level) if s.ticks else None
    if spec.p0 is not None:
        p0 = spec.p0
        problem = _slo_problem(spec.name, p0, upper, s, b.alpha)
    else:
        p0 = 1.0 if upper is None else base.baseline_p0(upper)
        problem = None if upper is not None else (
            f"{spec.name}: no traffic during the baseline, so there is nothing to compare the "
            "fault window with; check the query and that the service receives requests")
    if problem:
        problems.append(problem)
    diag = dependence.diagnose(n, e) if s.ticks else dependence.Diagnosis(
        0, (), None, False, 1, False)
    block = diag.block if diag.flagged else 1
    if diag.refuse:
        problems.append(claims.dependence_problem(spec.name, diag))
    elif diag.flagged:
        warnings.append(claims.dependence_warning(spec.name, diag))
    mode: Mode = "default"
    reason: str | None = None
    phi: float | None = None
    if spec.mode == "fast":
        bound = (float(dispersion.phi_bound(s.phi_hat, s.ticks)) if s.phi_hat is not None
                 else None)
        null_errors = (p0 * (s.n_mean or 0.0) / bound) if bound else None
        reason = dispersion.fallback_reason(s.ticks, s.total_e, s.phi_hat, s.acf1, s.halves_p,
                                            s.largest_share, bound, diag.flagged, null_errors)
        if reason is None and bound is not None:
            mode, phi = "fast", bound
        else:
            warnings.append(f"{spec.name}: {reason}")
    ticks: int | None = None
    warning: str | None = None
    phi_size = max(1.0, s.phi_hat or 1.0)
    if weight > 0:
        ticks = power.earliest_abort_ticks(mode, s.n_ref, p0, psi=b.min_effect,
                                           alpha=weight * b.alpha_test,
                                           phi=phi if mode == "fast" else phi_size, block=block)
        warning = power.power_warning(spec.name, ticks, window_ticks=b.window, psi=b.min_effect,
                                      p0=p0, n_ref=s.n_ref)
        if warning:
            warnings.append(warning)
    checked = [claims.checked_bound(p0, upper, level, s.ticks, spec.p0 is not None),
               claims.checked_dispersion(s.phi_hat, mode, reason),
               claims.checked_dependence(diag)]
    calibration = ProbeCalibration(
        name=spec.name, weight=weight, p0=p0, p0_requested=spec.p0, mode_requested=spec.mode,
        mode_used=mode, fallback_reason=reason, phi=phi, n_ref=s.n_ref, phi_hat=s.phi_hat,
        acf1=s.acf1, baseline_ticks=s.ticks, baseline_ratio=s.ratio, upper_bound=upper,
        holds=problem is None, earliest_abort_ticks=ticks, power_warning=warning,
        question=claims.question(spec.p0 is not None),
        null=claims.null(p0, spec.p0 is not None, block),
        assumptions=tuple(claims.assumptions(mode, block, phi, s.n_mean)),
        baseline_checked=tuple(checked), dependence=_dependence_dict(diag), block_ticks=block,
        psi_prior=b.min_effect, phi_size=phi_size, n_mean=s.n_mean,
        floor_ticks=power.tick_floor(b.min_effect, weight * b.alpha_test) if weight > 0 else None,
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
    budget = _Budget(alpha, alpha_b, alpha - alpha_b_total, min_effect, window_ticks)
    probes: list[ProbeCalibration] = []
    problems: list[str] = []
    warnings: list[str] = []
    for spec, weight in zip(specs, weights, strict=True):
        cal, probs, warns = _calibrate_one(spec, weight, baseline.get(spec.name, ()), budget)
        probes.append(cal)
        problems.extend(probs)
        warnings.extend(warns)
    return MonitorPlan(
        alpha=alpha, alpha_test=budget.alpha_test, threshold_log=math.log(1.0 / budget.alpha_test),
        min_effect=min_effect, window_ticks=window_ticks, probes=tuple(probes),
        baseline_holds=not problems, problems=tuple(problems), warnings=tuple(warnings),
    )
