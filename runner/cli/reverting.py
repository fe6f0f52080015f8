"""``gameday revert JOURNAL``: finish the reverts a dead run left pending, and nothing else.

Decisions:
- The journal is evidence to check, not a script to run. It is read (odd inputs are
  exit 2), its chain verified (``integrity``) and every pending revert judged by
  ``provenance`` (only reverts that derive from the experiment recorded at run-started
  run). What would run, and what would not and why, is printed before anything runs.
- Any break in the chain, a keyed journal without its key, a document problem or a
  revert that does not derive from the experiment refuses the whole session (exit 2)
  unless ``--force``. ``--force`` accepts the breaks; it never runs a refused revert
  (those are printed for a human to run by hand, and make the exit 5).
- Signs of truncation are reported but do not refuse: cutting lines off a journal can
  make gameday revert again (reverts are idempotent), never run something new.
- Reverting never depends on the journal being writable. The writer is opened first; if
  the journal cannot be opened for append (read-only, full disk, keyed without the key),
  the reverts run anyway, each outcome is printed, and the exit says the journal could
  not record it: 4 when every revert was observed to succeed, 5 when any failed or was
  not run. A journal another live process is writing (the run is alive) refuses (exit
  3) unless ``--force``.
- The session is one function, ``revert_journal``, that a caller may wrap in the run's
  lock (``lock``: entered after the first read, the journal then read again under it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runner import errors, ports
from runner.cli import compose
from runner.engine import clock as clock_mod
from runner.engine import reverts
from runner.errors import ExitCode
from runner.journal import chain, disk, events, integrity, provenance, reader, redact, writer

Lock = Callable[[reader.Journal], contextlib.AbstractContextManager[object]]
Say = Callable[[str], None]
_MAX_SHOWN = 2000


def describe_activity(activity: Mapping[str, Any]) -> str:
    """Exactly what an activity runs, in one line (bounded)."""
    provider = activity.get("provider")
    if not isinstance(provider, Mapping):
        return f"an activity without a provider: {json.dumps(activity, default=repr)}"
    kind = provider.get("type")
    args = provider.get("arguments")
    if kind == "python":
        shown = ", ".join(f"{k}={json.dumps(v, default=repr)}" for k, v in (args or {}).items()) \
            if isinstance(args, Mapping) else json.dumps(args, default=repr)
        text = f"python {provider.get('module')}.{provider.get('func')}({shown})"
    elif kind == "process":
        text = f"process {provider.get('path')} {json.dumps(args, default=repr)}"
    elif kind == "http":
        text = f"http {provider.get('method') or 'GET'} {provider.get('url')}"
    else:
        text = f"a {kind!r} provider: {json.dumps(provider, default=repr)}"
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _experiment_file(started: Mapping[str, Any], given: Path | None
                     ) -> tuple[Mapping[str, Any] | None, str | None]:
    """The document of the run's experiment file (``given``, else the recorded ``source``),
    if that file is still the one that ran."""
    recorded = started.get("experiment_sha256")
    source = str(given) if given is not None else (started.get("source_path")
                                                    or started.get("source"))
    if not isinstance(source, str) or not isinstance(recorded, str):
        return None, None
    path = Path(source)
    try:
        if not path.is_file() or path.stat().st_size > 16 * 1024 * 1024:
            return None, f"experiment file: {source} is not there now (nothing to compare)"
        same = hashlib.sha256(path.read_bytes()).hexdigest() == recorded
    except OSError:
        return None, f"experiment file: {source} cannot be read now (nothing to compare)"
    if not same:
        return None, (f"experiment file: {source} has changed since the run (the journal's "
                      "copy of the experiment is all there is)")
    from runner.model import loader

    try:
        document = redact.redact(dict(loader.load(path).document))
    except errors.GamedayError:
        return None, f"experiment file: {source} matches the run's sha256 but does not load now"
    return document, f"experiment file: {source} still matches the run's experiment_sha256"


def _integrity_line(found: integrity.Integrity, count: int) -> str:
    if not found.problems:
        return (f"integrity: ok ({found.chain} chain, {count} events"
                + (", sealed)" if found.sealed else ")"))
    return "integrity: " + ("BROKEN" if found.breaks else "NOT VERIFIED" if found.unverified
                            else "possibly truncated") + "\n  " + "\n  ".join(found.problems)


class _Recorder:
    """Journals what it can; never raises (a revert never waits for the journal)."""

    def __init__(self, jw: writer.JournalWriter | None, failure: str | None) -> None:
        self.jw = jw
        self.failure = failure
        self.lost = 0

    def __call__(self, type_: str, **payload: Any) -> object:
        if self.jw is None:
            self.lost += 1
            return None
        try:
            return self.jw.append(type_, **payload)
        except errors.JournalWriteFailed as exc:
            self.failure = self.failure or exc.message
            self.lost += 1
            return None

    append = __call__


def revert_journal(
    path: Path,
    *,
    sink: ports.Sink,
    force: bool = False,
    key: bytes | None = None,
    expected_head: chain.Head | None = None,
    activities: ports.ActivityRunner | None = None,
    lock: Lock | None = None,
    experiment: Path | None = None,
    say: Say = print,
    warn: Say | None = None,
    by: str = "gameday revert",
) -> ExitCode:
    """Check, show, and (unless refused) run the pending reverts of a run's journal.

    ``experiment``: the experiment file the run ran, when the path the journal recorded
    does not reach it from here (it vouches for the journal's copy if its sha256 matches).
    ``by``: who reverts, as journaled in each ``revert-result`` (the guard names itself).
    """
    first = reader.read(path, key=key, expected_head=expected_head)
    with lock(first) if lock is not None else contextlib.nullcontext():
        read = reader.read(first.path, key=key, expected_head=expected_head) \
            if lock is not None else first
        return _session(read, sink=sink, force=force, key=key, activities=activities,
                        experiment=experiment, say=say, warn=warn or say, by=by)


def _session(read: reader.Journal, *, sink: ports.Sink, force: bool, key: bytes | None,
             activities: ports.ActivityRunner | None, experiment: Path | None, say: Say,
             warn: Say, by: str = "gameday revert") -> ExitCode:
    started = read.events[0]
    if started.get("type") != events.RUN_STARTED:
        raise errors.InputError(
            f"{read.path} does not start with a run-started event, so it is not the journal "
            "of a run (a day journal? revert the journals of its runs). Nothing was run.")
    found = integrity.check(read)
    confirmed, file_note = _experiment_file(started, experiment)
    vouched = "the keyed chain verified" if found.chain == chain.HMAC and found.trusted else None
    known = provenance.decide(read, vouched=vouched, confirmed=confirmed)
    say(f"gameday revert: run {known.run_id} ({started.get('title', '?')}), journal {read.path}")
    say(_integrity_line(found, len(read.events)))
    for note in filter(None, (file_note, *found.notes)):
        say(note)
    reasons = list(found.breaks) + ([found.unverified] if found.unverified else []) \
        + list(known.document_problems)
    if known.document_broken:
        reasons.append(known.document_broken)
    reasons += [f"the revert of fault #{d.fault} {d.name} does not qualify: {d.rule}"
                for d in known.decisions if not d.allowed]
    if known.decisions:
        say("pending reverts, newest first:")
    for d in reversed(known.decisions):
        status = "would run" if d.allowed else "needs --force" if d.forceable else "REFUSED"
        say(f"  #{d.fault} {d.name}: {describe_activity(d.revert)}")
        say(f"     {status}: {d.rule}")
    if reasons and force:
        warn("gameday: --force: going on despite: " + "; ".join(reasons) + ".")
    if reasons and not force:
        warn("gameday: refusing to revert from this journal: " + "; ".join(reasons) + ". "
             "Nothing was run. Check the journal" + (
                 "; rerun with --force to run the reverts marked 'would run' or 'needs "
                 "--force' anyway (refused ones never run from a journal: revert them by "
                 "hand)" if any(d.allowed or d.forceable for d in known.decisions) else "")
             + ".")
        return ExitCode.INVALID
    if not known.decisions:
        say(f"nothing to revert: every fault of run {known.run_id} in {read.path} has a "
            "successful revert.")
        return ExitCode.HELD
    runnable = [d for d in known.decisions if d.allowed or d.forceable]
    refused = [d for d in known.decisions if not (d.allowed or d.forceable)]
    jw, failure = _open(read.path, sink, key)
    if failure is not None and failure.reason == disk.ANOTHER_WRITER and not force:
        warn(f"gameday: refusing to revert: {failure.message} The run looks alive; its own "
             "reverts run when it ends. Rerun with --force to revert under it anyway.")
        return ExitCode.REFUSED
    recorder = _Recorder(jw, failure.message if failure else None)
    # A Chaos Toolkit run's rollbacks get their ${name} configuration and secrets again:
    # from the experiment file when it still matches the run (else the journal's copy).
    runner = activities or compose.build_revert_activities(
        started, Path(experiment or started.get("source", "")) if confirmed else None)
    outcomes = _run(runnable, refused, recorder, runner, known.run_id, force, by)
    if jw is not None:
        jw.close(seal=True)
        if jw.failure is not None and not recorder.failure:
            recorder.failure = jw.failure.message
    return _report(read.path, known.run_id, outcomes, refused, recorder, say, warn)


def _open(path: Path, sink: ports.Sink, key: bytes | None
          ) -> tuple[writer.JournalWriter | None, errors.JournalWriteFailed | None]:
    try:
        return writer.JournalWriter(path, now=time.time, listeners=[sink.emit], key=key), None
    except errors.JournalWriteFailed as exc:
        return None, exc


def _run(runnable: list[provenance.Decision], refused: list[provenance.Decision],
         record: _Recorder, activities: ports.ActivityRunner, run_id: str,
         force: bool, by: str = "gameday revert") -> list[reverts.RevertOutcome]:
    from runner.cli import runs  # signals are recorded, not obeyed: a revert is never cut

    record(events.REVERT_SESSION, state="started", run_id=run_id,
           pending=[d.fault for d in runnable], forced=force,
           not_run=[d.fault for d in refused])
    with runs.signals_to(clock_mod.Cancel()):
        stack = reverts.RevertStack(activities, record,
                                    clock_mod.SystemClock(), by=by)
        for d in runnable:
            stack.push(reverts.RevertEntry(d.fault, d.name, d.revert))
        outcomes = stack.revert_all()
    failed = sum(1 for o in outcomes if not o.ok)
    record(events.REVERT_SESSION, state="finished", reverted=len(outcomes) - failed,
           failed=failed, not_run=len(refused))
    return outcomes


def _report(path: Path, run_id: str, outcomes: list[reverts.RevertOutcome],
            refused: list[provenance.Decision], record: _Recorder, say: Say,
            warn: Say) -> ExitCode:
    for o in outcomes:
        if o.ok:
            say(f"reverted #{o.fault} {o.name}: ok ({o.attempts} attempt(s), {o.seconds:.3f} s)")
        else:
            warn(f"gameday: revert of fault #{o.fault} {o.name} FAILED after {o.attempts} "
                 f"attempt(s): {o.error}. A human must act now; rerun `gameday revert {path}` "
                 "once the platform answers.")
    for d in refused:
        warn(f"gameday: revert of fault #{d.fault} {d.name} was NOT RUN ({d.rule}). Check "
             "whether that fault is real (the journal may have been tampered with) and, if it "
             "is live, undo it by hand; the journal's revert for it, not to be trusted, reads: "
             f"{describe_activity(d.revert)}")
    if record.lost or record.failure:
        why = record.failure or "unknown"
        warn(f"gameday: the journal could not record this revert session ({why}); the "
             "outcomes above are the only record of it.")
    if refused or any(not o.ok for o in outcomes):
        return ExitCode.REVERT_FAILED
    if record.lost or record.failure:
        return ExitCode.RUNNER_ERROR
    say(f"reverted {len(outcomes)} pending fault(s) of run {run_id}; results appended to {path}")
    return ExitCode.HELD
