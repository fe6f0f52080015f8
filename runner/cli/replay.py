"""``gameday replay FILE``: would this experiment have aborted last week?

The composition root of a replay: parse the range and incidents (bad ones are exit 2
before anything is fetched), fetch the history once through the Prometheus adapter
(``history``), replay every window through the engine (``runner.replay``), and write
the Markdown, HTML and JSON results with the replay's own journal and the journals of
the windows worth reading. Exit codes: 0 replayed; 2 bad input; 3 nothing to replay
(the probes have no history); 4 partial (Prometheus failed or a signal came mid-replay:
what was replayed is written and marked partial, the message says why).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner import errors
from runner.cli import compose

if TYPE_CHECKING:  # imported where used: registering the command must stay cheap
    from runner import ports
    from runner.model import experiment as model
    from runner.replay import session, windows
    from runner.stats import history as stats_history

#: The history timeout: range queries of 10 000 steps are heavier than a tick's reads.
DEFAULT_TIMEOUT = 30.0
#: The longest range replay fetches in one go (Prometheus keeps 15 days by default).
MAX_STEPS = 2_000_000


@dataclasses.dataclass(frozen=True)
class Fetch:
    fetched: session.Fetched
    source_for: Callable[[Callable[[], float]], ports.MetricsSource]


def fetch(exp: model.Experiment, span: windows.Span, options: compose.Options, *,
          timeout: float = DEFAULT_TIMEOUT, progress: bool = False) -> Fetch:
    """Fetch the history an experiment needs over ``span`` (once) and a source factory."""
    from runner.adapters.prometheus import connection, history_source
    from runner.adapters.prometheus import history as hist
    from runner.replay import session

    replayed, _ = session.replayable(exp)
    grid = hist.Grid.covering(span.start, span.end, exp.prometheus.tick)
    if grid.steps > MAX_STEPS:
        raise errors.InputError(
            f"gameday replay: {grid.steps} ticks of {exp.prometheus.tick:g} s is more than "
            f"{MAX_STEPS} in one replay; replay a shorter range.")
    config = dataclasses.replace(compose.resolve_prometheus(exp, options), timeout=timeout)

    def shown(done: int, total: int) -> None:
        if progress:
            click.echo(f"gameday replay: fetched {done}/{total} ticks", err=True)

    conn = connection.Connection(config, pool_size=1, sleep=time.sleep)
    try:
        got = hist.Fetcher(conn, on_chunk=shown).fetch(replayed.steady_state,
                                                       exp.abort.alerts, grid)
    finally:
        conn.close()
    tracks = history_source.Tracks.build(got, replayed.steady_state, exp.abort.alerts)
    fetched = session.Fetched(
        origin=grid.origin, tick=grid.tick, steps=grid.steps, complete=got.complete,
        where=got.where, failure=got.failure, problems=tuple(got.problems),
        notes=tuple(got.notes), seconds=got.seconds, queries=got.queries, points=got.points,
        splits=got.splits, series=history_source.per_step(tracks))
    return Fetch(fetched, lambda now: history_source.HistorySource(tracks, now))


def out_dir(exp: model.Experiment, given: Path | None) -> Path:
    if given is not None:
        return given
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id = compose.new_run_id(exp.title).split("-", 1)[1]
    return compose.reports_root() / f"replay-{stamp}-{run_id}"


def run(file: Path, *, start: str | None, end: str | None, last: str | None,
        every: int | None, incidents: Sequence[str], calibrate: bool, as_json: bool,
        out: Path | None, timeout: float, options: compose.Options,
        now: Callable[[], float] = time.time) -> int:
    from runner.cli import runs
    from runner.engine import clock as clock_mod
    from runner.model import loader
    from runner.replay import output, replaying, windows

    exp = loader.load(file)
    moment = now()
    span = windows.parse_range(start, end, last, now=moment)
    spans = tuple(windows.parse_incident(text, now=moment) for text in incidents)
    windows.Layout.of(exp, every)  # a bad --every is exit 2 before anything is fetched
    against = exp.steady_state.against == "history"
    got = fetch(exp, span, options, timeout=timeout, progress=not as_json)
    if got.fetched.complete == 0 and got.fetched.failure is not None:
        raise errors.RunnerError(got.fetched.failure.replace(
            "the replay covers only what was, and says so", "nothing was replayed"))
    target = out_dir(exp, out)
    request = replaying.Request(exp, span, every=every, incidents=spans,
                                calibrate=calibrate or against, out_dir=target)
    cancel = clock_mod.Cancel()

    def progress(what: str, done: int, total: int) -> None:
        if not as_json and (done == total or done % 250 == 0):
            click.echo(f"gameday replay: {what} {done}/{total} windows", err=True)

    with runs.signals_to(cancel):
        result = replaying.replay(request, got.fetched, got.source_for, cancel=cancel,
                                  progress=progress)
    written = write(result, target)
    data = output.to_json(result)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(output.markdown(result, limit=30))
        for path in written:
            click.echo(f"written: {path}")
    if result.partial:
        click.echo(f"gameday replay: PARTIAL: {result.fetched.failure}", err=True)
        return int(errors.ExitCode.RUNNER_ERROR)
    if result.fetched.problems and not result.healthy:
        click.echo("gameday replay: nothing could be replayed: "
                   + " ".join(result.fetched.problems), err=True)
        return int(errors.ExitCode.REFUSED)
    return 0


def write(result: session.Result, target: Path) -> list[Path]:
    from runner.replay import output, plot, replaying

    target.mkdir(parents=True, exist_ok=True)
    paths = [target / "replay.json", target / "replay.md", target / "replay.html"]
    paths[0].write_text(json.dumps(output.to_json(result), indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(output.markdown(result), encoding="utf-8")
    paths[2].write_text(plot.html(result), encoding="utf-8")
    paths.append(replaying.journal(result, target / "replay.jsonl"))
    return paths


@click.command("replay")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--from", "start", default=None, metavar="TIME",
              help="Start of the history (ISO 8601, UTC unless a zone is given; now-2d).")
@click.option("--to", "end", default=None, metavar="TIME", help="End of the history (default now).")
@click.option("--last", default=None, metavar="DURATION", help="The last DURATION (e.g. 7d).")
@click.option("--every", type=int, default=None, metavar="TICKS",
              help="Start a window every TICKS ticks (default: one every window length).")
@click.option("--incident", "incidents", multiple=True, metavar="FROM..TO",
              help="A known incident (repeatable); windows outside them are the healthy ones.")
@click.option("--calibrate", is_flag=True,
              help="Also choose the history-calibrated threshold (against: history).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Directory for replay.md/.html/.json/.jsonl (default: reports/replay-...).")
@click.option("--timeout", type=click.FloatRange(0.5, 600), default=DEFAULT_TIMEOUT,
              show_default=True, help="Seconds each history query may take.")
@click.option("--sandbox", type=click.Path(path_type=Path), default=None,
              help="Local sandbox state directory (for prometheus.url: sandbox).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (gameday.replay/v1, docs/JSON.md).")
def replay(file: Path, start: str | None, end: str | None, last: str | None,
           every: int | None, incidents: tuple[str, ...], calibrate: bool, out: Path | None,
           timeout: float, sandbox: Path | None, as_json: bool) -> None:
    """Replay FILE's decision path over Prometheus history: would it have aborted?"""
    code = run(file, start=start, end=end, last=last, every=every, incidents=incidents,
               calibrate=calibrate, as_json=as_json, out=out, timeout=timeout,
               options=compose.Options(sandbox_dir=sandbox))
    sys.stdout.flush()
    raise SystemExit(code)


