"""The live view on a terminal and the plain lines in CI, fed real engine events.

The terminal tests run gameday in a real pseudo-terminal and read the screen back with a
VT100 emulator (pyte), the way a person would see it: a real ``gameday run`` on the
sandbox, and a driven sink for the narrow, colourless terminal cases.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte
import pytest

from runner.cli import live
from tests.cli.conftest import latency_experiment
from tests.engine.conftest import Harness

ROOT = Path(__file__).resolve().parents[2]
COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;[25];[0-9;]+)m")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_ci_gets_one_timestamped_line_per_event_of_interest(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    h.run()
    out = io.StringIO()
    sink = live.PlainSink(out)
    for event in h.sink.events:
        sink.emit(event)
    lines = out.getvalue().splitlines()
    assert any("phase watch" in line for line in lines)
    assert any(line.endswith("verdict: held (exit 0): steady state held: the fault window "
                             "ended without an abort") for line in lines)
    assert all(line[2] == ":" and line[5] == ":" for line in lines)  # HH:MM:SS prefix


def test_a_terminal_gets_a_status_panel_with_probes_guardrails_faults_and_a_progress_bar(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    h.run()
    term = Terminal()
    sink = live.LiveSink(term, force_terminal=True, width=100)
    watch_tick = next(i for i, e in enumerate(h.sink.events)
                      if e["type"] == "tick" and e["phase"] == "watch" and e["tick"] == 3)
    for event in h.sink.events[: watch_tick + 1]:
        sink.emit(event)
    screen = _screen(term.getvalue(), 100, 60)
    assert "phase watch   tick 3/30" in screen
    assert re.search(r"fault window ━+╺?━*\s+10%\s+135 s left", screen)
    assert re.search(r"│ errors\s+ok\s+[0-9.]+\s+1\s+\d+\.\d\d% \(\d+/200\)\s+│", screen)
    assert "guardrails: ready = 3 in bounds" in screen
    assert "faults live: #0 kill; #1 slow" in screen
    for event in h.sink.events[watch_tick + 1:]:
        sink.emit(event)
    assert sink._live is None  # stopped at the verdict
    assert "verdict" not in term.getvalue()  # the command prints it, once
    assert "faults live: none" in _screen(term.getvalue(), 100, 60)


def test_make_sink_chooses_plain_lines_when_ci_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert isinstance(live.make_sink(Terminal()), live.PlainSink)
    monkeypatch.delenv("CI")
    assert isinstance(live.make_sink(Terminal()), live.LiveSink)
    assert isinstance(live.make_sink(io.StringIO()), live.PlainSink)


def _screen(raw: str, columns: int, rows: int) -> str:
    screen = pyte.Screen(columns, rows)
    stream = pyte.Stream(screen)
    stream.feed(raw.replace("\n", "\r\n"))
    return "\n".join(line.rstrip() for line in screen.display)


def in_a_pty(argv: list[str], *, columns: int, rows: int, env: dict[str, str],
             timeout: float) -> tuple[int, str]:
    """Run ``argv`` with a pty as its terminal; (exit code, every byte it wrote)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
                            start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def _env(**extra: str) -> dict[str, str]:
    # COLUMNS/LINES would override the pty's size (rich and shutil read them first); a
    # test runner may export them, so the child sees only the pty's own size.
    dropped = {"CI", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**env, "TERM": "xterm-256color", **extra}


@pytest.mark.slow
@pytest.mark.prometheus
def test_a_real_run_on_a_terminal_draws_the_panel_and_says_the_verdict_once(
        cli_sandbox: Path, tmp_path: Path) -> None:
    exp = latency_experiment(tmp_path / "pty.yaml")
    code, raw = in_a_pty(
        [sys.executable, "-m", "runner.cli.main", "run", str(exp), "--sandbox", str(cli_sandbox),
         "--journal-dir", str(tmp_path / "runs")],
        columns=100, rows=200, env=_env(), timeout=150)
    screen = _screen(raw, 100, 200)
    assert code == 1, screen
    assert "Traceback" not in raw
    assert re.search(r"phase (watch|revert|recovery)\s+", screen)
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)  # every frame the panel drew
    assert re.search(r"median latency\s+REJECT\s+\S+\s+\S+\s+\d+\.\d\d% \(\d+/\d+\)", drawn)
    assert re.search(r"fault window ━+╺?━*\s+\d+%\s+closed", screen)  # frozen at the abort
    assert "fault window ━" in screen and "guardrails: ready replicas = 3" in screen
    assert re.search(r"\d\d:\d\d:\d\d ABORT \(steady-state\)", screen)
    assert len(re.findall(r"^verdict: broken", screen, re.MULTILINE)) == 1
    verdict = screen[screen.index("verdict: broken"):screen.index("journal: ")]
    assert "reverted" in verdict.replace("\n  ", " ")  # wrapped at spaces, never mid-word
    assert COLOUR.search(raw), "a colour terminal gets colours"


def test_no_color_and_a_narrow_terminal_lose_no_word_and_no_decision(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    driver = f"""
import sys
from pathlib import Path
from runner import testing
from runner.cli import live
from runner.engine import clock
from tests.engine import conftest
from tests.cli.test_telemetry import broken_after
h = conftest.Harness(conftest.make_experiment(), testing.ScriptedMetrics(broken_after(16)),
                     testing.FakePlatform(), testing.RecordingActivities(),
                     testing.FakeClock(), clock.Cancel(), Path({str(tmp_path)!r}) / "j.jsonl",
                     live.make_sink(sys.stderr))
h.run()
"""
    code, raw = in_a_pty([sys.executable, "-c", driver], columns=60, rows=300,
                         env=_env(NO_COLOR="1"), timeout=120)
    assert code == 0, raw
    assert not COLOUR.search(raw), "NO_COLOR: no colour codes at all"
    screen = _screen(raw, 60, 300)
    assert "REJECT" in screen and "ABORT (steady-state)" in screen
    from tests.cli.test_telemetry import broken_after

    same = harness(script=broken_after(16))  # the driver's run, replayed here
    same.run()
    said = " ".join(line for e in same.sink.events
                    if e["type"] in live.LiveSink.HISTORY and (line := live.describe(e)))
    on_screen = set(re.findall(r"[A-Za-z]+", screen))
    cut = {w for w in re.findall(r"[A-Za-z]{4,}", said) if w not in on_screen}
    assert not cut, f"words cut across lines: {sorted(cut)}\nscreen:\n{screen}\nraw: {raw!r}"
