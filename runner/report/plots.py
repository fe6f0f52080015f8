"""Plots for the HTML report: per-tick evidence and observations, as inline PNGs.

One figure per run: the top panel shows each statistical probe's observed bad-event
ratio per tick against its p0; the bottom panel shows the combined log e-value against
the abort threshold log(1/α). Phases are shaded and the abort is marked, so a reviewer
sees at a glance when the evidence crossed the line. matplotlib's Agg backend, no screen.
"""

from __future__ import annotations

import base64
import io
import itertools
from typing import Any

from runner.report import summary


def evidence_png(facts: summary.Facts) -> str | None:
    """A base64 PNG of the run's ticks, or None when the run has no watched tick."""
    ticks = [t for t in facts.ticks if t.get("stats")]
    if not ticks or facts.started_at is None:
        return None
    watched = [t for t in ticks if t.get("phase") == "watch"] or ticks
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    start = facts.started_at
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True,
                                      constrained_layout=True)
    p0s = {p.get("name"): p.get("p0") for p in (facts.calibration or {}).get("probes", [])}
    names = [p.get("name") for p in ticks[0]["stats"].get("probes", [])]
    for index, name in enumerate(names):
        xs, ys = [], []
        for t in facts.ticks:  # baseline, watch and recovery alike
            sample = (t.get("samples") or {}).get(name)
            if sample and sample.get("n"):
                xs.append(float(t["ts"]) - start)
                ys.append(float(sample["e"]) / float(sample["n"]))
        line = top.plot(xs, ys, marker=".", label=f"{name}: observed")[0]
        if isinstance(p0s.get(name), int | float):
            top.axhline(float(p0s[name]), color=line.get_color(), linestyle="--", linewidth=1,
                        label=f"{name}: p0" if index < 6 else None)
    top.set_ylabel("bad events / events per tick")
    top.legend(fontsize=7, loc="upper left")
    window = next((ts for phase, ts in facts.phases if phase == "watch"), None)
    xs = ([window - start] if window is not None else []) + [
        float(t["ts"]) - start for t in watched]
    log_e = ([0.0] if window is not None else []) + [
        float(t["stats"].get("log_e", 0.0)) for t in watched]
    bottom.plot(xs, log_e, marker=".", color="black", label="combined log E (fault window)")
    threshold = watched[-1]["stats"].get("threshold_log")
    if isinstance(threshold, int | float):
        bottom.axhline(float(threshold), color="red", linestyle="--", linewidth=1,
                       label="abort threshold log(1/α)")
    bottom.set_ylabel("log e-value")
    bottom.set_xlabel("seconds since the run started")
    for axis in (top, bottom):
        _shade_phases(axis, facts)
        if facts.abort is not None:
            axis.axvline(float(facts.abort["ts"]) - start, color="red", linewidth=1.5)
    bottom.legend(fontsize=7, loc="upper left")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_PHASE_COLOURS: dict[str, Any] = {"baseline": "#e8f0fe", "watch": "#fdecea",
                                  "recovery": "#e6f4ea"}


def _shade_phases(axis: Any, facts: summary.Facts) -> None:
    assert facts.started_at is not None
    bounds = [*facts.phases, ("end", facts.ended_at or facts.phases[-1][1])]
    for (phase, begin), (_next, end) in itertools.pairwise(bounds):
        colour = _PHASE_COLOURS.get(phase)
        if colour:
            axis.axvspan(begin - facts.started_at, end - facts.started_at, color=colour,
                         zorder=0)
