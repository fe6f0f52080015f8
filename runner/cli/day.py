"""``gameday day plan|run|report|resume``: game days from the command line.

Thin: parse options, build the real parts (``day_compose``), hand them to
``runner.day.conduct`` and map the outcome to the exit code. Decisions:

- ``day run`` refuses before it writes anything (exit 3) while an emergency stop is in
  force, outside the window (saying when the next opens), or while another process runs
  the same day file (a lock on the file). Otherwise it writes ``<dir>/<day id>/day.jsonl``
  and one run directory per experiment beside it, then the day's reports.
- SIGINT/SIGTERM between experiments end the day (the rest is skipped); during a run
  the run handles them as ``gameday run`` does (it reverts, exit 4), and the day ends.
- ``day resume JOURNAL`` reverts what the dead day left pending (through ``gameday
  revert``'s path), then continues with the experiments that had not started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner import errors, ports
from runner.cli import compose
from runner.errors import ExitCode

if TYPE_CHECKING:  # the day's modules load when a day command runs, not at start-up
    from runner.day import conduct
    from runner.day import model as day_model
    from runner.engine import clock as clock_mod
    from runner.journal import writer



def _options(sandbox: Path | None, kubeconfig: str | None, context: str | None,
             allow_production: bool) -> compose.Options:
    return compose.Options(sandbox_dir=sandbox, kubeconfig=kubeconfig, context=context,
                           allow_production=allow_production)


def _say(line: str) -> None:
    click.echo(f"day: {line}", err=True)


def _signals(cancel: clock_mod.Cancel) -> contextlib.AbstractContextManager[None]:
    from runner.cli import runs

    step = "the day ends after the current step (a running experiment reverts first)."
    return runs.signals_to(cancel, first=step, again=step)


def plan_day(file: Path, options: compose.Options, *, as_json: bool) -> int:
    from runner.cli import day_plan
    from runner.day import loader as day_loader

    return day_plan.show(day_loader.load(file), options, as_json=as_json)


def refuse_to_start(day: day_model.Day, now: float) -> None:
    """Exit 3 before anything is written: a stop in force, or outside the window."""
    from runner.adapters import stop
    from runner.day import calendar
    stop.refuse_if_stopped("game day")
    if day.window is not None and day.experiments:
        answer = calendar.check(day.window, now, needs=day.experiments[0].expected_seconds)
        if not answer.open:
            raise errors.RefusedError(
                f"The day {day.source} does not start now: {answer.reason}. Nothing was "
                "run; run it again inside its window (or change 'when').")


@dataclasses.dataclass(frozen=True)
class Settings:
    """How a day runs: dry runs, the journals' key, the seed, gameday's own metrics."""

    dry: bool = False
    journal_key: bytes | None = None
    seed: int | None = None
    metrics_port: str | None = None
    pushgateway: str | None = None
    metrics_textfile: Path | None = None


def run_day(file: Path, options: compose.Options, *, journal_dir: Path,
            settings: Settings) -> int:
    return run_day_at(file, options, journal_dir=journal_dir, settings=settings)[0]


def run_day_at(file: Path, options: compose.Options, *, journal_dir: Path,
               settings: Settings = Settings()) -> tuple[int, Path]:
    """Run the day in ``file``; its exit code and its directory (``<dir>/<day id>``)."""
    from runner.cli import day_compose, runs
    from runner.day import conduct, records
    from runner.day import loader as day_loader
    from runner.engine import clock as clock_mod
    from runner.journal import writer

    day = day_loader.load(file)
    refuse_to_start(day, time.time())
    with day_compose.day_lock(day.source), runs.open_sink(
            settings.metrics_port, settings.pushgateway, settings.metrics_textfile) as sink:
        day_id = day_compose.day_id(day.title)
        day_dir = journal_dir / day_id
        cancel = clock_mod.Cancel()
        with _signals(cancel), writer.JournalWriter(
                day_dir / records.JOURNAL_NAME, now=time.time, key=settings.journal_key,
                listeners=[sink.emit]) as jw:
            _say(f"{day.title}: journal {jw.path}")
            session = conduct.DayRun(day, _ports(jw, options, day_dir, cancel, settings, sink),
                                     day_id=day_id)
            session.start(dry=settings.dry)
            outcome = session.execute()
        return _finish(day_dir, outcome), day_dir


def _ports(jw: writer.JournalWriter, options: compose.Options, day_dir: Path,
           cancel: clock_mod.Cancel, settings: Settings, sink: ports.Sink) -> conduct.DayPorts:
    """The day's ports; one sink for every run (the live view, gameday's own metrics)."""
    from runner.adapters import stop
    from runner.cli import day_compose
    from runner.day import conduct
    from runner.engine import clock as clock_mod

    def stopped() -> str | None:
        record = stop.read()
        return stop.describe(record) if record else None

    launcher = day_compose.Launcher(options, day_dir, sink, dry=settings.dry,
                                    journal_key=settings.journal_key, seed=settings.seed,
                                    cancel=cancel)
    return conduct.DayPorts(journal=jw, clock=clock_mod.SystemClock(), launcher=launcher,
                            assessor=day_compose.Assessor(options), stopped=stopped,
                            cancel=cancel, say=_say)


def _finish(day_dir: Path, outcome: conduct.DayOutcome) -> int:
    from runner.day import records

    journal = day_dir / records.JOURNAL_NAME
    written = write_reports(journal)
    click.echo(f"day verdict: exit {int(outcome.exit_code)} - {outcome.reason}")
    for entry_id, state in outcome.states.items():
        click.echo(f"  {entry_id}: {state}")
    click.echo(f"day journal: {journal}")
    for path in written:
        click.echo(f"report:  {path}")
    return int(outcome.exit_code)


def write_reports(journal: Path) -> list[Path]:
    from runner.day import report as day_report

    try:
        return day_report.write(journal)
    except errors.GamedayError as exc:
        click.echo(f"gameday: the day's reports could not be written: {exc.message}", err=True)
        return []


def resume_day(journal_path: Path, options: compose.Options, *, settings: Settings) -> int:
    from runner.cli import day_compose, reverting, runs
    from runner.day import conduct, records, resume
    from runner.engine import clock as clock_mod
    from runner.journal import reader, writer

    journal_key = settings.journal_key

    read = reader.read(journal_path, key=journal_key)
    problems = reader.verify(read, key=journal_key)
    if problems:
        raise errors.InputError(
            f"{journal_path}: the day journal's chain is broken ({'; '.join(problems[:3])}); "
            "a day is only resumed from a journal that verifies. Nothing was run.")
    summary = records.summarize(read.events)
    started = summary.started
    if started is None:
        raise errors.InputError(f"{journal_path} is not a day journal (no day-started "
                                "event); `gameday revert` finishes a single run.")
    if summary.verdict is not None:
        click.echo(f"nothing to resume: the day already ended ({summary.verdict.get('reason')})")
        return int(summary.verdict.get("exit_code") or 0)
    day = _recorded_day(started)
    todo = resume.plan(summary)
    with day_compose.day_lock(day.source), runs.open_sink(
            settings.metrics_port, settings.pushgateway, settings.metrics_textfile) as sink:
        cancel = clock_mod.Cancel()
        with _signals(cancel), writer.JournalWriter(read.path, now=time.time,
                                                     key=journal_key,
                                                     listeners=[sink.emit]) as jw:
            session = conduct.DayRun(day, _ports(jw, options, read.path.parent, cancel,
                                                 settings, sink),
                                     day_id=str(started["day_id"]), ended=todo.ended)
            reverted = []
            for crashed in todo.crashed:
                _say(f"{crashed.id} was running when the day died: finishing its reverts "
                     f"first ({crashed.journal})")
                code = reverting.revert_journal(crashed.journal, sink=sink,
                                                key=journal_key, say=_say)
                verdict = reader.read(crashed.journal, key=journal_key).last("verdict")
                state, exit_code, reason = resume.after_crash(verdict, int(code))
                reverted.append({"id": crashed.id, "journal": str(crashed.journal),
                                 "revert_exit_code": int(code)})
                session.finish_crashed(crashed.id, crashed.run_id, crashed.journal, state,
                                       exit_code, reason)
            session.resumed(reverted)
            try:
                refuse_to_start(day, time.time())
            except errors.RefusedError as exc:
                click.echo(f"gameday: the pending reverts are done, but the day does not go "
                           f"on now: {exc.message} Resume it again later with `gameday day "
                           f"resume {read.path}`.", err=True)
                return int(ExitCode.REFUSED)
            outcome = session.execute()
        return _finish(read.path.parent, outcome)


def _recorded_day(started: Mapping[str, object]) -> day_model.Day:
    from runner.day import loader as day_loader

    source = str(started.get("source"))
    day = day_loader.load(source)
    if day.sha256 != started.get("day_sha256"):
        raise errors.InputError(
            f"The day file {source} changed since the day started (sha256 "
            f"{str(started.get('day_sha256'))[:12]}, now {day.sha256[:12]}); a resume runs "
            "what the day started with. Restore the file, or start a new day.")
    recorded = {str(e["id"]): e.get("sha256") for e in started.get("experiments", [])  # type: ignore[attr-defined]
                if isinstance(e, dict)}
    for entry in day.experiments:
        if recorded.get(entry.id) not in (None, entry.experiment.sha256):
            raise errors.InputError(
                f"The experiment file {entry.source} of {entry.id!r} changed since the day "
                "started; a resume runs what the day started with. Nothing was run.")
    return day


sandbox_option = click.option(
    "--sandbox", "sandbox", type=click.Path(path_type=Path), default=None,
    help="Local sandbox state directory (default: $GAMEDAY_SANDBOX or ./.gameday/sandbox).")
kube_options = [
    click.option("--kubeconfig", default=None, help="Kubeconfig file (default: as kubectl)."),
    click.option("--context", default=None, help="Kube context to use."),
    click.option("--allow-production", is_flag=True,
                 help="Allow a production-looking context (the experiments must allow it)."),
]
key_option = click.option(
    "--journal-key-file", type=click.Path(path_type=Path), default=None,
    help="Key for HMAC-SHA256 journal chains (default: $GAMEDAY_JOURNAL_KEY).")
metrics_options = [
    click.option("--metrics-port", metavar="[HOST:]PORT", default=None,
                 help="Serve gameday's own metrics for the whole day (every run, and each "
                      "experiment's state) on this port."),
    click.option("--pushgateway", metavar="URL", default=None,
                 help="Push gameday's own metrics to this Pushgateway as the day goes."),
    click.option("--metrics-textfile", type=click.Path(path_type=Path), default=None,
                 help="Write gameday's own metrics to this node_exporter textfile."),
]


def metrics(fn: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(metrics_options):
        fn = option(fn)
    return fn


def kube(fn: Callable[..., None]) -> Callable[..., None]:
    """The Kubernetes options every day command takes."""
    for option in reversed(kube_options):
        fn = option(fn)
    return fn


@click.group("day")
def day() -> None:
    """Game days: several experiments in order, under gates and a window."""


@day.command("plan")
@click.argument("file", type=click.Path(path_type=Path))
@sandbox_option
@kube
@click.option("--json", "as_json", is_flag=True, help="Print one gameday.day-plan/v1 document.")
def plan_command(file: Path, sandbox: Path | None, as_json: bool, kubeconfig: str | None,
                 context: str | None, allow_production: bool) -> None:
    """Order, gates now with their numbers, targets, durations; touches nothing."""
    raise SystemExit(plan_day(file, _options(sandbox, kubeconfig, context, allow_production),
                              as_json=as_json))


@day.command("run")
@click.argument("file", type=click.Path(path_type=Path))
@sandbox_option
@kube
@click.option("--journal-dir", type=click.Path(path_type=Path), default=None,
              help="Where the day writes <day id>/ (default: ./reports or $GAMEDAY_REPORTS).")
@click.option("--dry", is_flag=True, help="Every run dry: preflight, baseline, watch; no fault.")
@click.option("--seed", type=int, default=None, help="Seed for target choice (journaled).")
@key_option
@metrics
def run_command(file: Path, sandbox: Path | None, journal_dir: Path | None, dry: bool,
                seed: int | None, journal_key_file: Path | None, kubeconfig: str | None,
                context: str | None, allow_production: bool, metrics_port: str | None,
                pushgateway: str | None, metrics_textfile: Path | None) -> None:
    """Run the day: each experiment through the window, its gates and gameday run."""
    from runner.journal import keys

    settings = Settings(dry=dry, journal_key=keys.load(journal_key_file), seed=seed,
                        metrics_port=metrics_port, pushgateway=pushgateway,
                        metrics_textfile=metrics_textfile)
    raise SystemExit(run_day(file, _options(sandbox, kubeconfig, context, allow_production),
                             journal_dir=journal_dir or compose.reports_root(),
                             settings=settings))


@day.command("resume")
@click.argument("journal", type=click.Path(path_type=Path))
@sandbox_option
@kube
@click.option("--seed", type=int, default=None, help="Seed for target choice (journaled).")
@key_option
@metrics
def resume_command(journal: Path, sandbox: Path | None, seed: int | None,
                   journal_key_file: Path | None, kubeconfig: str | None, context: str | None,
                   allow_production: bool, metrics_port: str | None, pushgateway: str | None,
                   metrics_textfile: Path | None) -> None:
    """After a crash: finish pending reverts, then the experiments that had not started."""
    from runner.journal import keys

    settings = Settings(journal_key=keys.load(journal_key_file), seed=seed,
                        metrics_port=metrics_port, pushgateway=pushgateway,
                        metrics_textfile=metrics_textfile)
    raise SystemExit(resume_day(journal, _options(sandbox, kubeconfig, context,
                                                  allow_production), settings=settings))


@day.command("report")
@click.argument("journal", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Directory for the reports (default: beside the journal).")
def report_command(journal: Path, out: Path | None) -> None:
    """Markdown, HTML and JUnit for the whole day, linking each run's reports."""
    from runner.day import report as day_report

    for path in day_report.write(journal, out):
        click.echo(str(path))
