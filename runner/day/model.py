"""A game day as values: its window, its gates, its experiments in the order they run.

In-memory, frozen and free of I/O (the file as loaded is kept as ``Day.document`` for the
day journal, secrets redacted). Each ``DayExperiment`` holds a complete, validated
``model.Experiment`` with the day's defaults and its own overrides already applied, so
the single-run engine runs it exactly as it would run a file; ``gates`` of an entry are
its own, ``Day.gates_for`` adds the day's. Durations are seconds, ratios in [0, 1].
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any, Literal

from runner.model import experiment as model

OnBroken = Literal["stop", "continue"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
MINUTES_PER_DAY = 24 * 60


@dataclasses.dataclass(frozen=True)
class Hours:
    """A daily range in local minutes since midnight, ``[start, end)``; ``end <= start``
    runs past midnight (``22:00-02:00``), ``end == 1440`` is midnight."""

    start: int
    end: int

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    @property
    def minutes(self) -> int:
        return self.end - self.start if not self.overnight else \
            MINUTES_PER_DAY - self.start + self.end

    def __str__(self) -> str:
        def hhmm(minutes: int) -> str:
            return f"{minutes // 60:02d}:{minutes % 60:02d}"

        return f"{hhmm(self.start)}-{hhmm(self.end)}"


@dataclasses.dataclass(frozen=True)
class Window:
    """When chaos is allowed: weekdays and hours in a time zone, minus freeze dates."""

    timezone: str = "UTC"
    days: frozenset[int] = frozenset(range(7))
    hours: tuple[Hours, ...] = (Hours(0, MINUTES_PER_DAY),)
    freeze: tuple[tuple[datetime.date, datetime.date], ...] = ()  # inclusive ranges

    def frozen(self, day: datetime.date) -> bool:
        return any(first <= day <= last for first, last in self.freeze)


@dataclasses.dataclass(frozen=True)
class ErrorBudgetGate:
    """Chaos only on a healthy error budget (the SRE rule).

    Every gate reads ``prometheus`` when it names one (a long-term store that holds the
    28 days), else the Prometheus of the experiment it guards.

    ``bad``/``good``/``total`` are series selectors (gameday takes their increase over
    ``window``) or PromQL expressions returning one number over the window; ``rate`` is
    the request rate now (default: ``sum(rate(total[1m]))`` for a selector total).
    """

    slo: float
    window: float
    total: str
    bad: str | None = None
    good: str | None = None
    rate: str | None = None
    min_remaining: float = 0.25
    max_spend: float = 0.10
    prometheus: model.PrometheusConfig | None = None  # None: the experiment's
    kind: Literal["error-budget"] = "error-budget"


@dataclasses.dataclass(frozen=True)
class NoAlertsGate:
    """Refuse while an alert matching ``query`` fires (``ALERTS{...}`` gets
    ``alertstate="firing"`` added unless it names an alertstate)."""

    query: str
    prometheus: model.PrometheusConfig | None = None
    kind: Literal["no-alerts"] = "no-alerts"


@dataclasses.dataclass(frozen=True)
class BurnRateGate:
    """Refuse to start while a multi-window burn rate is hot."""

    rule: model.BurnRate
    prometheus: model.PrometheusConfig | None = None
    kind: Literal["burn-rate"] = "burn-rate"


Gate = ErrorBudgetGate | NoAlertsGate | BurnRateGate


@dataclasses.dataclass(frozen=True)
class DayExperiment:
    """One entry of the day: its id, the experiment to run, and how the day treats it."""

    id: str
    experiment: model.Experiment
    source: str  # the experiment file's path, or "<day file>#experiments[i]" when inline
    needs: tuple[str, ...] = ()
    on_broken: OnBroken = "stop"
    gates: tuple[Gate, ...] = ()
    file_sha256: str | None = None  # of the experiment file's bytes (None when inline)
    line: int | None = None

    @property
    def expected_seconds(self) -> float:
        """How long a run takes when it holds: preflight, baseline, window, recovery."""
        exp = self.experiment
        baseline = max(exp.steady_state.baseline, 3 * exp.prometheus.tick)
        return PREFLIGHT_SECONDS + baseline + exp.duration + (exp.recovery.within or 0.0)


#: A run's preflight and plan, roughly (Prometheus queries, the platform's answers).
PREFLIGHT_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class Day:
    """A validated game day; ``experiments`` are in the order they run."""

    title: str
    experiments: tuple[DayExperiment, ...]
    owner: str | None = None
    description: str | None = None
    window: Window | None = None
    gates: tuple[Gate, ...] = ()
    source: str = "<memory>"
    sha256: str = ""
    document: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def gates_for(self, entry: DayExperiment) -> tuple[Gate, ...]:
        return (*self.gates, *entry.gates)

    def entry(self, experiment_id: str) -> DayExperiment:
        return next(e for e in self.experiments if e.id == experiment_id)

    @property
    def expected_seconds(self) -> float:
        return sum(e.expected_seconds for e in self.experiments)
