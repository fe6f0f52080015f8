"""The replay as one self-contained HTML page: the series over the range, every would-abort.

Decisions: matplotlib with the Agg backend (no display), the figure embedded as a
base64 PNG, no script and no external asset, so the page can be attached to a ticket.
One panel per statistical probe: its bad-event ratio per bucket of ticks (at most
``POINTS`` buckets over the range: the sum of bad over the sum of all events in each,
never a mean of ratios), the probe's threshold as a dashed line, incidents shaded, and
a red line at every time a window would have aborted, and a blue rug along the bottom
where a window would have been refused (its baseline did not hold). Below the figure,
the same tables as the Markdown.
"""

from __future__ import annotations

import base64
import datetime
import html as html_mod
import io

import numpy as np

from runner.model import experiment as model
from runner.replay import output, session

POINTS = 1500


def _figure(result: session.Result) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    f = result.fetched
    probes = [p for p in result.exp.steady_state.stat_probes if p.name in f.series]
    rows = max(1, len(probes))
    fig, axes = plt.subplots(rows, 1, figsize=(12, 2.6 * rows), sharex=True, squeeze=False)
    steps = f.complete
    bucket = max(1, -(-steps // POINTS))
    edges = np.arange(0, steps, bucket)
    times = [datetime.datetime.fromtimestamp(f.time(int(i)), datetime.UTC) for i in edges]
    for ax, probe in zip(axes[:, 0], probes, strict=False):
        n, e = f.series[probe.name]
        n_b = np.add.reduceat(n[:steps], edges) if steps else np.zeros(0)
        e_b = np.add.reduceat(e[:steps], edges) if steps else np.zeros(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(n_b > 0, e_b / n_b, np.nan)
        ax.plot(times, ratio, lw=0.7, color="#333333")
        limit = probe.max if isinstance(probe, model.RatioProbe) else 1 - probe.quantile
        if limit is not None:
            ax.axhline(limit, ls="--", lw=0.8, color="#888888")
        ax.set_ylabel(probe.name[:28], fontsize=8)
        for inc in result.incidents:
            ax.axvspan(_dt(inc.span.start), _dt(inc.span.end), color="#f4c430", alpha=0.3)
        for w in result.windows:
            if w.aborted and w.abort_time is not None:
                ax.axvline(_dt(w.abort_time), color="#d62728", lw=0.8, alpha=0.8)
        refused = [_dt(w.start) for w in result.windows if w.status == "refused"]
        if refused:  # a rug along the bottom: where a run would not even have started
            ax.plot(refused, [0.0] * len(refused), "|", color="#1f77b4", alpha=0.5, ms=6)
    axes[-1, 0].set_xlabel("UTC")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _dt(t: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(t, datetime.UTC)


def html(result: session.Result) -> str:
    """The whole page."""
    image = _figure(result) if result.fetched.series else ""
    text = html_mod.escape(output.markdown(result))
    title = html_mod.escape(f"Replay: {result.exp.title}")
    banner = ""
    if result.partial:
        banner = ("<p class='partial'><strong>PARTIAL REPLAY.</strong> "
                  f"{html_mod.escape(result.fetched.failure or '')}</p>")
    figure = (f"<img alt='series over the range; red lines: would-abort; yellow: incidents'"
              f" src='data:image/png;base64,{image}'>" if image else
              "<p>No series to plot.</p>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            "<style>body{font-family:sans-serif;margin:2em}img{max-width:100%}"
            ".partial{background:#fdd;padding:.5em}pre{white-space:pre-wrap}</style>"
            f"</head><body><h1>{title}</h1>{banner}{figure}<pre>{text}</pre></body></html>\n")