@dataclasses.dataclass(frozen=True)
class Preflight:
    """What the history said before a run or a plan: for the journal and the screen."""

    calibration: stats_history.Calibration | None
    lines: tuple[str, ...]


def preflight(exp: model.Experiment, options: compose.Options, *,
              now: Callable[[], float] = time.time) -> Preflight:
    """Replay ``steady_state.history`` before any fault; refuse or warn above α.

    Raises ``errors.RefusedError`` (exit 3, nothing injected) when the estimate's lower
    bound is above α and the experiment says ``above_alpha: refuse``.
    """
    steady = exp.steady_state
    if steady.history is None:
        return Preflight(None, ())
    from runner.replay import replaying, windows
    from runner.stats import history as stats_history

    moment = now()
    span = windows.Span(moment - steady.history, moment)
    got = fetch(exp, span, options, timeout=DEFAULT_TIMEOUT)
    against = steady.against == "history"
    request = replaying.Request(exp, span, calibrate=against)
    result = replaying.replay(request, got.fetched, got.source_for)
    est = result.test_estimate
    lines = [f"history: {est.sentence()} over {windows.iso(span.start)}..{windows.iso(span.end)}"
             + (" (PARTIAL: " + (result.fetched.failure or "") + ")" if result.partial else "")]
    cal = result.calibrated
    calibration: stats_history.Calibration | None = None
    if against and cal is not None and cal.calibration is not None:
        calibration = dataclasses.replace(cal.calibration, estimate=est)
        lines.append(f"history: against history, the abort threshold is log E "
                     f"{calibration.threshold_log:.3f} (the model's own "
                     f"{calibration.model_threshold_log:.3f}), from {calibration.windows} "
                     "healthy windows")
    elif against:
        lines.append("history: against: history asked, but no calibrated threshold: "
                     f"{cal.reason if cal is not None else 'no replay'}; the model's own "
                     "threshold is used")
    if calibration is None:
        model_log = next((w.threshold_log for w in result.windows
                          if w.threshold_log is not None), 0.0)
        calibration = stats_history.Calibration(
            model_log, model_log, est.windows, (), result.layout.window * result.layout.tick,
            got.fetched.where, applied=False, estimate=est)
    if est.verdict == "above" and not against:
        advice = ("Add `against: history` to steady_state to calibrate the abort threshold "
                  "on the service's own past (gameday replay FILE --calibrate shows it), or "
                  "revisit the probes' thresholds.")
        if steady.history_above_alpha == "refuse":
            raise errors.RefusedError(
                f"Refused before any fault: on its own history this experiment would abort "
                f"healthy windows too often: {est.sentence()}. {advice} Nothing was "
                "injected.")
        lines.append(f"warning: the false-abort rate on history is above α. {advice}")
    return Preflight(calibration, tuple(lines))
