"""The live view's status panel: what a run looks like right now, as a ``rich`` renderable.

``ViewState`` folds journal events into the little a person watching needs (phase, tick
k/N, each probe's value, e-value, p-value and decision, guardrails, faults live, the
fault window's progress); ``render`` draws it. Kept apart from the sink so the folding is
plain, testable code and the drawing is only layout.

Decisions: text never carries rich markup (event text such as ``[PodKillFault]`` must not
be read as a style), columns never wrap mid-word (``no_wrap``; long names end in an
ellipsis), and colour is only a second channel: every decision is also a word (``ok``,
``REJECT``, ``no data``), so ``NO_COLOR`` loses nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from rich.cells import cell_len
from rich.text import Span, Text


@dataclasses.dataclass
class ProbeView:
    value: str = "-"
    e_value: float | None = None
    p_value: float | None = None
    decision: str = "-"


@dataclasses.dataclass
class ViewState:
    """What the panel shows, folded from journal events (mutable, owned by one sink)."""

    title: str = ""
    run_id: str = ""
    phase: str = "-"
    tick: int = 0
    of: int = 0
    window_start: float | None = None
    window_end: float | None = None  # when the window closed (end, abort, interrupt)
    window: float = 0.0
    now: float = 0.0
    threshold: float | None = None
    combined: float | None = None
    probes: dict[str, ProbeView] = dataclasses.field(default_factory=dict)
    guardrails: dict[str, tuple[float | None, bool]] = dataclasses.field(default_factory=dict)
    faults: dict[int, str] = dataclasses.field(default_factory=dict)

    def fold(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        self.now = float(event.get("ts") or self.now)
        if kind == "run-started":
            self.title, self.run_id = str(event.get("title") or ""), str(event.get("run_id"))
        elif kind == "phase":
            if self.phase == "watch":
                self.window_end = self.now
            self.phase = str(event.get("phase"))
            self.tick, self.of = 0, int(event.get("ticks") or 0)
            if self.phase == "watch":
                self.window_start, self.window = self.now, float(event.get("duration") or 0)
        elif kind == "calibration" and isinstance(event.get("threshold_log"), int | float):
            self.threshold = _exp(event["threshold_log"])
        elif kind == "fault-result" and event.get("ok"):
            self.faults[int(event.get("fault") or 0)] = str(event.get("name"))
        elif kind == "revert-result" and event.get("ok"):
            self.faults.pop(int(event.get("fault") or 0), None)
        elif kind == "tick":
            self._tick(event)

    def _tick(self, event: Mapping[str, Any]) -> None:
        self.tick = int(event.get("tick") or 0)
        self.of = int(event.get("of") or self.of)
        stats = event.get("stats") or {}
        by_probe = {p.get("name"): p for p in stats.get("probes") or []}
        if isinstance(stats.get("log_e"), int | float):
            self.combined = _exp(stats["log_e"])
        for name, sample in (event.get("samples") or {}).items():
            if isinstance(sample, Mapping) and "value" in sample:
                continue  # a guardrail: shown below, from the guardrails view
            view = self.probes.setdefault(name, ProbeView())
            if sample is None:
                view.value, view.decision = "no data", "no data"
                continue
            n, e = float(sample.get("n") or 0), float(sample.get("e") or 0)
            view.value = f"{e / n:.2%} ({e:g}/{n:g})" if n else f"0/{n:g}"
            st = by_probe.get(name)
            if st is not None:
                view.e_value = _exp(st.get("log_e"))
                view.p_value = st.get("p_value")
                view.decision = "REJECT" if st.get("significant") else "ok"
            else:
                view.decision = "ok" if self.phase != "baseline" else "baseline"
        for name, g in (event.get("guardrails") or {}).items():
            self.guardrails[name] = (g.get("value"), bool(g.get("in_bounds")))


def _exp(log_e: object) -> float | None:
    if not isinstance(log_e, int | float):
        return None
    return math.inf if log_e > 700 else math.exp(log_e)


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return "∞" if math.isinf(value) else f"{value:.3g}"


STYLES = {"ok": "green", "REJECT": "bold red", "no data": "yellow", "baseline": "cyan"}
MAX_WIDTH = 120


class Line:
    """One line of the panel: plain text and its styled spans (start, end, style)."""

    __slots__ = ("spans", "text")

    def __init__(self, text: str = "", style: str = "") -> None:
        self.text = ""
        self.spans: list[tuple[int, int, str]] = []
        if text:
            self.add(text, style)

    def add(self, text: str, style: str = "") -> Line:
        if style:
            self.spans.append((len(self.text), len(self.text) + len(text), style))
        self.text += text
        return self


def _lines(state: ViewState, width: int) -> list[Line]:
    out: list[Line] = []
    head = Line(f"phase {state.phase}", "bold")
    if state.tick or state.of:
        head.add(f"   tick {state.tick}" + (f"/{state.of}" if state.of else ""))
    if state.threshold is not None:
        head.add(f"   abort at E ≥ {_num(state.threshold)}")
        if state.combined is not None:
            head.add(f" (now {_num(state.combined)})")
    out.append(head)
    if state.window_start is not None and state.window > 0:
        elapsed = max(0.0, (state.window_end or state.now) - state.window_start)
        done = min(elapsed, state.window) / state.window
        left = f"{max(0.0, state.window - elapsed):.0f} s left" if state.window_end is None \
            else "closed"
        bar = 30 if width >= 80 else 12
        filled = round(done * bar)
        out.append(Line("fault window ").add("━" * filled, "bar.complete")
                   .add("━" * (bar - filled), "bar.back").add(f" {done:4.0%}  {left}"))
    if state.probes:
        # The decision comes right after the name: on a narrow terminal the value (the
        # least needed) is what gets cut, then the name, never the decision.
        rows = [(name, v.decision, _num(v.e_value), _num(v.p_value), v.value)
                for name, v in state.probes.items()]
        header = ("probe", "decision", "E", "p", "value")
        widths = [min(32 if i == 0 else 24, max(cell_len(r[i]) for r in [header, *rows]))
                  for i in range(5)]
        excess = sum(widths) + 3 * 4 - (width - 4)
        if excess > 0:
            widths[0] = max(8, widths[0] - excess)
        out.append(Line())
        out.append(_row(header, widths, "bold"))
        out.extend(_row(row, widths) for row in rows)
    if state.guardrails:
        line = Line("guardrails: ")
        for i, (name, (value, ok)) in enumerate(state.guardrails.items()):
            line.add(("; " if i else "") + f"{name} = {_num(value)} ")
            line.add("in bounds" if ok else "OUT OF BOUNDS", "green" if ok else "bold red")
        out.append(line)
    faults = "; ".join(f"#{i} {name}" for i, name in sorted(state.faults.items()))
    out.append(Line(f"faults live: {faults or 'none'}", "yellow" if state.faults else ""))
    return out


def _fit(cell: str, width: int) -> str:
    return cell if cell_len(cell) <= width else cell[: width - 1] + "…"


def _row(cells: tuple[str, ...], widths: list[int], style: str = "") -> Line:
    name, decision, e_value, p_value, value = (_fit(c, w) for c, w in zip(cells, widths,
                                                                           strict=True))
    line = Line(name.ljust(widths[0]) + "   ", style)
    line.add(decision.ljust(widths[1]), style or STYLES.get(cells[1], ""))
    line.add("   " + e_value.rjust(widths[2]) + "   " + p_value.rjust(widths[3]) + "   "
             + value.ljust(widths[4]), style)
    return line


def render(state: ViewState, width: int = MAX_WIDTH) -> Text:
    """The panel as one ``Text`` with its own frame, built as a plain string and spans:
    cheap to redraw every tick (a rich Table inside a Panel costs ~20 ms per frame at 20
    probes; this ~1 ms). Lines never wrap: a line wider than the terminal ends in an
    ellipsis instead of breaking a word."""
    lines = _lines(state, width)
    inner = max(20, min(width - 4, max(cell_len(line.text) for line in lines)))
    run = f" {state.run_id} "
    title = _fit(f" gameday · {state.title} ", max(4, inner - cell_len(run)))
    parts = ["╭─", title, "─" * max(0, inner + 1 - cell_len(title) - cell_len(run)), run, "╮\n"]
    spans: list[Span] = []
    offset = sum(len(p) for p in parts)
    for line in lines:
        text = line.text if cell_len(line.text) <= inner else _fit(line.text, inner)
        parts.append("│ ")
        offset += 2
        spans.extend(Span(offset + a, offset + min(b, len(text)), st)
                     for a, b, st in line.spans if a < len(text))
        padded = text + " " * (inner - cell_len(text)) + " │\n"
        parts.append(padded)
        offset += len(padded)
    parts.append("╰" + "─" * (inner + 2) + "╯")
    return Text("".join(parts), spans=spans, no_wrap=True, overflow="crop")
