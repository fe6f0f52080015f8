"""``gameday demo``: the local sandbox and a real game day on it, end to end.

Brings the sandbox up in a fresh state directory, shows the plan of
``experiments/day-local.yaml`` (order, the error-budget gate with its numbers, the worst
case of each experiment), then runs that day: the replica kill the service survives
(expected: steady state held, exit 0), then — because it held — the latency injection
that breaks the p99 SLO (expected: aborted and reverted, exit 1); the day's exit is the
worst, 1. It prints where the day journal and every report are, and always tears the
sandbox down. Exits 0 when everything behaved as expected.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner import errors
from runner.cli import compose
from runner.errors import ExitCode

if TYPE_CHECKING:
    from runner.day import model as day_model

DAY_FILE = "day-local.yaml"
#: experiment id -> (its file, the exit code it should end with)
EXPECTED: dict[str, tuple[str, ExitCode]] = {
    "replica-kill": ("local-replica-kill.yaml", ExitCode.HELD),
    "latency-p99": ("local-latency-p99.yaml", ExitCode.BROKEN),
}
EXPECTED_DAY = ExitCode.BROKEN


@dataclasses.dataclass(frozen=True)
class DemoResult:
    file: str
    expected: ExitCode
    got: int | None
    state: str
    journal: str | None

    @property
    def as_expected(self) -> bool:
        return self.got is not None and int(self.expected) == self.got


def run_demo(experiments_dir: Path, journal_dir: Path, *, keep: bool = False) -> int:
    from runner.cli import day as day_cli
    from runner.cli import day_plan
    from runner.day import loader as day_loader
    from runner.sandbox import manager

    state_dir = Path(tempfile.mkdtemp(prefix="gameday-demo-"))
    results: list[DemoResult] = []
    code: int | None = None
    day_dir: Path | None = None
    click.echo(f"gameday demo: bringing the local sandbox up in {state_dir} "
               "(3 replicas, proxy, traffic, Prometheus)...")
    try:
        manager.up(state_dir)
        click.echo("sandbox up.")
        options = compose.Options(sandbox_dir=state_dir)
        day_path = experiments_dir / DAY_FILE
        _wait_for_history(day_loader.load(day_path), options)
        click.echo(f"\n=== the plan of {DAY_FILE} (nothing is touched) ===")
        day_plan.render(day_plan.build(day_loader.load(day_path), options))
        click.echo(f"\n=== the game day {DAY_FILE}; expected day exit {int(EXPECTED_DAY)} ===")
        try:
            code, day_dir = day_cli.run_day_at(day_path, options, journal_dir=journal_dir)
        except errors.GamedayError as exc:
            click.echo(f"gameday: {exc.message}", err=True)
            code = int(exc.exit_code)
        results = _results(day_dir)
    finally:
        if keep:
            click.echo(f"\nsandbox left running: gameday sandbox down --dir {state_dir}")
        else:
            manager.down(state_dir)
            click.echo("\nsandbox down: every process stopped.")
    return _summary(results, code, day_dir)


def _wait_for_history(day: day_model.Day, options: compose.Options,
                      timeout: float = 60.0) -> None:
    """A sandbox seconds old has no traffic history yet, and an error-budget gate that
    cannot read one is closed: wait (bounded) until every budget gate has its numbers."""
    import time

    from runner.adapters import burnrate, prometheus
    from runner.day import model as day_model

    budgets = [g for g in day.gates if isinstance(g, day_model.ErrorBudgetGate)]
    if not budgets or not day.experiments:
        return
    exp = day.experiments[0].experiment
    source = prometheus.PrometheusSource(compose.resolve_prometheus(exp, options),
                                         exp.prometheus.tick)
    reads = burnrate.SloQueries(source.query)
    click.echo("waiting for the sandbox's first traffic history (the error-budget gate "
               "reads it)...")
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                if all(reads.value(g.total) for g in budgets):
                    return
            except errors.PlatformError:
                pass
            time.sleep(1.0)
    finally:
        source.close()


def _results(day_dir: Path | None) -> list[DemoResult]:
    from runner.day import records
    from runner.journal import reader

    entries = {}
    if day_dir is not None and (day_dir / records.JOURNAL_NAME).exists():
        read = reader.read(day_dir / records.JOURNAL_NAME)
        entries = dict(records.summarize(read.events).entries)
    found = []
    for entry_id, (file, expected) in EXPECTED.items():
        entry = entries.get(entry_id)
        found.append(DemoResult(file, expected, entry.exit_code if entry else None,
                                entry.state if entry else "not run",
                                entry.journal if entry else None))
    return found


def _summary(results: list[DemoResult], code: int | None, day_dir: Path | None) -> int:
    click.echo("\nsummary:")
    for r in results:
        mark = "as expected" if r.as_expected else "UNEXPECTED"
        got = "-" if r.got is None else str(r.got)
        click.echo(f"  {r.file}: {r.state}, exit {got} (expected {int(r.expected)}) - {mark}")
        if r.journal:
            click.echo(f"    journal: {r.journal}")
    day_ok = code == EXPECTED_DAY
    click.echo(f"  {DAY_FILE}: day exit {'-' if code is None else code} (expected "
               f"{int(EXPECTED_DAY)}) - {'as expected' if day_ok else 'UNEXPECTED'}")
    if day_dir is not None:
        for name in ("day.jsonl", "day-report.md", "day-report.html", "day-junit.xml"):
            if (day_dir / name).exists():
                click.echo(f"    {name}: {day_dir / name}")
    ok = day_ok and all(r.as_expected for r in results)
    click.echo("demo: " + ("the game day behaved as expected." if ok else "FAILED."))
    return 0 if ok else 1
