"""The live view on a terminal and the plain lines in CI, fed real engine events."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from runner.cli import live
from tests.engine.conftest import Harness


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


def test_a_terminal_gets_a_redrawn_status_with_a_fault_window_progress_bar(
        harness: Callable[..., Harness]) -> None:
    h = harness()
    h.run()
    term = Terminal()
    sink = live.LiveSink(term)
    for event in h.sink.events:
        sink.emit(event)
    text = term.getvalue()
    assert "fault window [" in text and "s left" in text
    assert "\x1b[1A\x1b[2K" in text  # the status block is redrawn in place
    assert "E=" in text and "p=" in text  # e-values and p-values shown per probe


def test_make_sink_chooses_plain_lines_when_ci_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert isinstance(live.make_sink(Terminal()), live.PlainSink)
    monkeypatch.delenv("CI")
    assert isinstance(live.make_sink(Terminal()), live.LiveSink)
    assert isinstance(live.make_sink(io.StringIO()), live.PlainSink)
