"""``gameday revert JOURNAL``: finish the reverts a dead run left pending.

Reads the journal (a torn last line is ignored and cut), finds every fault intent with
no successful revert, runs those reverts newest first through the same revert stack a
live run uses, and appends the results to the same journal, so the record stays one
continuous, hash-chained story.
"""

from __future__ import annotations

import time
from pathlib import Path

from runner import ports
from runner.cli import compose
from runner.engine import clock as clock_mod
from runner.engine import reverts
from runner.errors import ExitCode
from runner.journal import events, reader, recovery, writer


def revert_journal(path: Path, *, sink: ports.Sink) -> ExitCode:
    read = reader.read(path)
    pending = recovery.pending_reverts(read)
    run_id = recovery.run_id(read)
    if not pending:
        print(f"nothing to revert: every fault of run {run_id or '?'} in {read.path} "
              "has a successful revert.")
        return ExitCode.HELD
    activities = compose.build_activities()
    # Signals are recorded, not obeyed: a revert is never cut short (runs.signals_to).
    from runner.cli import runs

    with runs.signals_to(clock_mod.Cancel()), \
            writer.JournalWriter(read.path, now=time.time, listeners=[sink.emit]) as jw:
        jw.append(events.REVERT_SESSION, state="started", run_id=run_id,
                  pending=[e.get("fault") for e in pending])
        stack = reverts.RevertStack(activities, jw.append, clock_mod.SystemClock(),
                                    by="gameday revert")
        for intent in pending:
            stack.push(reverts.RevertEntry(int(intent["fault"]), str(intent.get("name")),
                                           intent["revert"]))
        outcomes = stack.revert_all()
        failed = [o for o in outcomes if not o.ok]
        jw.append(events.REVERT_SESSION, state="finished", reverted=len(outcomes) - len(failed),
                  failed=len(failed))
    if failed:
        for o in failed:
            print(f"revert of fault #{o.fault} {o.name} FAILED after {o.attempts} attempt(s): "
                  f"{o.error}. A human must act now; rerun `gameday revert {read.path}` once "
                  "the platform answers.")
        return ExitCode.REVERT_FAILED
    print(f"reverted {len(outcomes)} pending fault(s) of run {run_id or '?'}; "
          f"results appended to {read.path}")
    return ExitCode.HELD
