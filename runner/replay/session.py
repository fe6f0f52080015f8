"""A whole replay: which windows, in what passes, and what they add up to.

Decisions:
- **Pass 1** replays every grid window and one window aligned on each incident's start
  with the experiment as written: would it have aborted, when, and why.
- **Calibration** (asked for, or ``against: history``) needs the supremum of log E in
  each healthy window *without* the abort cutting it short. Only windows that pass 1
  aborted on the steady-state test are censored there, so only those are replayed
  again with a threshold no e-process reaches (``stats.history.OBSERVE_LOG``); a
  healthy window aborted by a guardrail, blindness or an alert is an abort at any
  threshold (supremum +∞). The threshold is ``stats.history.threshold`` over them.
- **Pass 3** replays, at the calibrated threshold, the windows that aborted on the
  steady-state test in pass 1 (the others cannot change): the calibrated outcome of
  every window, through the engine. Its false-abort rate on the windows it was chosen
  on is in-sample and labelled so; ``held_out`` calibrates on the first half of the
  healthy windows (in time) and counts the second half, an honest out-of-sample check.
- Refused windows (the baseline did not hold) are neither aborts nor held: they are
  counted apart and left out of the rates, as a run that never started.
- Replayable means: Prometheus-read probes only. A guardrail read from the platform's
  API (ready replicas) has no history; it is dropped, with a note that says so.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from runner.model import experiment as model
from runner.replay import driver, windows
from runner.stats import history as stats_history

ProgressFn = Callable[[str, int, int], None]


@dataclasses.dataclass(frozen=True)
class Fetched:
    """What the history fetch left (adapter-free, so this package needs no HTTP client)."""

    origin: float
    tick: float
    steps: int
    complete: int
    where: str
    failure: str | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    queries: int = 0
    points: int = 0
    splits: int = 0
    #: per statistical probe: (events, bad events) per grid step, for the plot
    series: Mapping[str, tuple[np.ndarray, np.ndarray]] = dataclasses.field(
        default_factory=dict)

    def time(self, i: int) -> float:
        return self.origin + i * self.tick

    def index(self, t: float) -> int:
        return math.floor((t - self.origin) / self.tick + 1e-6)


@dataclasses.dataclass(frozen=True)
class Incident:
    index: int
    span: windows.Span
    aligned: driver.WindowResult | None
    overlapping: tuple[int, ...]  # grid window indexes whose fault window overlaps
    first_abort: float | None  # earliest abort time among overlapping grid windows
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Calibrated:
    calibration: stats_history.Calibration | None
    reason: str
    windows: tuple[driver.WindowResult, ...]  # every grid window at the calibrated threshold
    estimate: stats_history.Estimate | None
    held_out: stats_history.Estimate | None
    held_out_threshold: float | None


@dataclasses.dataclass(frozen=True)
class Result:
    exp: model.Experiment
    span: windows.Span
    layout: windows.Layout
    fetched: Fetched
    windows: tuple[driver.WindowResult, ...]
    incidents: tuple[Incident, ...]
    estimate: stats_history.Estimate  # any abort, healthy windows
    test_estimate: stats_history.Estimate  # the steady-state test's aborts (α's business)
    calibrated: Calibrated | None
    notes: tuple[str, ...]
    decide_seconds: float = 0.0

    @property
    def partial(self) -> bool:
        return self.fetched.failure is not None or self.fetched.complete < self.fetched.steps

    @property
    def healthy(self) -> list[driver.WindowResult]:
        return [w for w in self.windows if w.healthy and w.status not in {"refused", "error"}]


def replayable(exp: model.Experiment) -> tuple[model.Experiment, list[str]]:
    """The experiment with only Prometheus-read probes, and notes for what was dropped."""
    kept = [p for p in exp.steady_state.probes if not isinstance(p, model.ReadyReplicasProbe)]
    notes = [f"guardrail {p.name!r} reads the platform's API, not Prometheus: it has no "
             "history and is not replayed" for p in exp.steady_state.probes
             if isinstance(p, model.ReadyReplicasProbe)]
    steady = dataclasses.replace(exp.steady_state, probes=tuple(kept))
    return dataclasses.replace(exp, steady_state=steady), notes


def plan_windows(fetched: Fetched, layout: windows.Layout,
                 incidents: Sequence[windows.Span]) -> tuple[list[driver.Window], list[str]]:
    """Grid windows, then one aligned window per incident (those that fit the history)."""
    out: list[driver.Window] = []
    notes: list[str] = []
    for s in layout.starts(fetched.complete):
        first, begin, end = (fetched.time(s), fetched.time(s + layout.baseline),
                             fetched.time(s + layout.span))
        touched = [i for i, inc in enumerate(incidents) if inc.overlaps(first, end)]
        inside = [i for i, inc in enumerate(incidents) if inc.overlaps(begin, end)]
        out.append(driver.Window(len(out), "grid", s, healthy=not touched,
                                 incident=inside[0] if inside else None))
    for i, inc in enumerate(incidents):
        prime = layout.aligned(fetched.index(inc.start))
        if prime < 0 or prime + layout.span >= fetched.complete:
            notes.append(f"incident {i + 1} ({inc.label()}): its window with a baseline "
                         "before it does not fit in the fetched history; not replayed alone")
            continue
        out.append(driver.Window(len(out), "incident", prime, healthy=False, incident=i))
    return out, notes


def _estimates(results: Sequence[driver.WindowResult], alpha: float, confidence: float
               ) -> tuple[stats_history.Estimate, stats_history.Estimate]:
    healthy = [w for w in results if w.kind == "grid" and w.healthy
               and w.status not in ("refused", "error")]
    any_abort = sum(1 for w in healthy if w.aborted)
    test = sum(1 for w in healthy if w.abort_kind == "steady-state")
    return (stats_history.estimate(any_abort, len(healthy), alpha, confidence),
            stats_history.estimate(test, len(healthy), alpha, confidence))


def suprema(results: Sequence[driver.WindowResult]) -> list[float]:
    """Per healthy window: sup log E, +∞ for an abort no threshold can prevent."""
    out = []
    for w in results:
        if w.aborted and w.abort_kind != "steady-state":
            out.append(math.inf)
        else:
            out.append(w.sup_log_e if w.sup_log_e is not None else 0.0)
    return out


def calibrate(runner: driver.Runner, results: Sequence[driver.WindowResult], *,
              alpha: float, confidence: float, source: str, window_seconds: float,
              progress: ProgressFn | None = None) -> Calibrated:
    """The history-calibrated threshold from the healthy windows, and pass 3 with it."""
    healthy = [w for w in results if w.kind == "grid" and w.healthy
               and w.status not in ("refused", "error")]
    observe = stats_history.Calibration(stats_history.OBSERVE_LOG, 0.0, 0,
                                        note="replay: observing the supremum, never aborting")
    seen: dict[int, driver.WindowResult] = {}
    censored = [w for w in healthy if w.abort_kind == "steady-state"]
    for n, w in enumerate(censored):
        seen[w.index] = runner.run(_window_of(w), history=observe, tag="-observe")
        if progress is not None:
            progress("observing", n + 1, len(censored))
    observed = [seen.get(w.index, w) for w in healthy]
    model_log = next((w.threshold_log for w in results if w.threshold_log is not None), None)
    floor = model_log if model_log is not None else math.log(1 / alpha)
    sup = suprema(observed)
    level = stats_history.threshold(sup, alpha, floor)
    if level is None or not math.isfinite(level):
        why = (f"only {len(sup)} healthy window(s); at α = {alpha:g} a threshold needs at "
               f"least {stats_history.min_windows(alpha)}" if level is None else
               "more than α of the healthy windows abort on guardrails, blindness or "
               "alerts, which no threshold of the steady-state test can change")
        return Calibrated(None, why, tuple(results), None, None, None)
    cal = stats_history.Calibration(
        level, floor, len(sup), tuple(w.start for w in healthy), window_seconds, source)
    redo = [w for w in results if w.abort_kind == "steady-state"]
    again: dict[int, driver.WindowResult] = {}
    for n, w in enumerate(redo):
        again[w.index] = runner.run(_window_of(w), history=cal, tag="-calibrated")
        if progress is not None:
            progress("calibrated", n + 1, len(redo))
    final = tuple(again.get(w.index, w) for w in results)
    est, _ = _estimates(final, alpha, confidence)
    held, held_level = _held_out(observed, alpha, floor, confidence)
    return Calibrated(cal, "", final, est, held, held_level)


def _held_out(observed: Sequence[driver.WindowResult], alpha: float, floor: float,
              confidence: float) -> tuple[stats_history.Estimate | None, float | None]:
    half = len(observed) // 2
    level = stats_history.threshold(suprema(observed[:half]), alpha, floor)
    if level is None or not math.isfinite(level):
        return None, None
    later = suprema(observed[half:])
    aborts = sum(1 for s in later if s >= level)
    return stats_history.estimate(aborts, len(later), alpha, confidence), level


def _window_of(w: driver.WindowResult) -> driver.Window:
    return driver.Window(w.index, w.kind, w.prime, w.healthy, w.incident)


def incidents_of(results: Sequence[driver.WindowResult], spans: Sequence[windows.Span]
                 ) -> tuple[Incident, ...]:
    out = []
    for i, span in enumerate(spans):
        aligned = next((w for w in results if w.kind == "incident" and w.incident == i), None)
        grid = [w for w in results if w.kind == "grid" and w.incident == i]
        aborts = [w.abort_time for w in grid if w.aborted and w.abort_time is not None]
        out.append(Incident(i, span, aligned, tuple(w.index for w in grid),
                            min(aborts) if aborts else None))
    return tuple(out)


def summarise(exp: model.Experiment, span: windows.Span, layout: windows.Layout,
              fetched: Fetched, results: Sequence[driver.WindowResult],
              spans: Sequence[windows.Span], calibrated: Calibrated | None,
              notes: Sequence[str], *, confidence: float = 0.95,
              decide_seconds: float = 0.0) -> Result:
    alpha = exp.steady_state.alpha
    est, test = _estimates(results, alpha, confidence)
    return Result(exp, span, layout, fetched, tuple(results), incidents_of(results, spans),
                  est, test, calibrated, tuple(notes), decide_seconds)
