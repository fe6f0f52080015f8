"""A replay's result as JSON (``gameday.replay/v1``, docs/JSON.md) and as Markdown.

Decisions: the JSON is the one source; Markdown (and the HTML page in ``plot``) render
from the same ``Result``. Times are ISO 8601 UTC with Unix seconds beside them, so a
script can join windows with its own data. A partial replay says so first, in both
formats, with the reason and the part of the range that was not replayed. Every rate
comes with its interval and the number of windows behind it; nothing is rounded into a
claim ("0 of 3 windows" is not "never aborts").
"""

from __future__ import annotations

from typing import Any

from runner.replay import driver, session, windows
from runner.stats import history as stats_history

SCHEMA = "gameday.replay/v1"


def _window(w: driver.WindowResult) -> dict[str, Any]:
    return {
        "index": w.index, "kind": w.kind, "start": windows.iso(w.start), "start_unix": w.start,
        "end": windows.iso(w.end), "healthy": w.healthy,
        "incident": None if w.incident is None else w.incident + 1,
        "status": w.status, "abort_kind": w.abort_kind,
        "abort_tick": w.abort_tick,
        "abort_at": None if w.abort_time is None else windows.iso(w.abort_time),
        "reason": w.reason, "sup_log_e": w.sup_log_e, "threshold_log": w.threshold_log,
        "traffic_per_tick": dict(w.traffic), "earliest_abort_ticks": dict(w.earliest),
        "power_warnings": list(w.warnings), "journal": w.journal,
    }


def _incident(inc: session.Incident, tick: float) -> dict[str, Any]:
    aligned = inc.aligned
    delay = None
    if aligned is not None and aligned.aborted and aligned.abort_time is not None:
        delay = aligned.abort_time - inc.span.start
    return {
        "index": inc.index + 1, "from": windows.iso(inc.span.start),
        "to": windows.iso(inc.span.end),
        "aligned": None if aligned is None else _window(aligned),
        "would_abort": None if aligned is None else aligned.aborted,
        "detection_seconds": delay,
        "detection_ticks": None if delay is None else round(delay / tick),
        "grid_windows": list(inc.overlapping),
        "first_grid_abort": None if inc.first_abort is None else windows.iso(inc.first_abort),
    }


def _calibrated(c: session.Calibrated | None) -> dict[str, Any] | None:
    if c is None:
        return None
    cal = c.calibration
    return {
        "available": cal is not None, "reason": c.reason,
        "calibration": None if cal is None else cal.to_dict(),
        "estimate_in_sample": None if c.estimate is None else c.estimate.to_dict(),
        "held_out": None if c.held_out is None else c.held_out.to_dict(),
        "held_out_threshold_log": c.held_out_threshold,
        "aborted_windows": [w.index for w in c.windows if w.aborted],
    }


def to_json(result: session.Result) -> dict[str, Any]:
    f = result.fetched
    exp = result.exp
    return {
        "schema": SCHEMA,
        "experiment": {"title": exp.title, "source": exp.source, "sha256": exp.sha256,
                       "alpha": exp.steady_state.alpha, "tick": exp.prometheus.tick,
                       "duration": exp.duration, "baseline": exp.steady_state.baseline},
        "prometheus": f.where,
        "range": {"from": windows.iso(result.span.start), "to": windows.iso(result.span.end)},
        "partial": result.partial,
        "failure": f.failure,
        "fetched": {"steps": f.steps, "complete_steps": f.complete,
                    "until": windows.iso(f.time(max(0, f.complete - 1))),
                    "queries": f.queries, "points": f.points, "splits": f.splits,
                    "seconds": round(f.seconds, 3)},
        "decide_seconds": round(result.decide_seconds, 3),
        "layout": {"baseline_ticks": result.layout.baseline,
                   "window_ticks": result.layout.window, "every_ticks": result.layout.every},
        "problems": list(f.problems), "notes": [*f.notes, *result.notes],
        "false_aborts": result.estimate.to_dict(),
        "steady_state_test": result.test_estimate.to_dict(),
        "counts": _counts(result),
        "incidents": [_incident(i, exp.prometheus.tick) for i in result.incidents],
        "calibrated": _calibrated(result.calibrated),
        "windows": [_window(w) for w in result.windows],
    }


def _counts(result: session.Result) -> dict[str, int]:
    out: dict[str, int] = {}
    for w in result.windows:
        if w.kind == "grid":
            out[w.status] = out.get(w.status, 0) + 1
    return out


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _est_line(label: str, e: stats_history.Estimate) -> str:
    rate = "-" if e.rate is None else f"{e.rate:.1%}"
    return (f"| {label} | {e.aborts} / {e.windows} | {rate} | {_pct(e.lower)} – "
            f"{_pct(e.upper)} | {e.verdict} |")


