"""SLO reads from Prometheus: error budgets, burn rates and firing alerts, and the
burn-rate abort of a run as a ``ports.Sentinel``.

Everything goes through the existing Prometheus adapter (``PrometheusSource.query``:
http_config, timeouts, retries, failures named); this module only knows the queries
(``model.slo``) and how to read their answers. Decisions:

- A number is a one-series vector or a scalar; NaN or ±Inf (``0/0``: no requests in the
  window) is "unknown", never zero. Several series are a problem to say, not to sum.
- ``BurnRateSentinel`` evaluates each ``abort: [{burn-rate: ...}]`` rule at the end of
  preflight, on every baseline and watch tick and before each fault (not in the ≤ 1 s
  slices of a pause, nor in the recovery watch: after the revert a slow window still
  remembers the fault, and that is not news). Every tick's evaluation is journaled as a
  ``burn-rate`` event with its numbers. Hot before any fault refuses the run (exit 3);
  hot in the fault window is a broken steady state (``Halt(kind="burn-rate",
  broken=True)``, exit 1). A rule that cannot be evaluated at preflight refuses (the
  abort condition would be blind); during the run a failed read is journaled and counts
  as not hot (being blind is the no-data abort's business).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from runner import errors, ports
from runner.model import experiment as model
from runner.model import slo

Query = Callable[[str], Any]
EVENT = "burn-rate"
_EVALUATED = ("preflight", "baseline", "inject", "watch")


def number(answer: Any) -> float | None:
    """A one-series vector's or a scalar's value; None when unknown (NaN, Inf, empty)."""
    value: float | None = None
    if isinstance(answer, list) and answer and isinstance(answer[0], dict):
        if len(answer) > 1:
            raise errors.PlatformError(
                f"the query returned {len(answer)} series where one number was expected; "
                "wrap it in sum(...)")
        value = float(answer[0]["value"][1])
    elif isinstance(answer, list) and len(answer) == 2 and not isinstance(answer[0], dict):
        value = float(answer[1])
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return value


class SloQueries:
    """The SLO reads a gate or a sentinel needs, over one Prometheus."""

    def __init__(self, query: Query) -> None:
        self._query = query

    def value(self, promql: str) -> float | None:
        """One number (None: unknown); raises ``errors.PlatformError``."""
        try:
            return number(self._query(promql))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise errors.PlatformError(
                f"Prometheus gave an unusable answer to `{promql}` ({exc})") from exc

    def ratios(self, rule: model.BurnRate) -> list[float | None]:
        """The error ratio over each window of ``rule``, in its order."""
        return [self.value(slo.error_ratio_query(rule, w.seconds)) for w in rule.windows]

    def firing(self, promql: str) -> list[str]:
        """One short label set per series the alert query returns."""
        answer = self._query(promql)
        found = []
        for series in answer if isinstance(answer, list) else []:
            labels = series.get("metric", {}) if isinstance(series, dict) else {}
            name = labels.get("alertname", "")
            rest = ",".join(f"{k}={v}" for k, v in sorted(labels.items())
                            if k not in ("__name__", "alertname", "alertstate"))
            found.append(f"{name}{{{rest}}}" if name else f"{{{rest}}}")
        return found


class BurnRateSentinel:
    """``ports.Sentinel`` for an experiment's burn-rate abort conditions."""

    name = "burn-rate"

    def __init__(self, rules: Sequence[model.BurnRate], query: Query) -> None:
        self.rules = tuple(rules)
        self.reads = SloQueries(query)
        self._failing = False

    def check(self, point: ports.Checkpoint) -> ports.Halt | None:
        if point.phase not in _EVALUATED or (point.tick is None and point.phase
                                             in ("baseline", "watch")):
            return None
        for index, rule in enumerate(self.rules):
            try:
                burn = slo.evaluate(rule, self.reads.ratios(rule))
            except errors.PlatformError as exc:
                if point.phase == "preflight":
                    return ports.Halt(kind="burn-rate", reason=(
                        f"the burn-rate abort condition cannot be evaluated ({exc.message}); "
                        "a run does not start with a blind abort condition"),
                        evidence={"rule": index, "error": exc.message})
                self._note(point, f"the burn rate could not be read: {exc.message}")
                continue
            self._note(point, None)
            if point.record is not None:
                point.record(EVENT, {"rule": index, "phase": point.phase,
                                     **({"tick": point.tick} if point.tick is not None else {}),
                                     **burn.to_dict()})
            if burn.hot:
                return ports.Halt(kind="burn-rate", reason=(
                    f"the error budget is burning too fast: {burn.sentence()}"),
                    broken=True, evidence={"rule": index, **burn.to_dict()})
        return None

    def _note(self, point: ports.Checkpoint, problem: str | None) -> None:
        if (problem is not None) == self._failing:
            return
        self._failing = problem is not None
        if point.record is not None:
            point.record("warning", {"phase": point.phase,
                                     "message": problem or "the burn rate can be read again"})
