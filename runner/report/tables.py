"""The tables of a report, summarised so they stay readable at 10 000 ticks × 100 probes.

Decisions:
- Per phase (baseline, fault window, recovery) one row per probe: totals, the worst tick,
  the evidence at its end and when it first became significant. The reviewer's first
  question ("which probe, when, how bad") is answered without scrolling ticks.
- The tick table shows the *decisive* ticks (the abort, each probe's first significant
  tick, guardrails leaving their bounds or firing, the first tick without data, late
  ticks, the recovery restarting or settling) and the first and last ``EDGE`` ticks of
  every phase; what is left out is counted, and is in ``ticks.csv`` and the journal.
- Past ``MAX_PROBE_COLUMNS`` probes the tick table does not get one column per probe
  (unreadable); it names the probes that stand out in that tick instead.
Formatting is plain text shared by the Markdown and HTML renderers.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt

from runner.report import fmt, probes, series, summary

EDGE = 5
MAX_DECISIVE = 60
MAX_PROBE_COLUMNS = 6
PHASE_TITLES = {"baseline": "Baseline (before any fault)", "watch": "Fault window",
                "recovery": "Recovery (after the revert)"}

Floats = npt.NDArray[np.float64]


def col(facts: summary.Facts, name: str, field: str) -> Floats:
    column = facts.series.probes.get(name)
    if column is None:
        return np.full(len(facts.series), np.nan)
    return np.frombuffer(column.fields[field], dtype=np.float64)


def _first(mask: npt.NDArray[np.bool_], rows: range | list[int]) -> int | None:
    hits = np.flatnonzero(mask)
    return int(rows[int(hits[0])]) if hits.size else None


def _nan(values: Floats, how: str) -> float:
    values = values[~np.isnan(values)]
    if not values.size:
        return math.nan
    if how == "last":
        return float(values[-1])
    if how == "max":
        return float(np.max(values))
    return float(np.min(values)) if how == "min" else float(np.sum(values))


@dataclasses.dataclass(frozen=True)
class PhaseRow:
    """One probe over one phase, as text cells."""

    probe: str
    cells: tuple[str, ...]
    alarm: bool


def stat_row(facts: summary.Facts, probe: summary.Probe, rows: range | list[int]) -> PhaseRow:
    idx = np.asarray(rows, dtype=np.int64)
    n, e = col(facts, probe.name, "n")[idx], col(facts, probe.name, "e")[idx]
    log_e, p = col(facts, probe.name, "log_e")[idx], col(facts, probe.name, "p_value")[idx]
    sig = col(facts, probe.name, "significant")[idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, e / n, np.nan)
    total_n, total_e = _nan(n, "sum"), _nan(e, "sum")
    first_sig = _first(sig == 1, rows)
    cells = [f"{int(np.count_nonzero(n > 0))}/{len(idx)}", fmt.num(total_n, ".6g"),
             fmt.percent(total_e / total_n if total_n else math.nan),
             fmt.percent(_nan(share, "max")), quantile_cell(facts, probe, idx, share),
             fmt.evalue(_nan(log_e, "last")), fmt.evalue(_nan(log_e, "max")),
             fmt.num(_nan(p, "min"), ".3g"),
             "-" if first_sig is None else tick_name(facts, first_sig)]
    return PhaseRow(probe.name, tuple(cells), first_sig is not None)


STAT_HEADERS = ("probe", "ticks with data", "events", "bad share", "worst tick",
                "quantile", "final E", "max E", "min p", "first significant")
GUARD_HEADERS = ("guardrail", "bounds", "ticks with data", "min", "max", "ticks out of bounds",
                 "first out of bounds", "fired")


def quantile_cell(facts: summary.Facts, probe: summary.Probe, idx: npt.NDArray[np.int64],
                  share: Floats) -> str:
    """A latency probe's quantile: estimated when the journal has buckets, else ≤/> only."""
    info = probe.info
    if info.kind != "latency" or info.quantile is None or info.threshold is None:
        return "-"
    label = info.quantile_label
    if probe.name in facts.series.has_buckets:
        q = col(facts, probe.name, "quantile_s")[idx]
        q = q[~np.isnan(q)]
        if q.size:
            return (f"{label} median {fmt.ms(float(np.median(q)))}, worst "
                    f"{fmt.ms(float(np.max(q)))} (from the buckets)")
    known = share[~np.isnan(share)]
    over = int(np.count_nonzero(known > 1 - info.quantile))
    return (f"{label} > {fmt.ms(info.threshold)} in {over}/{known.size} ticks "
            "(no buckets journaled: no estimate)")


def guard_row(facts: summary.Facts, probe: summary.Probe, rows: range | list[int]) -> PhaseRow:
    idx = np.asarray(rows, dtype=np.int64)
    value = col(facts, probe.name, "value")[idx]
    inside = col(facts, probe.name, "in_bounds")[idx]
    fired = col(facts, probe.name, "fired")[idx]
    if np.all(np.isnan(inside)):  # recovery ticks journal no per-guardrail verdict
        inside = inside_bounds(value, probe.info.lo, probe.info.hi)
    out = (inside == 0) & ~np.isnan(value)
    first_out, first_fired = _first(out, rows), _first(fired == 1, rows)
    cells = [summary_bounds(probe), f"{int(np.count_nonzero(~np.isnan(value)))}/{len(idx)}",
             fmt.num(_nan(value, "min")), fmt.num(_nan(value, "max")),
             str(int(np.count_nonzero(out))),
             "-" if first_out is None else tick_name(facts, first_out),
             "-" if first_fired is None else tick_name(facts, first_fired)]
    return PhaseRow(probe.name, tuple(cells), first_fired is not None)


def inside_bounds(value: Floats, lo: float | None, hi: float | None) -> Floats:
    """1 where the value is within the bounds, 0 where not, NaN where there is no value."""
    ok = np.ones(value.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        if lo is not None:
            ok &= value >= lo
        if hi is not None:
            ok &= value <= hi
    return np.where(np.isnan(value), np.nan, ok.astype(np.float64))


def summary_bounds(probe: summary.Probe) -> str:
    return probes.bounds_text(probe.info.lo, probe.info.hi)


def tick_name(facts: summary.Facts, index: int) -> str:
    s = facts.series
    phase = series.PHASES[s.phase[index]] if s.phase[index] >= 0 else "?"
    return f"{phase} tick {s.tick[index]} ({fmt.clock(s.ts[index], millis=False)})"


def phase_tables(facts: summary.Facts) -> list[tuple[str, str, list[PhaseRow], list[PhaseRow]]]:
    """(phase, title, statistical rows, guardrail rows) for every phase that ticked."""
    out = []
    for phase in series.PHASES:
        rows = facts.series.indices(phase)
        if not rows:
            continue
        stat = [stat_row(facts, p, rows) for p in facts.probes if not p.info.guardrail]
        guard = [guard_row(facts, p, rows) for p in facts.probes if p.info.guardrail]
        out.append((phase, f"{PHASE_TITLES[phase]}: {len(rows)} ticks", stat, guard))
    return out
