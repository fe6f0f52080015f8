"""The content of the human reports, as plain-text tables both renderers lay out.

Markdown and HTML show the same sections in the same order, built here once: the
integrity alarm (first, whenever the chain is broken), the verdict, the facts that
identify the run and the journal's head, the timeline, the faults with their effect and
revert checks, the probes, the per-phase summaries and the decisive ticks.
"""

from __future__ import annotations

import dataclasses

from runner.report import fmt, series, summary, tables, ticks


@dataclasses.dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    alarm: bool = False
    gap: bool = False  # a "... N ticks not shown" row: one cell, spans the table


@dataclasses.dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[Row, ...]


def integrity(facts: summary.Facts) -> list[str]:
    """The alarm lines, empty when the chain is intact."""
    if facts.intact:
        return []
    return [f"JOURNAL INTEGRITY BROKEN: {len(facts.integrity)} problem(s). This journal was "
            "edited, truncated or corrupted after it was written; do not trust what follows "
            "without checking it against the head recorded elsewhere.", *facts.integrity]


def head(facts: summary.Facts) -> str:
    if facts.head is None:
        return "journal head: the journal has no event"
    h = facts.head
    text = f"line {h.line}, seq {h.seq}, sha256 {h.sha256}"
    if h.chain and h.chain != h.sha256:
        text += f", chain value {h.chain}"
    return text


def seal(facts: summary.Facts) -> str:
    if facts.seal is None:
        return ("not sealed (no journal-sealed event: the run did not finish, or the journal "
                "was cut)")
    detail = {k: v for k, v in facts.seal.items() if k not in {"ts", "time", "type", "prev"}}
    return "sealed: " + ", ".join(f"{k} {v}" for k, v in detail.items())


def key_facts(facts: summary.Facts) -> list[tuple[str, str]]:
    duration = (facts.ended_at - facts.started_at
                if facts.ended_at is not None and facts.started_at is not None else None)
    return [
        ("run id", facts.run_id), ("owner", facts.owner or "-"),
        ("experiment", f"{facts.source or '-'} (sha256 {fmt.short_hash(facts.sha256, 64)})"),
        ("seed", str(facts.seed) if facts.seed is not None else "not recorded"),
        ("started", fmt.stamp(facts.started_at)),
        ("ended", f"{fmt.stamp(facts.ended_at)} ({fmt.seconds(duration)})"),
        ("host", facts.hostname or "not recorded"),
        ("journal", facts.path),
        ("journal integrity", ("intact, hash chain verified by this report" if facts.intact
                               else "BROKEN (see the top)")
         + (" (a torn last line, cut by a crash, was ignored)" if facts.torn_tail else "")),
        ("journal head", head(facts)), ("journal seal", seal(facts)),
        ("versions", ", ".join(f"{k} {v}" for k, v in sorted(facts.versions.items())) or "-"),
    ]


def timeline(facts: summary.Facts) -> Table:
    rows = [Row((e.text,), gap=True) if e.kind == "gap" else
            Row((fmt.clock(e.ts), _since(facts, e.ts), e.kind, e.text), e.alarm)
            for e in facts.timeline]
    return Table(("time (UTC)", "since start", "what", "event"), tuple(rows))


def _since(facts: summary.Facts, ts: float | None) -> str:
    if ts is None or facts.started_at is None:
        return "-"
    return f"+{ts - facts.started_at:.1f} s"


def _check(check: summary.Check | None, good: str, bad: str) -> tuple[str, bool]:
    if check is None:
        return "not checked", False
    measured = (" (" + ", ".join(f"{k} {v}" for k, v in check.measured.items()) + ")"
                if check.measured else "")
    return (f"{good if check.ok else bad}: {check.detail}{measured}", not check.ok)


def faults(facts: summary.Facts) -> Table:
    rows = []
    for f in facts.faults:
        if f.inject_ok:
            injected = f"{fmt.clock(f.injected_at)} ({fmt.seconds(f.inject_seconds)})"
        else:
            injected = f"FAILED: {f.inject_error}" if f.inject_ok is False else "not confirmed"
        effect, effect_bad = _check(f.effect, "yes", "NO")
        if not f.has_revert:
            revert, revert_bad = "no revert declared", False
        elif f.revert_ok:
            revert, revert_bad = (f"done {fmt.clock(f.reverted_at)} ({f.revert_attempts} "
                                  f"attempt(s), {fmt.seconds(f.revert_seconds)}, by "
                                  f"{f.revert_by})"), False
        elif f.revert_ok is False:
            revert, revert_bad = f"FAILED: {f.revert_error}", True
        else:
            revert, revert_bad = "PENDING: run `gameday revert` on this journal", True
        verified, verified_bad = _check(f.verified, "gone", "NOT GONE")
        rows.append(Row((str(f.index), f.name, f.kind, ", ".join(f.targets) or "-", injected,
                         effect, revert, verified),
                        f.inject_ok is False or effect_bad or revert_bad or verified_bad))
    return Table(("#", "fault", "kind", "targets", "injected", "took effect", "revert",
                  "revert verified"), tuple(rows))


def probes(facts: summary.Facts) -> Table:
    rows = []
    for p in facts.probes:
        cal = p.calibration or {}
        mode = str(cal.get("mode_used", "-")) + (
            f" (fell back: {cal['fallback_reason']})" if cal.get("fallback_reason") else "")
        earliest = cal.get("earliest_abort_ticks")
        rows.append(Row((p.name, p.info.kind, p.info.describe(),
                         fmt.num(cal.get("weight"), ".2f"), fmt.num(cal.get("p0"), ".4g"), mode,
                         fmt.num(cal.get("upper_bound"), ".4g"),
                         str(earliest) if earliest is not None else "-"),
                        cal.get("holds") is False))
    return Table(("probe", "kind", "tests", "weight", "p0", "mode", "baseline upper bound",
                  "earliest abort (ticks)"), tuple(rows))


def phases(facts: summary.Facts) -> list[tuple[str, list[Table]]]:
    out = []
    for _phase, title, stat, guard in tables.phase_tables(facts):
        found = []
        if stat:
            found.append(Table(tables.STAT_HEADERS, tuple(
                Row((r.probe, *r.cells), r.alarm) for r in stat)))
        if guard:
            found.append(Table(tables.GUARD_HEADERS, tuple(
                Row((r.probe, *r.cells), r.alarm) for r in guard)))
        out.append((title, found))
    return out


def tick_table(facts: summary.Facts) -> Table:
    s = facts.series
    wide = len(facts.probes) > tables.MAX_PROBE_COLUMNS
    names = () if wide else tuple(p.name for p in facts.probes)
    headers = ("time (UTC)", "phase", "tick", *names, *(("stand out",) if wide else ()),
               "combined E", "decision", "why shown")
    rows = []
    for r in ticks.select(facts):
        if r.index is None:
            rows.append(Row((f"... {r.skipped} tick(s) not shown (all in ticks.csv and the "
                             "journal)",), gap=True))
            continue
        i = r.index
        cells = [ticks.probe_cell(facts, p, i) for p in facts.probes] if not wide else [
            ticks.standouts(facts, i)]
        phase = series.PHASES[s.phase[i]] if s.phase[i] >= 0 else "?"
        rows.append(Row((fmt.clock(s.ts[i]), phase, str(s.tick[i]), *cells,
                         fmt.evalue(s.log_e[i]), ticks.decision(facts, i),
                         "; ".join(r.reasons) or "phase edge"),
                        "abort" in r.reasons or bool(s.reject[i])))
    return Table(headers, tuple(rows))
