"""Calibration on the service's own past: false-abort estimates and a threshold from history.

Pure math over numbers that replay produced (per-window outcomes and the supremum of
the combined log e-value in each window); no I/O. Decisions:

- **The estimate** of the false-abort rate is k aborts in n healthy windows with an exact
  (Clopper–Pearson) two-sided interval: valid for any n, conservative, and what an
  auditor can recompute. It is "above α" only when the interval's *lower* bound is
  above α (the numbers say so); a point estimate above α with a lower bound below is
  "unclear" and says how many more windows would settle it.
- **The history-calibrated threshold** answers the attribution question ("is this window
  worse than the service's own normal?"). With m healthy windows' suprema S_1..S_m of
  log E, and a new window exchangeable with them (the assumption, journaled: windows of
  the same kind, e.g. the same hours of the day), the new supremum's rank among the m+1
  is uniform, so aborting when it *exceeds* the ⌈(m+1)(1−α)⌉-th smallest S keeps the
  false-abort probability ≤ α (split-conformal). The threshold is never below the
  model's own log(1/α): history may only make the test more careful, never bolder.
  Fewer than ⌈1/α⌉ − 1 windows cannot support any such threshold: ``threshold`` says so
  instead of guessing.
- ``apply`` puts a calibration into a ``MonitorPlan`` (its threshold only): the
  e-processes and everything journaled about them stay as the model computed them. A
  calibration with ``applied=False`` only carries the estimate into the journal
  (``steady_state.history`` without ``against: history``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TypedDict

from runner.stats import plan as plan_mod

#: A threshold no e-process reaches: replay observes the supremum without aborting on it.
OBSERVE_LOG = 1e6
ASSUMPTION = ("the replayed healthy windows and the fault window are exchangeable: of the "
              "same kind (the same hours of the day and days of the week, the same traffic "
              "regime), so the fault window's normal is their normal")


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact two-sided interval for a binomial proportion k/n."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, n], got k={k}, n={n}")
    # The beta quantile through scipy.special (already loaded by the calibration);
    # scipy.stats would cost seconds to import for two numbers.
    from scipy import special

    tail = (1.0 - confidence) / 2.0
    lo = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, tail))
    hi = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1.0 - tail))
    return lo, hi


class EstimateDict(TypedDict):
    aborts: int
    windows: int
    rate: float | None
    lower: float
    upper: float
    confidence: float
    alpha: float
    verdict: str


@dataclasses.dataclass(frozen=True)
class Estimate:
    """k false aborts in n healthy windows, its interval, and how it compares with α."""

    aborts: int
    windows: int
    lower: float
    upper: float
    confidence: float
    alpha: float

    @property
    def rate(self) -> float | None:
        return self.aborts / self.windows if self.windows else None

    @property
    def verdict(self) -> str:
        """``above`` (lower bound > α), ``within`` (upper bound ≤ α), else ``unclear``."""
        if self.windows and self.lower > self.alpha:
            return "above"
        if self.windows and self.upper <= self.alpha:
            return "within"
        return "unclear"

    def sentence(self) -> str:
        if not self.windows:
            return "no healthy window could be replayed, so there is no estimate"
        return (f"{self.aborts} of {self.windows} healthy windows would have aborted "
                f"({self.rate:.1%}; {self.confidence:.0%} interval {self.lower:.1%} to "
                f"{self.upper:.1%}) against α = {self.alpha:g}")

    def to_dict(self) -> EstimateDict:
        return EstimateDict(aborts=self.aborts, windows=self.windows, rate=self.rate,
                            lower=self.lower, upper=self.upper, confidence=self.confidence,
                            alpha=self.alpha, verdict=self.verdict)


def estimate(aborts: int, windows: int, alpha: float, confidence: float = 0.95) -> Estimate:
    lo, hi = clopper_pearson(aborts, windows, confidence)
    return Estimate(aborts, windows, lo, hi, confidence, alpha)


def min_windows(alpha: float) -> int:
    """The fewest windows for which a conformal threshold at level α exists."""
    return max(1, math.ceil(1.0 / alpha - 1.0 - 1e-9))


def threshold(suprema: Sequence[float], alpha: float, floor_log: float) -> float | None:
    """The abort threshold (log E) from healthy windows' suprema; None if too few windows."""
    m = len(suprema)
    rank = math.ceil((m + 1) * (1.0 - alpha) - 1e-9)
    if m == 0 or rank > m:
        return None
    ordered = sorted(suprema)
    above = math.nextafter(ordered[rank - 1], math.inf)  # abort only when strictly above
    return max(above, floor_log)


class CalibrationDict(TypedDict):
    against: str
    applied: bool
    estimate: EstimateDict | None
    threshold_log: float
    model_threshold_log: float
    windows: int
    window_starts: list[float]
    window_seconds: float
    assumption: str
    source: str
    note: str


@dataclasses.dataclass(frozen=True)
class Calibration:
    """A threshold chosen on history, and what it rests on (journaled with the plan)."""

    threshold_log: float
    model_threshold_log: float
    windows: int
    window_starts: tuple[float, ...] = ()
    window_seconds: float = 0.0
    source: str = ""
    assumption: str = ASSUMPTION
    note: str = ""
    applied: bool = True  # False: only the estimate is journaled, the threshold is kept
    estimate: Estimate | None = None  # the false-abort estimate at the model's threshold

    def to_dict(self) -> CalibrationDict:
        return CalibrationDict(
            against="history" if self.applied else "slo", applied=self.applied,
            estimate=None if self.estimate is None else self.estimate.to_dict(),
            threshold_log=self.threshold_log,
            model_threshold_log=self.model_threshold_log, windows=self.windows,
            window_starts=list(self.window_starts), window_seconds=self.window_seconds,
            assumption=self.assumption, source=self.source, note=self.note)


def apply(monitor: plan_mod.MonitorPlan, calibration: Calibration | None
          ) -> plan_mod.MonitorPlan:
    """The plan with the calibrated threshold (never below the model's own)."""
    if calibration is None or not calibration.applied:
        return monitor
    return dataclasses.replace(
        monitor, threshold_log=max(monitor.threshold_log, calibration.threshold_log))
