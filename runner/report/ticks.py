"""Which ticks a report lists, and why: the decisive ones and the edges of each phase.

``select`` returns, in time order, the ticks worth reading (see ``tables``' docstring for
the rule) each with the reasons it was picked, and the gaps between them as counts, so
a reader always knows how much was left out and where the rest is (``ticks.csv``).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np

from runner.report import fmt, series, summary, tables

MAX_LATE = 5


@dataclasses.dataclass(frozen=True)
class Row:
    index: int | None  # None: a gap of ``skipped`` ticks
    reasons: tuple[str, ...] = ()
    skipped: int = 0


def _decisive(facts: summary.Facts) -> dict[int, list[str]]:
    s = facts.series
    why: dict[int, list[str]] = defaultdict(list)
    abort_tick = (facts.abort or {}).get("tick")
    watch = s.indices("watch")
    for i in watch:
        if s.tick[i] == abort_tick:
            why[i].append("abort")
    rejects = np.flatnonzero(np.frombuffer(s.reject, dtype=np.int8) == 1)
    for phase in series.PHASES:
        rows = s.indices(phase)
        if not rows:
            continue
        idx = np.asarray(rows, dtype=np.int64)
        for p in facts.probes:
            if p.info.guardrail:
                value = tables.col(facts, p.name, "value")[idx]
                inside = tables.col(facts, p.name, "in_bounds")[idx]
                if np.all(np.isnan(inside)):
                    inside = tables.inside_bounds(value, p.info.lo, p.info.hi)
                _mark(why, rows, (inside == 0) & ~np.isnan(value), f"{p.name} out of bounds")
                _mark(why, rows, tables.col(facts, p.name, "fired")[idx] == 1, f"{p.name} fired")
            else:
                _mark(why, rows, tables.col(facts, p.name, "significant")[idx] == 1,
                      f"{p.name} significant")
                n = tables.col(facts, p.name, "n")[idx]
                _mark(why, rows, ~(n > 0), f"{p.name} no data")
        if phase == "recovery":
            recovering = set(rows)
            for k in rejects:
                if int(k) in recovering:
                    why[int(k)].append("recovery test rejected: evidence restarts")
    late = np.flatnonzero(np.frombuffer(s.late, dtype=np.float64) > 0)
    for i in late[:MAX_LATE]:
        why[int(i)].append(f"late by {fmt.seconds(s.late[int(i)])}")
    for i in rejects[:1]:
        if s.phase[int(i)] == series.PHASES.index("watch"):
            why[int(i)].append("combined evidence crossed 1/α")
    return why


def _mark(why: dict[int, list[str]], rows: range | list[int], mask: np.ndarray,
          reason: str) -> None:
    hits = np.flatnonzero(mask)
    if hits.size:
        why[int(rows[int(hits[0])])].append(f"{reason} (first)")


def select(facts: summary.Facts) -> list[Row]:
    s = facts.series
    why = _decisive(facts)
    keep = dict(sorted(why.items())[:tables.MAX_DECISIVE])
    for phase in series.PHASES:
        rows = s.indices(phase)
        for i in list(rows[:tables.EDGE]) + list(rows[-tables.EDGE:]):
            keep.setdefault(int(i), [])
    out: list[Row] = []
    previous = -1
    for i in sorted(keep):
        if i - previous > 1:
            out.append(Row(None, skipped=i - previous - 1))
        out.append(Row(i, tuple(keep[i])))
        previous = i
    if len(s) - previous > 1:
        out.append(Row(None, skipped=len(s) - previous - 1))
    return out


def probe_cell(facts: summary.Facts, probe: summary.Probe, i: int) -> str:
    column = facts.series.probes.get(probe.name)
    if column is None:
        return "-"
    f = column.fields
    if probe.info.guardrail:
        value = f["value"][i]
        if not fmt.present(value):
            return "no data"
        inside = tables.inside_bounds(np.array([value]), probe.info.lo, probe.info.hi)[0]
        return fmt.num(value) + ("" if inside == 1 else " OUT")
    n, e = f["n"][i], f["e"][i]
    if not (fmt.present(n) and n > 0):
        return "no data"
    share = e / n
    text = f"{fmt.num(e)}/{fmt.num(n)} = {fmt.percent(share)}"
    info = probe.info
    if info.kind == "latency" and info.quantile is not None and info.threshold is not None:
        q = f["quantile_s"][i]
        text = (f"{info.quantile_label} {fmt.ms(q)}; " if fmt.present(q) else
                f"{info.quantile_label} {'>' if share > 1 - info.quantile else '≤'} "
                f"{fmt.ms(info.threshold)}; ") + f"over: {fmt.percent(share)}"
    if fmt.present(f["log_e"][i]):
        text += f" · E {fmt.evalue(f['log_e'][i])}"
    return text


def standouts(facts: summary.Facts, i: int) -> str:
    """For wide runs: the probes that stand out in tick ``i``, by name."""
    sig, out, blind = [], [], []
    for p in facts.probes:
        column = facts.series.probes.get(p.name)
        if column is None:
            continue
        if p.info.guardrail:
            cell = probe_cell(facts, p, i)
            if cell.endswith("OUT") or cell == "no data":
                out.append(f"{p.name} {cell}")
        elif column.fields["significant"][i] == 1:
            sig.append(f"{p.name} (E {fmt.evalue(column.fields['log_e'][i])})")
        elif not column.fields["n"][i] > 0:
            blind.append(p.name)
    parts = ([f"significant: {', '.join(sig)}"] if sig else []) + (
        [f"guardrails: {', '.join(out)}"] if out else []) + (
        [f"no data: {', '.join(blind)}"] if blind else [])
    return "; ".join(parts) or "-"


def decision(facts: summary.Facts, i: int) -> str:
    s = facts.series
    if s.phase[i] == series.PHASES.index("baseline"):
        return "baseline"
    return "reject" if s.reject[i] else "continue"
