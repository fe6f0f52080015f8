"""The evidence plot: a decision panel and small multiples, one panel per probe.

Decisions:
- Wall-clock time (UTC) on a shared x-axis; phase bands labelled (baseline, faults live,
  revert, recovery), the abort and the reverts marked and labelled, so the plot reads
  without the journal beside it.
- The top panel is the decision: the combined log E against log(1/α), plus the few
  probes with the most evidence. Below, one panel per probe — guardrails with their
  bounds, ratio probes with their p0, latency probes as the share of requests over the
  threshold (and the quantile in ms where the journal has bucket counts). No legend
  grows with the number of probes: each panel is titled.
- Past ``MAX_PANELS`` probes, the panels are the top probes by evidence plus every
  guardrail that left its bounds; the caption says how many are not drawn.
- Past ``panels.MAX_POINTS`` ticks each line shows the worst value per bin (the max share, the
  min and max of a guardrail), so a spike cannot vanish by decimation.
matplotlib's Agg backend, no screen; the figure is an inline PNG.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import itertools
import math
from typing import Any

import numpy as np

from runner.report import panels, summary, tables

MAX_PANELS = 24
PHASE_STYLE: dict[str, tuple[str, str]] = {
    "baseline": ("#e8f0fe", "baseline"), "watch": ("#fdecea", "faults live"),
    "revert": ("#eeeeee", "revert"), "recovery": ("#e6f4ea", "recovery"),
}


@dataclasses.dataclass(frozen=True)
class Plot:
    png: str  # base64
    caption: str


def _days(ts: Any) -> Any:
    return np.asarray(ts, dtype=np.float64) / 86_400.0  # matplotlib dates: days since 1970


def choose(facts: summary.Facts) -> tuple[list[summary.Probe], list[str]]:
    """The probes that get a panel (all, or the top by evidence) and those that do not."""
    drawn = [p for p in facts.probes if p.name in facts.series.probes]
    if len(drawn) <= MAX_PANELS:
        return drawn, []

    def rank(p: summary.Probe) -> float:
        if p.info.guardrail:
            inside = tables.col(facts, p.name, "in_bounds")
            return math.inf if np.any(inside == 0) else -math.inf
        log_e = tables.col(facts, p.name, "log_e")
        return float(np.nanmax(log_e)) if np.any(~np.isnan(log_e)) else -math.inf

    top = sorted(drawn, key=rank, reverse=True)[:MAX_PANELS]
    keep = {p.name for p in top}
    return [p for p in drawn if p.name in keep], [p.name for p in drawn if p.name not in keep]


def prepare() -> None:
    """Import what ``render`` draws with (a helper process does it while the journal is read)."""
    from matplotlib import dates, ticker  # noqa: F401
    from matplotlib.backends import backend_agg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401


def render(facts: summary.Facts) -> Plot | None:
    """The figure, or None when the run has no tick."""
    s = facts.series
    if not len(s):
        return None
    from matplotlib import dates as mdates  # imported here: only reports with ticks pay
    from matplotlib import ticker
    from matplotlib.backends import backend_agg
    from matplotlib.figure import Figure

    chosen, hidden = choose(facts)
    ncols = 1 if len(chosen) <= 3 else 2
    nrows = math.ceil(len(chosen) / ncols)
    # Laid out in inches, so titles and labels keep their room at 1 probe as at 24.
    top_in, decision_in, panel_in, gap_in, bottom_in = 0.55, 2.1, 1.3, 0.78, 0.6
    height = top_in + decision_in + nrows * (gap_in + panel_in) + bottom_in
    fig = Figure(figsize=(11, height), dpi=96)  # no pyplot: no global state, no GUI
    backend_agg.FigureCanvasAgg(fig)
    left, right, between = 0.065, 0.985, 0.07

    def frame(y_in: float, h_in: float, column: int = 0,
              span: bool = False) -> tuple[float, float, float, float]:
        width = (right - left) if span else (right - left - between * (ncols - 1)) / ncols
        x0 = left + column * (width + between)
        return (x0, 1 - (y_in + h_in) / height, width, h_in / height)

    top = fig.add_axes(frame(top_in, decision_in, span=True))
    axes = [fig.add_axes(frame(top_in + decision_in + (k // ncols) * (gap_in + panel_in)
                               + gap_in, panel_in, k % ncols))
            for k in range(len(chosen))]
    x = _days(s.ts)
    panels.decision(top, facts, x)
    for axis, probe in zip(axes, chosen, strict=True):
        panels.probe(axis, facts, probe, x)
    span = (float(np.nanmin(x)) - 1e-6, float(np.nanmax(x)) + 1e-6)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=9 - ncols)  # type: ignore[no-untyped-call]
    ends = [mdates.num2date(v) for v in span]  # type: ignore[no-untyped-call]
    times = [t for t in locator.tick_values(*ends)  # type: ignore[no-untyped-call]
             if span[0] <= t <= span[1]]
    for k, axis in enumerate([top, *axes]):  # one x range on each: sharex is O(panels²)
        axis.set_xlim(*span)
        _bands(axis, facts, label=axis is top)
        _marks(axis, facts, label=axis is top)
        labelled = axis is top or k - 1 + ncols >= len(axes)  # nothing below it
        # Ticks are most of the drawing cost: inner panels get grid lines, not ticks.
        axis.xaxis.set_major_locator(ticker.FixedLocator(times) if labelled
                                     else ticker.NullLocator())
        axis.xaxis.set_major_formatter(
            mdates.DateFormatter("%H:%M:%S"))  # type: ignore[no-untyped-call]
        axis.vlines(times, 0, 1, transform=axis.get_xaxis_transform(), colors="#dddddd",
                    linewidth=0.5, zorder=1)
        axis.yaxis.set_major_locator(ticker.MaxNLocator(3 if axis is not top else 5))
        axis.tick_params(labelsize=7)
        if labelled and axis is not top:
            axis.set_xlabel(f"time (UTC) on {_date(facts)}", fontsize=7)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})  # 10x faster
    caption = _caption(facts, len(chosen), hidden)
    return Plot(base64.b64encode(buffer.getvalue()).decode("ascii"), caption)


def _date(facts: summary.Facts) -> str:
    import datetime

    ts = facts.started_at if facts.started_at is not None else facts.series.ts[0]
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).strftime("%Y-%m-%d")


def _caption(facts: summary.Facts, drawn: int, hidden: list[str]) -> str:
    parts = [f"{len(facts.series)} ticks; one panel per probe ({drawn} drawn)."]
    if hidden:
        names = ", ".join(hidden[:12]) + (", ..." if len(hidden) > 12 else "")
        parts.append(f"{len(hidden)} probe(s) with less evidence (and guardrails that stayed "
                     f"within their bounds) are not drawn: {names}; see the tables and "
                     "ticks.csv.")
    if len(facts.series) > panels.MAX_POINTS:
        parts.append("Each point is the worst value over several ticks (max share, "
                     "min and max of a guardrail).")
    return " ".join(parts)


def _bands(axis: Any, facts: summary.Facts, *, label: bool) -> None:
    end = facts.ended_at or (facts.phases[-1][1] if facts.phases else None)
    if end is None:
        return
    bounds = [*facts.phases, ("end", end)]
    for (phase, begin), (_next, until) in itertools.pairwise(bounds):
        style = PHASE_STYLE.get(phase)
        if style is None or until <= begin:
            continue
        axis.axvspan(_days(begin), _days(until), color=style[0], zorder=0, linewidth=0)
        if label:
            axis.text(_days((begin + until) / 2), 1.01, style[1],
                      transform=axis.get_xaxis_transform(), ha="center", va="bottom",
                      fontsize=7, color="#444444", clip_on=False)


def _marks(axis: Any, facts: summary.Facts, *, label: bool) -> None:
    if facts.abort is not None:
        axis.axvline(_days(facts.abort["ts"]), color="#c5221f", linewidth=1.4, zorder=3)
        if label:
            axis.annotate(f"abort ({facts.abort.get('kind')})", (_days(facts.abort["ts"]), 0.92),
                          xycoords=("data", "axes fraction"), xytext=(-4, 0),
                          textcoords="offset points", ha="right", fontsize=7,
                          color="#c5221f", fontweight="bold")
    reverted = [f.reverted_at for f in facts.faults if f.revert_ok and f.reverted_at]
    if reverted:
        axis.axvline(_days(max(reverted)), color="#188038", linestyle="--", linewidth=1,
                     zorder=3)
        if label:
            axis.annotate("all reverted", (_days(max(reverted)), 0.78),
                          xycoords=("data", "axes fraction"), xytext=(4, 0),
                          textcoords="offset points", fontsize=7, color="#188038")