def markdown(result: session.Result, *, limit: int = 200) -> str:
    f = result.fetched
    exp = result.exp
    lines = [f"# Replay: {exp.title}", ""]
    if result.partial:
        lines += [f"**PARTIAL REPLAY.** {f.failure or 'The history ends early.'} Replayed "
                  f"up to {windows.iso(f.time(max(0, f.complete - 1)))} of "
                  f"{windows.iso(result.span.end)}.", ""]
    lines += [
        f"- Experiment: `{exp.source}` (α = {exp.steady_state.alpha:g}, tick "
        f"{exp.prometheus.tick:g} s, baseline {result.layout.baseline} ticks, window "
        f"{result.layout.window} ticks, a window every {result.layout.every} ticks)",
        f"- History: {f.where}, {windows.iso(result.span.start)} to "
        f"{windows.iso(result.span.end)}; {f.queries} range queries, {f.points} points "
        f"in {f.seconds:.2f} s; decided in {result.decide_seconds:.2f} s",
        "- Each window is the engine's own dry run (preflight, baseline, calibration, tick "
        "loop, guardrails, abort policy) over the history; nothing was injected.", "",
    ]
    for note in [*f.problems, *f.notes, *result.notes]:
        lines.append(f"- note: {note}")
    lines += ["", "## False aborts on healthy windows", "",
              "| what | aborts / windows | rate | 95% interval | vs α |", "|---|---|---|---|---|",
              _est_line("any abort", result.estimate),
              _est_line("steady-state test", result.test_estimate), "",
              "Counts of grid windows by outcome: "
              + ", ".join(f"{k} {v}" for k, v in sorted(_counts(result).items())), ""]
    started = [w for w in result.windows if w.kind == "grid" and w.status != "refused"]
    if started:
        weak = sum(1 for w in started if w.warnings)
        lines += ["## Traffic and power", "",
                  f"- {weak} of {len(started)} started windows warned that the test is too "
                  "weak for the window at their traffic (see `power_warnings` per window)."]
        for name in result.exp.steady_state.stat_probes:
            seen = sorted(v for w in started
                          if (v := w.traffic.get(name.name)) is not None)
            if seen:
                lines.append(f"- {name.name}: events per tick over the windows: min "
                             f"{seen[0]:.1f}, median {seen[len(seen) // 2]:.1f}, max "
                             f"{seen[-1]:.1f}")
        lines.append("")
    if result.incidents:
        lines += ["## Incidents", "", "| incident | would abort | detection | first grid "
                  "abort |", "|---|---|---|---|"]
        for inc in result.incidents:
            data = _incident(inc, exp.prometheus.tick)
            lines.append(f"| {data['from']}..{data['to']} | "
                         f"{'-' if data['would_abort'] is None else data['would_abort']} | "
                         f"{'-' if data['detection_seconds'] is None else str(round(data['detection_seconds'])) + ' s'} | "  # noqa: E501
                         f"{data['first_grid_abort'] or '-'} |")
        lines.append("")
    cal = result.calibrated
    if cal is not None:
        lines += ["## History-calibrated threshold", ""]
        if cal.calibration is None:
            lines.append(f"Not available: {cal.reason}.")
        else:
            c = cal.calibration
            lines.append(f"log E threshold {c.threshold_log:.3f} (the model's own "
                         f"{c.model_threshold_log:.3f}), from {c.windows} healthy windows. "
                         f"Assumes {c.assumption}.")
            if cal.estimate is not None:
                lines.append(f"- in sample: {cal.estimate.sentence()}")
            if cal.held_out is not None:
                lines.append(f"- held out (threshold from the first half, counted on the "
                             f"second): {cal.held_out.sentence()}")
        lines.append("")
    refused: dict[str, list[driver.WindowResult]] = {}
    for w in result.windows:
        if w.status in ("refused", "error"):
            refused.setdefault(w.reason.split(" (")[0][:200], []).append(w)
    if refused:
        lines += ["## Windows that never started", ""]
        for group in refused.values():
            lines.append(f"- {len(group)} window(s), {windows.iso(group[0].start)} to "
                         f"{windows.iso(group[-1].start)}: {group[0].reason[:300]}")
        lines.append("")
    shown = [w for w in result.windows if w.aborted or w.kind == "incident"][:limit]
    lines += ["## Windows that would have aborted (and incident windows)", "",
              "| # | window | status | kind | tick | reason |", "|---|---|---|---|---|---|"]
    for w in shown:
        lines.append(f"| {w.index} | {windows.iso(w.start)} | {w.status} | "
                     f"{w.abort_kind or '-'} | {w.abort_tick or '-'} | "
                     f"{w.reason.replace('|', '/')[:160]} |")
    return "\n".join(lines) + "\n"
