"""Journals for report tests: real runs on the engine's fake-port harness, and journals
written event by event with the real JournalWriter (for events the engine does not
write yet, or shapes that are hard to provoke)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runner import ports, report
from runner.journal import writer
from runner.model import experiment as model
from tests.engine.conftest import Harness, harness  # noqa: F401 - a fixture, used by name


def broken_after(tick: int) -> Callable[[int, model.Probe], ports.Sample]:
    """A script whose error ratio jumps to 30 % from metrics call ``tick`` on."""
    def script(call: int, probe: model.Probe) -> ports.Sample:
        if isinstance(probe, model.GaugeProbe):
            return ports.Value(3.0)
        return ports.Counts(n=200, e=60 if call > tick else 0)
    return script


def append(path: Path, *events: tuple[str, dict[str, Any]], at: float = 1_700_000_500.0) -> None:
    """Append events to a journal with the real writer (chain kept)."""
    clock = iter(at + k for k in range(10_000))
    with writer.JournalWriter(path, now=lambda: next(clock)) as jw:
        for type_, payload in events:
            jw.append(type_, **payload)


def reports(journal: Path, out: Path) -> dict[str, str]:
    written = report.write(journal, out)
    return {p.name: p.read_text(encoding="utf-8") for p in written.paths}


@pytest.fixture
def run_reports(harness: Callable[..., Harness],  # noqa: F811 - the fixture above
                tmp_path: Path) -> Callable[..., tuple[Harness, dict[str, str]]]:
    """Run the harness with the given options and return it with its reports."""
    def build(**options: Any) -> tuple[Harness, dict[str, str]]:
        h = harness(**options)
        h.run()
        return h, reports(h.journal_path, tmp_path / "out")
    return build
