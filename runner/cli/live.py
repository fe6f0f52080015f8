"""Rendering journal events for people: a live view on a TTY, plain lines in CI.

Both are ``ports.Sink``s fed every journal event as it is written. On a TTY the view
redraws one status block (phase, tick, probe values and decisions, time left, a progress
bar for the fault window); elsewhere each event of interest becomes one timestamped line,
which is what CI logs want.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO


def _fmt_prob(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, int | float) else "-"


def describe(event: Mapping[str, Any]) -> str | None:
    """One human line for an event, or None for events not worth a line."""
    kind = event.get("type")
    if kind == "run-started":
        return f"run {event.get('run_id')}: {event.get('title')}"
    if kind == "phase":
        extra = {k: v for k, v in event.items()
                 if k not in {"seq", "ts", "time", "type", "prev", "hash", "chain", "phase"}}
        detail = " ".join(f"{k}={v}" for k, v in extra.items())
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
        ok = "ok" if event.get("ok") else f"FAILED: {event.get('error')}"
        return f"injected #{event.get('fault')} {event.get('name')}: {ok}"
    if kind == "abort":
        return f"ABORT ({event.get('kind')}): {event.get('reason')}"
    if kind == "revert-result":
        ok = "ok" if event.get("ok") else f"FAILED: {event.get('error')}"
        return f"reverted #{event.get('fault')} {event.get('name')}: {ok} " \
               f"({event.get('attempts')} attempt(s), {event.get('seconds', 0):.3f} s)"
    if kind == "recovery":
        return f"recovery: {'back' if event.get('recovered') else 'NOT back'}"
    if kind == "warning":
        return f"warning: {event.get('message')}"
    if kind == "signal":
        return f"signal: {event.get('reason')}; {event.get('note')}"
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


class LiveSink:
    """A redrawn status block on a terminal, with history lines above it."""

    BAR = 30

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.phase = "-"
        self.window: tuple[float, float] | None = None
        self._status_lines = 0

    def emit(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == "phase":
            self.phase = str(event.get("phase"))
            if self.phase == "watch":
                self.window = (float(event["ts"]), float(event.get("duration") or 0))
        self._clear()
        line = describe(event)
        if line is not None and kind != "tick":
            print(line, file=self.out)
        if kind == "tick":
            self._status(event)
        self.out.flush()

    def _clear(self) -> None:
        for _ in range(self._status_lines):
            self.out.write("\x1b[1A\x1b[2K")
        self._status_lines = 0

    def _status(self, event: Mapping[str, Any]) -> None:
        lines = [f"[{self.phase}] " + _tick_line(event)]
        if self.window and self.phase == "watch":
            start, duration = self.window
            done = min(1.0, (float(event["ts"]) - start) / duration) if duration else 1.0
            filled = int(done * self.BAR)
            left = max(0.0, duration - (float(event["ts"]) - start))
            lines.append(f"fault window [{'#' * filled}{'.' * (self.BAR - filled)}] "
                         f"{done:4.0%}  {left:.0f} s left")
        for line in lines:
            print(line, file=self.out)
        self._status_lines = len(lines)


def make_sink(out: TextIO | None = None) -> PlainSink | LiveSink:
    stream = out or sys.stderr
    import os

    if stream.isatty() and not os.environ.get("CI"):
        return LiveSink(stream)
    return PlainSink(stream)
