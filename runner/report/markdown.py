"""The Markdown report: verdict first, then timeline, probes, faults and the evidence."""

from __future__ import annotations

import datetime
import math
from typing import Any

from runner.report import summary


def _t(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).strftime("%H:%M:%S.%f")[:-3]


def _rel(ts: float | None, start: float | None) -> str:
    return "-" if ts is None or start is None else f"+{ts - start:.1f} s"


def _num(value: Any, fmt: str = ".4g") -> str:
    return format(value, fmt) if isinstance(value, int | float) else "-"


def render(facts: summary.Facts) -> str:
    lines: list[str] = [f"# {facts.title}", ""]
    code = f" (exit {facts.exit_code})" if facts.exit_code is not None else ""
    lines += [f"**Verdict: {facts.verdict}{code}** — {facts.reason}", ""]
    if facts.abort:
        lines += [f"**Abort ({facts.abort.get('kind')})**: {facts.abort.get('reason')}", ""]
        if facts.abort_to_reverted is not None:
            lines += [f"Abort decision to all faults reverted: "
                      f"**{facts.abort_to_reverted * 1000:.0f} ms**.", ""]
    lines += [
        f"- run id: `{facts.run_id}`", f"- owner: {facts.owner or '-'}",
        f"- experiment: `{facts.source}` (sha256 `{(facts.sha256 or '')[:16]}`)",
        f"- journal: `{facts.path}`",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in sorted(facts.versions.items())),
        f"- journal integrity: {'intact' if not facts.integrity else 'BROKEN'}"
        + (" (a torn last line was ignored)" if facts.torn_tail else ""), "",
    ]
    for problem in facts.integrity:
        lines.append(f"  - {problem}")
    lines += ["## Timeline", "", "| time | since start | phase |", "|---|---|---|"]
    for phase, ts in facts.phases:
        lines.append(f"| {_t(ts)} | {_rel(ts, facts.started_at)} | {phase} |")
    lines += ["", "## Faults", ""]
    if facts.faults:
        lines += ["| # | fault | kind | targets | injected | reverted | revert |",
                  "|---|---|---|---|---|---|---|"]
        for f in facts.faults:
            inj = _rel(f.injected_at, facts.started_at) if f.inject_ok else (
                f"failed: {f.inject_error}" if f.inject_ok is False else "not confirmed")
            if not f.has_revert:
                rev = "no revert declared"
            elif f.revert_ok:
                rev = f"ok ({f.revert_attempts} attempt(s), by {f.revert_by})"
            elif f.revert_ok is False:
                rev = f"**FAILED**: {f.revert_error}"
            else:
                rev = "**PENDING**: run `gameday revert`"
            lines.append(f"| {f.index} | {f.name} | {f.kind} | {', '.join(f.targets) or '-'} | "
                         f"{inj} | {_rel(f.reverted_at, facts.started_at)} | {rev} |")
    else:
        lines.append("No fault was injected.")
    lines += ["", *_probe_table(facts), *_ticks_table(facts)]
    if facts.warnings:
        lines += ["## Warnings", "", *[f"- {w}" for w in facts.warnings], ""]
    return "\n".join(lines) + "\n"


def _probe_table(facts: summary.Facts) -> list[str]:
    cal = facts.calibration or {}
    probes = cal.get("probes") or []
    out = ["## Steady-state probes", ""]
    if not probes:
        return [*out, "No statistical probe (guardrails only, or no baseline).", ""]
    out += [f"Test α = {_num(cal.get('alpha_test'))} (budget α = {_num(cal.get('alpha'))}).", "",
            "| probe | weight | p0 | mode | baseline upper bound | earliest abort (ticks) | "
            "final E | final p |", "|---|---|---|---|---|---|---|---|"]
    last = _last_stats(facts)
    for p in probes:
        final = last.get(p.get("name"), {})
        log_e = final.get("log_e")
        e_val = _num(math.exp(min(log_e, 700))) if isinstance(log_e, int | float) else "-"
        mode = str(p.get("mode_used", "-")) + (
            f" (fell back: {p['fallback_reason']})" if p.get("fallback_reason") else "")
        out.append(f"| {p.get('name')} | {_num(p.get('weight'), '.2f')} | {_num(p.get('p0'))} | "
                   f"{mode} | {_num(p.get('upper_bound'))} | "
                   f"{p.get('earliest_abort_ticks', '-')} | {e_val} | "
                   f"{_num(final.get('p_value'))} |")
    return [*out, ""]


def _last_stats(facts: summary.Facts) -> dict[str, dict[str, Any]]:
    for tick in reversed(facts.ticks):
        if tick.get("phase") == "watch" and tick.get("stats"):
            return {p.get("name"): p for p in tick["stats"].get("probes", [])}
    return {}


def _ticks_table(facts: summary.Facts) -> list[str]:
    watch = [t for t in facts.ticks if t.get("phase") == "watch"]
    if not watch:
        return []
    names = list((watch[0].get("samples") or {}).keys())
    out = ["## Fault window, tick by tick", "",
           "| tick | " + " | ".join(names) + " | combined log E | decision |",
           "|---|" + "---|" * len(names) + "---|---|"]
    for t in watch:
        stats = t.get("stats") or {}
        by = {p.get("name"): p for p in stats.get("probes", [])}
        cells = []
        for name in names:
            sample = (t.get("samples") or {}).get(name)
            if sample is None:
                cells.append("no data")
            elif "value" in sample:
                cells.append(_num(sample["value"]))
            else:
                st = by.get(name, {})
                cells.append(f"{_num(sample.get('e'))}/{_num(sample.get('n'))} "
                             f"(log E {_num(st.get('log_e'), '.2f')}, p {_num(st.get('p_value'))})")
        decision = "**reject**" if stats.get("reject") else "continue"
        out.append(f"| {t.get('tick')} | " + " | ".join(cells)
                   + f" | {_num(stats.get('log_e'), '.2f')} | {decision} |")
    return [*out, ""]
