"""The HTML report: the Markdown report's facts as a standalone page with a plot.

Self-contained (inline CSS, the plot as a data URI), so it can be attached to an
incident ticket or archived by CI as one file. Autoescaped Jinja2: nothing from the
journal can inject markup.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import jinja2

from runner.report import plots, summary

TEMPLATES = Path(__file__).parent / "templates"


def _clock(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).strftime("%H:%M:%S.%f")[:-3]


def _num(value: Any, fmt: str = ".4g") -> str:
    return format(value, fmt) if isinstance(value, int | float) else "-"


def _evalue(log_e: Any) -> str:
    return _num(math.exp(min(float(log_e), 700))) if isinstance(log_e, int | float) else "-"


def render(facts: summary.Facts) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(clock=_clock, num=_num, evalue=_evalue)
    watch = [t for t in facts.ticks if t.get("phase") == "watch"]
    names = list((watch[0].get("samples") or {}).keys()) if watch else []
    return env.get_template("report.html.j2").render(
        f=facts, plot=plots.evidence_png(facts), watch=watch, names=names,
        probes=(facts.calibration or {}).get("probes", []),
        ok=facts.verdict == "held",
    )
