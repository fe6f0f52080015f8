"""The Markdown report: the integrity alarm first, the verdict, then every section.

Plain GitHub-flavoured Markdown (tables, bold), so it reads in a terminal, a pull
request or an incident ticket. Pipes and newlines inside cells are escaped: nothing a
journal holds can break a table.
"""

from __future__ import annotations

from runner.report import fmt, sections, summary


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(table: sections.Table) -> list[str]:
    if not table.rows:
        return []
    out = ["| " + " | ".join(_cell(h) for h in table.headers) + " |",
           "|" + "---|" * len(table.headers)]
    for row in table.rows:
        cells = list(row.cells) if not row.gap else [f"*{row.cells[0]}*"] + [""] * (
            len(table.headers) - 1)
        text = [_cell(c) for c in cells]
        if row.alarm:
            text = [f"**{c}**" if c and not c.startswith("**") else c for c in text]
        out.append("| " + " | ".join(text) + " |")
    return [*out, ""]


def render(facts: summary.Facts) -> str:
    lines: list[str] = []
    alarm = sections.integrity(facts)
    if alarm:
        lines += [f"> **{alarm[0]}**", ">", *[f"> - {_cell(p)}" for p in alarm[1:]], ""]
    lines += [f"# {facts.title}", ""]
    code = f" (exit {facts.exit_code})" if facts.exit_code is not None else ""
    lines += [f"**Verdict: {facts.verdict}{code}** — {facts.reason}", ""]
    if facts.abort:
        lines += [f"**Abort ({facts.abort.get('kind')})** at {fmt.clock(facts.abort.get('ts'))}: "
                  f"{facts.abort.get('reason')}", ""]
        if facts.abort_to_reverted is not None:
            lines += [f"Abort decision to all faults reverted: "
                      f"**{facts.abort_to_reverted * 1000:.0f} ms**.", ""]
    lines += [f"- {k}: {_cell(v)}" for k, v in sections.key_facts(facts)] + [""]
    lines += ["## Timeline", "", *_table(sections.timeline(facts))]
    lines += ["## Faults", ""]
    lines += _table(sections.faults(facts)) or ["No fault was injected.", ""]
    lines += ["## Probes", ""]
    cal = facts.calibration or {}
    if cal:
        lines += [f"Test α = {fmt.num(cal.get('alpha_test'))} (budget α = "
                  f"{fmt.num(cal.get('alpha'))}); abort when the combined E ≥ 1/α.", ""]
    lines += _table(sections.probes(facts)) or ["No probe recorded.", ""]
    for title, tables in sections.phases(facts):
        lines += [f"### {title}", ""]
        for table in tables:
            lines += _table(table)
    if len(facts.series):
        lines += ["## Ticks: the decisive ones and the edges of each phase", "",
                  "Every tick of every probe is in `ticks.csv` beside this report (and in the "
                  "journal).", "", *_table(sections.tick_table(facts))]
    if facts.warnings:
        lines += ["## Warnings", "", *[f"- {_cell(w)}" for w in facts.warnings], ""]
    return "\n".join(lines) + "\n"
