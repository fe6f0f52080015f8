"""Replaying an experiment over a fetched history: windows, passes, the replay's journal.

The composition of ``driver`` (one window through the engine) and ``session`` (which
windows, the calibration passes, the totals), adapter-free: the history arrives as a
``session.Fetched`` and a ``source_for(now)`` factory, so this package never speaks
HTTP. The replay journals itself (``replay-started``, a ``replay-window`` for each window
that would have aborted or covers an incident, ``replay-finished`` with the counts of
all of them) in the output directory: what was replayed, over which history, and what
it would have done, for a reviewer who was not there (replay.json lists every window).

A Ctrl-C (the ``cancel`` token) ends the replay between windows: what was replayed is
kept, and the result is marked partial with the reason.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runner import errors, ports
from runner.engine import clock as clock_mod
from runner.journal import events, writer
from runner.model import experiment as model
from runner.replay import driver, output, session, windows


@dataclasses.dataclass(frozen=True)
class Request:
    """What to replay and how (built by the CLI, or by ``gameday plan``/``run``)."""

    exp: model.Experiment
    span: windows.Span
    every: int | None = None
    incidents: tuple[windows.Span, ...] = ()
    calibrate: bool = False
    confidence: float = 0.95
    out_dir: Path | None = None  # None: keep nothing on disk (preflight use)


def replay(request: Request, fetched: session.Fetched,
           source_for: Callable[[Callable[[], float]], ports.MetricsSource], *,
           cancel: clock_mod.Cancel | None = None,
           progress: session.ProgressFn | None = None,
           monotonic: Callable[[], float] = time.monotonic) -> session.Result:
    exp, notes = session.replayable(request.exp)
    layout = windows.Layout.of(exp, request.every)
    planned, more = session.plan_windows(fetched, layout, request.incidents)
    notes += more
    if fetched.complete and not planned:
        notes.append(f"the fetched history ({fetched.complete} ticks) is shorter than one "
                     f"window with its baseline ({layout.span + 1} ticks): nothing to replay")
    keep = request.out_dir / "windows" if request.out_dir is not None else None
    token = cancel or clock_mod.Cancel()
    runner = driver.Runner(
        exp=exp, source_for=source_for, grid_time=fetched.time, tick=fetched.tick,
        layout_baseline=layout.baseline, layout_window=layout.window, cancel=token,
        keep_dir=keep, scrub=exp.prometheus.secret_values(),
        context={"source": fetched.where, "from": windows.iso(request.span.start),
                 "to": windows.iso(request.span.end)})
    began = monotonic()
    results: list[driver.WindowResult] = []
    stopped: str | None = None
    try:
        for n, window in enumerate(planned):
            results.append(runner.run(window))
            if progress is not None:
                progress("replaying", n + 1, len(planned))
        calibrated = None
        if request.calibrate:
            calibrated = session.calibrate(
                runner, results, alpha=exp.steady_state.alpha,
                confidence=request.confidence, source=fetched.where,
                window_seconds=layout.window * layout.tick, progress=progress)
    except errors.Interrupted as exc:
        stopped = (f"the replay was {exc.message} after {len(results)} of {len(planned)} "
                   "windows; the rest were not replayed")
        calibrated = None
    if stopped is not None:
        fetched = dataclasses.replace(fetched, failure=stopped)
    return session.summarise(exp, request.span, layout, fetched, results, request.incidents,
                             calibrated, notes, confidence=request.confidence,
                             decide_seconds=monotonic() - began)


def journal(result: session.Result, path: Path, *, now: Callable[[], float] = time.time,
            listeners: Sequence[writer.Listener] = ()) -> Path:
    """The replay's own journal: what was replayed and what each window would have done."""
    data = output.to_json(result)
    with writer.JournalWriter(path, now=now, listeners=list(listeners),
                              scrub=result.exp.prometheus.secret_values()) as jw:
        jw.append(events.REPLAY_STARTED, title=result.exp.title, source=result.exp.source,
                  experiment=dict(result.exp.document), experiment_sha256=result.exp.sha256,
                  prometheus=data["prometheus"], range=data["range"], layout=data["layout"],
                  dry_run=True, replay=True)
        for w in data["windows"]:  # every window is in replay.json; here the telling ones
            if w["status"] not in ("held", "refused") or w["kind"] == "incident":
                jw.append(events.REPLAY_WINDOW, **_compact(w))
        jw.append(events.REPLAY_FINISHED, partial=data["partial"], failure=data["failure"],
                  false_aborts=data["false_aborts"],
                  steady_state_test=data["steady_state_test"], counts=data["counts"],
                  incidents=[{k: v for k, v in i.items() if k != "aligned"}
                             for i in data["incidents"]],
                  calibrated=data["calibrated"], fetched=data["fetched"])
    return path


def _compact(w: dict[str, Any]) -> dict[str, Any]:
    keep = ("index", "kind", "start", "healthy", "incident", "status", "abort_kind",
            "abort_tick", "abort_at", "reason", "sup_log_e", "journal")
    return {k: w[k] for k in keep}
