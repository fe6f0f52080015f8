"""The HTML report: the same sections as the Markdown one, as one standalone page.

Self-contained (inline CSS, the plot as a data URI), so it can be attached to an
incident ticket or archived by CI as one file. Autoescaped Jinja2: nothing from the
journal can inject markup.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from runner.report import fmt, plots, sections, summary

TEMPLATES = Path(__file__).parent / "templates"


def render(facts: summary.Facts, plot: plots.Plot | None = None) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(clock=fmt.clock, num=fmt.num)
    cal = facts.calibration or {}
    return env.get_template("report.html.j2").render(
        f=facts, plot=plot, ok=facts.verdict == "held", alarm=sections.integrity(facts),
        key_facts=sections.key_facts(facts), timeline=sections.timeline(facts),
        faults=sections.faults(facts), probes=sections.probes(facts),
        phases=sections.phases(facts),
        ticks=sections.tick_table(facts) if len(facts.series) else None,
        alpha_test=fmt.num(cal.get("alpha_test")), alpha=fmt.num(cal.get("alpha")),
    )
