"""Deterministic guardrails: fire after k consecutive ticks outside [lo, hi].

Gauges (ready replicas, target up) and catastrophic thresholds are not hypotheses to
test but lines not to cross, so they sit outside α on purpose (STATS.md).

Decision on missing data (value None, or NaN from a query): a tick without data neither
counts toward k nor resets the streak. Resetting would let a flapping scrape hide an
outage forever (breach, gap, breach, gap...); counting would abort on a scrape glitch.
Being blind is handled elsewhere, by the engine's own no-data abort condition.
"""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class GuardrailState:
    """``streak``: consecutive ticks with data out of bounds (gaps skipped)."""

    streak: int = 0
    fired: bool = False


def breached(value: float, lo: float | None, hi: float | None) -> bool:
    """Whether a value lies outside [lo, hi] (a missing bound is no bound)."""
    return (lo is not None and value < lo) or (hi is not None and value > hi)


def guardrail_step(
    state: GuardrailState, value: float | None, lo: float | None, hi: float | None, k: int
) -> tuple[GuardrailState, bool]:
    """One tick; returns the new state and whether the guardrail fires on this tick.

    Fires on every tick whose streak has reached ``k`` (also on a gap right after, since a
    gap keeps the streak); ``fired`` in the state is sticky so a journal replay shows the
    guardrail fired at least once.
    """
    if k < 1:
        raise ValueError(f"a guardrail needs k >= 1 consecutive ticks, got {k}")
    if value is None or math.isnan(value):
        return state, state.streak >= k
    streak = state.streak + 1 if breached(value, lo, hi) else 0
    fires = streak >= k
    return GuardrailState(streak=streak, fired=state.fired or fires), fires
