"""The panels of the evidence plot: the decision, and one per probe by kind.

Each panel is titled with the probe's name and what it tests, so no legend has to grow
with the number of probes. Ratio probes: the bad share per tick against p0. Latency
probes: the share of requests over the threshold against 1 − q (the test's own
quantity), and on a second axis the quantile in ms when the journal has bucket counts.
Guardrails: the value against its bounds, out-of-bounds ticks in red, firing marked.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from runner.report import fmt, summary, tables

MAX_POINTS = 1500
TOP_EVIDENCE = 5
RED, GREEN, GREY = "#c5221f", "#188038", "#777777"
_COLOURS = ("#1a73e8", "#e37400", "#9334e6", "#12b5cb", "#b31412")


def thin(x: Any, y: Any, how: str = "max") -> tuple[Any, Any]:
    """At most ``MAX_POINTS`` points: the max (or min) per bin of consecutive ticks."""
    size = len(x)
    if size <= MAX_POINTS:
        return x, y
    width = math.ceil(size / MAX_POINTS)
    pad = (-size) % width
    xs = np.concatenate([x, np.full(pad, x[-1])]).reshape(-1, width)[:, 0]
    ys = np.concatenate([y, np.full(pad, np.nan)]).reshape(-1, width)
    with warnings.catch_warnings():  # an all-NaN bin is a gap, not a problem
        warnings.simplefilter("ignore", RuntimeWarning)
        reduced = np.nanmax(ys, axis=1) if how == "max" else np.nanmin(ys, axis=1)
    return xs, reduced


def _style(size: int) -> dict[str, Any]:
    return {"marker": ".", "markersize": 3} if size <= 120 else {}


def decision(axis: Any, facts: summary.Facts, x: Any) -> None:
    s = facts.series
    log_e = np.frombuffer(s.log_e, dtype=np.float64)
    ranked = sorted(((float(np.nanmax(v)), p.name) for p in facts.probes
                     if not p.info.guardrail
                     and np.any(~np.isnan(v := tables.col(facts, p.name, "log_e")))),
                    reverse=True)[:TOP_EVIDENCE]
    for (_, name), colour in zip(ranked, _COLOURS, strict=False):
        xs, ys = thin(x, _breaks(facts, tables.col(facts, name, "log_e")))
        axis.plot(xs, ys, color=colour, linewidth=0.9, alpha=0.8, label=f"log E: {name}")
    xs, ys = thin(x, _breaks(facts, log_e))
    axis.plot(xs, ys, color="black", linewidth=1.6, label="combined log E", **_style(len(xs)))
    threshold = np.frombuffer(s.threshold, dtype=np.float64)
    known = threshold[~np.isnan(threshold)]
    if known.size:
        axis.axhline(float(known[-1]), color=RED, linestyle="--", linewidth=1)
        axis.annotate(f"abort threshold log(1/α) = {known[-1]:.2f}", (0.005, float(known[-1])),
                      xycoords=("axes fraction", "data"), xytext=(0, 2),
                      textcoords="offset points", fontsize=7, color=RED, va="bottom")
    axis.set_title("Decision: combined evidence (log e-value) and the probes with the most",
                   fontsize=9, loc="left", y=1.0, pad=14)  # y given: no costly auto-placing
    axis.set_ylabel("log E", fontsize=8)
    if ranked or known.size:
        axis.legend(fontsize=7, loc="upper left", ncols=3, frameon=False)


def probe(axis: Any, facts: summary.Facts, p: summary.Probe, x: Any) -> None:
    if p.info.guardrail:
        _guardrail(axis, facts, p, x)
    else:
        _statistical(axis, facts, p, x)


def _statistical(axis: Any, facts: summary.Facts, p: summary.Probe, x: Any) -> None:
    n, e = tables.col(facts, p.name, "n"), tables.col(facts, p.name, "e")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, e / n, np.nan) * 100
    xs, ys = thin(x, share)
    axis.plot(xs, ys, color="#1a73e8", linewidth=1, **_style(len(xs)))
    info = p.info
    p0 = (p.calibration or {}).get("p0")
    latency = info.kind == "latency" and info.threshold is not None and info.quantile is not None
    limit: float | None
    if latency:
        assert info.quantile is not None and info.threshold is not None
        limit = 1 - info.quantile
        what = f"% over {fmt.ms(info.threshold)}"
        detail = (f"share of requests over {fmt.ms(info.threshold)} vs {limit * 100:.3g} % "
                  f"({info.quantile_label} ≤ {fmt.ms(info.threshold)})")
    else:
        limit = float(p0) if isinstance(p0, int | float) else info.threshold
        what = "bad share (%)"
        detail = "bad share per tick" + (
            f" vs p0 {limit * 100:.3g} %" if isinstance(limit, int | float) else "")
    if isinstance(limit, int | float):
        axis.axhline(limit * 100, color=RED, linestyle="--", linewidth=1)
    log_e = tables.col(facts, p.name, "log_e")
    flagged = bool(np.any(tables.col(facts, p.name, "significant") == 1))
    if np.any(~np.isnan(log_e)):
        detail += f"; max E {fmt.evalue(float(np.nanmax(log_e)))}" + (
            ", SIGNIFICANT" if flagged else "")
    title(axis, p.name, detail, flagged)
    axis.set_ylabel(what, fontsize=7)
    axis.set_ylim(bottom=0)
    if latency and p.name in facts.series.has_buckets:
        assert info.threshold is not None
        twin = axis.twinx()
        q = tables.col(facts, p.name, "quantile_s") * 1000
        qx, qy = thin(x, q)
        twin.plot(qx, qy, color="#e37400", linewidth=0.9)
        twin.axhline(info.threshold * 1000, color="#e37400", linestyle=":", linewidth=1)
        twin.set_ylabel(f"{info.quantile_label} (ms, from buckets)", fontsize=7,
                        color="#e37400")
        twin.tick_params(labelsize=7)


def _guardrail(axis: Any, facts: summary.Facts, p: summary.Probe, x: Any) -> None:
    value = tables.col(facts, p.name, "value")
    lo_x, lo_y = thin(x, value, "min")
    hi_x, hi_y = thin(x, value, "max")
    axis.plot(lo_x, lo_y, color="#5f6368", linewidth=1, drawstyle="steps-post",
              **_style(len(lo_x)))
    if len(hi_x) != len(x):
        axis.plot(hi_x, hi_y, color="#5f6368", linewidth=0.6, drawstyle="steps-post")
    info = p.info
    for bound, name in ((info.lo, "min"), (info.hi, "max")):
        if bound is not None:
            axis.axhline(bound, color=RED, linestyle="--", linewidth=1)
            axis.annotate(f"{name} {bound:g}", (1.0, bound), xycoords=("axes fraction", "data"),
                          xytext=(-2, 2), textcoords="offset points", ha="right",
                          va="bottom", fontsize=6, color=RED)
    inside = tables.col(facts, p.name, "in_bounds")
    if np.all(np.isnan(inside)):
        inside = tables.inside_bounds(value, info.lo, info.hi)
    out = (inside == 0) & ~np.isnan(value)
    if np.any(out):
        axis.plot(x[out], value[out], linestyle="none", marker="o", markersize=3, color=RED)
    fired = tables.col(facts, p.name, "fired") == 1
    if np.any(fired):
        axis.plot(x[fired], value[fired], linestyle="none", marker="v", markersize=7, color=RED)
    bounds = tables.summary_bounds(p)
    flagged = bool(np.any(fired))
    title(axis, p.name, f"guardrail: {bounds}" + (
        f"; out of bounds in {int(np.count_nonzero(out))} tick(s)" if np.any(out) else "")
        + ("; FIRED" if flagged else ""), flagged)
    axis.set_ylabel("value", fontsize=7)
    known = value[~np.isnan(value)]
    marks = [b for b in (info.lo, info.hi) if b is not None] + (
        [float(known.min()), float(known.max())] if known.size else [])
    if marks:
        span = max(marks) - min(marks) or 1.0
        axis.set_ylim(min(marks) - 0.15 * span, max(marks) + 0.25 * span)


def title(axis: Any, name: str, detail: str, flagged: bool) -> None:
    """Two lines: the probe's name (red when it was significant or fired), what is drawn."""
    short = name if len(name) <= 70 else name[:67] + "..."
    axis.set_title(short, fontsize=8.5, loc="left", y=1.0, pad=13,
                   color=RED if flagged else "black",
                   fontweight="bold")
    axis.text(0, 1.02, detail, transform=axis.transAxes, fontsize=7, color="#444444",
              va="bottom", ha="left")


def _breaks(facts: summary.Facts, values: Any) -> Any:
    """A copy with a gap where the phase changes (fresh e-processes start at recovery)."""
    out = np.array(values, dtype=np.float64)
    phase = np.frombuffer(facts.series.phase, dtype=np.int8)
    if out.size > 1:
        out[1:][phase[1:] != phase[:-1]] = np.nan
    return out
