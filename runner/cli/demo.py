"""``gameday demo``: the local sandbox and two real game days on it, end to end.

Brings the sandbox up in a fresh state directory, runs the replica kill the service
survives (expected: steady state held, exit 0) and the latency injection that breaks the
p99 SLO (expected: aborted and reverted, exit 1), prints where each journal and report
is, and always tears the sandbox down. Exits 0 when both behaved as expected.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import click

from runner import errors
from runner.cli import compose, runs
from runner.errors import ExitCode

DEMO_RUNS: tuple[tuple[str, ExitCode], ...] = (
    ("local-replica-kill.yaml", ExitCode.HELD),
    ("local-latency-p99.yaml", ExitCode.BROKEN),
)


@dataclasses.dataclass(frozen=True)
class DemoResult:
    file: str
    expected: ExitCode
    got: ExitCode
    verdict: str
    journal: Path | None
    reports: tuple[Path, ...]

    @property
    def as_expected(self) -> bool:
        return self.expected == self.got


def run_demo(experiments_dir: Path, journal_dir: Path, *, keep: bool = False) -> int:
    from runner.model import loader
    from runner.sandbox import manager

    state_dir = Path(tempfile.mkdtemp(prefix="gameday-demo-"))
    results: list[DemoResult] = []
    click.echo(f"gameday demo: bringing the local sandbox up in {state_dir} "
               "(3 replicas, proxy, traffic, Prometheus)...")
    try:
        manager.up(state_dir)
        click.echo("sandbox up.")
        options = compose.Options(sandbox_dir=state_dir)
        for name, expected in DEMO_RUNS:
            exp = loader.load(experiments_dir / name)
            click.echo(f"\n=== {exp.title} ({name}); expected exit {int(expected)} ===")
            try:
                finished = runs.execute(exp, options, journal_dir=journal_dir,
                                        sink=runs.default_sink())
                results.append(DemoResult(name, expected, finished.outcome.exit_code,
                                          finished.outcome.verdict, finished.journal,
                                          finished.reports))
            except errors.GamedayError as exc:
                click.echo(f"gameday: {exc.message}", err=True)
                results.append(DemoResult(name, expected, exc.exit_code, "error", None, ()))
            if results[-1].got == ExitCode.REVERT_FAILED or results[-1].verdict == "interrupted":
                break  # a human must look, or asked to stop: run nothing more
    finally:
        if keep:
            click.echo(f"\nsandbox left running: gameday sandbox down --dir {state_dir}")
        else:
            manager.down(state_dir)
            click.echo("\nsandbox down: every process stopped.")
    click.echo("\nsummary:")
    for r in results:
        mark = "as expected" if r.as_expected else "UNEXPECTED"
        click.echo(f"  {r.file}: {r.verdict}, exit {int(r.got)} "
                   f"(expected {int(r.expected)}) - {mark}")
        if r.journal:
            click.echo(f"    journal: {r.journal}")
        for path in r.reports:
            click.echo(f"    report:  {path}")
    ok = len(results) == len(DEMO_RUNS) and all(r.as_expected for r in results)
    click.echo("demo: " + ("both game days behaved as expected." if ok else "FAILED."))
    return 0 if ok else 1
