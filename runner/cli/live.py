"""Rendering journal events for people: a live view on a TTY, plain lines in CI.

Both are ``ports.Sink``s fed every journal event as it is written. On a TTY the view
redraws one ``rich`` status panel (``runner.cli.livepanel``: phase, tick k/N, each
probe's value, e-value, p-value and decision, guardrails, faults live, a progress bar of
the fault window) with the run's history above it; elsewhere each event of interest
becomes one timestamped line, which is what CI logs want. ``rich`` is imported only when
the panel is drawn, so ``journal show`` and CI lines do not pay for it.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO


def _fmt_prob(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, int | float) else "-"


def _text(value: Any) -> str:
    """A value as a person reads it: no ``None``, no ``[...]``, no ``b'...'``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "-"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def describe(event: Mapping[str, Any]) -> str | None:
    """One human line for an event, or None for events not worth a line."""
    kind = event.get("type")
    if kind == "run-started":
        return f"run {event.get('run_id')}: {event.get('title')}"
    if kind == "phase":
        extra = {k: v for k, v in event.items()
                 if k not in {"seq", "ts", "time", "type", "prev", "hash", "chain", "phase"}}
        detail = " ".join(f"{k}={_text(v)}" for k, v in extra.items())
        return f"phase {event.get('phase')} {detail}".rstrip()
    if kind == "preflight":
        warnings = event.get("warnings") or []
        return "preflight ok" + (f" ({len(warnings)} warning(s))" if warnings else "") \
            if not event.get("problems") else "preflight refused: " + "; ".join(event["problems"])
    if kind == "plan":
        faults = event.get("faults") or []
        return "plan: " + "; ".join(
            f"#{f['fault']} {f['name']} -> {', '.join(f['targets']) or f['kind']}" for f in faults
        )
    if kind == "tick":
        return _tick_line(event)
    if kind == "fault-intent":
        return f"inject #{event.get('fault')} {event.get('name')} " \
               f"targets={','.join(event.get('targets') or []) or '-'}"
    if kind == "fault-result":
        ok = "ok" if event.get("ok") else f"FAILED: {_text(event.get('error'))}"
        return f"injected #{event.get('fault')} {event.get('name')}: {ok}"
    if kind == "abort":
        return f"ABORT ({event.get('kind')}): {event.get('reason')}"
    if kind == "revert-result":
        ok = "ok" if event.get("ok") else f"FAILED: {_text(event.get('error'))}"
        return f"reverted #{event.get('fault')} {event.get('name')}: {ok} " \
               f"({_text(event.get('attempts'))} attempt(s), {event.get('seconds') or 0:.3f} s)"
    if kind == "recovery":
        return f"recovery: {'back' if event.get('recovered') else 'NOT back'}"
    if kind == "warning":
        return f"warning: {event.get('message')}"
    if kind == "signal":
        return f"signal: {_text(event.get('reason'))}; {_text(event.get('note'))}"
    if kind == "verdict":
        return f"verdict: {event.get('verdict')} (exit {event.get('exit_code')}): " \
               f"{event.get('reason')}"
    if kind == "calibration":
        holds = "holds" if event.get("baseline_holds") else "does NOT hold"
        return f"baseline {holds}; test alpha={_fmt_prob(event.get('alpha_test'))}"
    return None


def _tick_line(event: Mapping[str, Any]) -> str:
    parts = [f"{event.get('phase')} tick {event.get('tick')}"
             + (f"/{event.get('of')}" if event.get("of") else "")]
    stats = event.get("stats") or {}
    by_probe = {p.get("name"): p for p in stats.get("probes", [])} if stats else {}
    for name, sample in (event.get("samples") or {}).items():
        if sample is None:
            parts.append(f"{name}: no data")
        elif "value" in sample:
            parts.append(f"{name}={sample['value']:g}")
        else:
            n, e = sample.get("n", 0), sample.get("e", 0)
            ratio = e / n if n else 0.0
            st = by_probe.get(name, {})
            evidence = ""
            if "log_e" in st:
                e_value = math.exp(min(st["log_e"], 700))
                evidence = f" E={e_value:.3g} p={_fmt_prob(st.get('p_value'))}"
            parts.append(f"{name}: {e:g}/{n:g}={ratio:.2%}{evidence}")
    if stats and stats.get("reject"):
        parts.append("REJECT")
    return " | ".join(parts)


class PlainSink:
    """Timestamped lines, one per event of interest (CI, pipes)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr

    def emit(self, event: Mapping[str, Any]) -> None:
        line = describe(event)
        if line is None:
            return
        stamp = time.strftime("%H:%M:%S", time.gmtime(float(event.get("ts", time.time()))))
        print(f"{stamp} {line}", file=self.out, flush=True)

    def close(self) -> None:
        """Nothing to release; here so every sink of a run can be closed alike."""


class LiveSink:
    """A ``rich`` status panel redrawn in place, with the run's history printed above it.

    The panel is redrawn on each event (no refresh thread: between ticks nothing changes,
    and a timer would cost CPU for nothing); it stops at the verdict, leaving its last
    state on screen, and the verdict itself is left to the command (printed once).
    Colours follow the terminal and ``NO_COLOR`` (rich honours it); lines wrap at spaces.
    """

    HISTORY = frozenset({"run-started", "phase", "preflight", "plan", "fault-intent",
                         "fault-result", "abort", "revert-result", "recovery", "warning",
                         "signal", "calibration"})

    def __init__(self, out: TextIO | None = None, *, force_terminal: bool | None = None,
                 width: int | None = None) -> None:
        from rich.console import Console

        from runner.cli import livepanel

        self._render = livepanel.render
        self.console = Console(file=out or sys.stderr, force_terminal=force_terminal,
                               width=width, highlight=False, markup=False, emoji=False)
        self.state = livepanel.ViewState()
        self._live: Any = None
        self._done = False

    def emit(self, event: Mapping[str, Any]) -> None:
        from rich.live import Live
        from rich.text import Text

        kind = event.get("type")
        if kind == "run-started":  # a game day hands one sink several runs
            self.state, self._done = type(self.state)(), False
        self.state.fold(event)
        if kind in self.HISTORY and (line := describe(event)) is not None:
            stamp = time.strftime("%H:%M:%S", time.gmtime(float(event.get("ts") or 0)))
            style = "bold red" if kind == "abort" else ("yellow" if kind == "warning" else "")
            self.console.print(Text(f"{stamp} {line}", style=style))
        if kind == "verdict":
            self._done = True
            self.close()
        if self._done:
            return  # after the verdict (a seal, say): the panel stays as it ended
        if self._live is None:
            self._live = Live(console=self.console, auto_refresh=False, transient=False,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()
        self._live.update(self._render(self.state, self.console.width), refresh=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def wrapped(text: str, out: TextIO | None = None) -> str:
    """``text`` wrapped at spaces to the terminal's width when ``out`` is a terminal (a
    terminal itself would cut words in two); unchanged for pipes and files."""
    import shutil
    import textwrap

    stream = out or sys.stdout
    if not stream.isatty():
        return text
    width = shutil.get_terminal_size().columns
    return textwrap.fill(text, width=max(40, width), break_long_words=False,
                         break_on_hyphens=False, subsequent_indent="  ")


def make_sink(out: TextIO | None = None) -> PlainSink | LiveSink:
    """The live view on an interactive terminal, plain lines in CI (``CI`` set) and pipes."""
    stream = out or sys.stderr
    if stream.isatty() and not os.environ.get("CI"):
        return LiveSink(stream)
    return PlainSink(stream)
