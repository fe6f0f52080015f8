"""The commands that read a journal: ``journal show``, ``report`` and ``revert``.

Decisions:
- Each reads through ``reader.read``, so every odd input (FIFO, device, directory, empty,
  binary, wrong field types, huge lines) is the same one-paragraph message and exit 2,
  never a hang or a traceback. Event shapes the schema does not pin down (a sample of
  the wrong type deep in a tick) are rendered as "unreadable" by ``journal show`` and
  turned into exit 2 by ``report``, never a crash.
- A journal whose integrity is not intact (a break, a keyed chain without its key, signs
  of truncation) is still shown and still reported, with the break named, and the
  command exits 2: a CI job that archives reports still sees the failure.
- ``--journal-key-file`` (or ``$GAMEDAY_JOURNAL_KEY``) verifies an HMAC chain;
  ``--expect-head SEQ:HASH`` checks the journal against a head kept outside it.
- ``journal show --json`` prints one ``gameday.journal-show/v1`` document (docs/JSON.md);
  non-finite numbers become ``null`` so that the output is strict JSON.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from runner import errors
from runner.errors import ExitCode

F = TypeVar("F", bound=Callable[..., Any])
SCHEMA = "gameday.journal-show/v1"
_HEAD = re.compile(r"(\d+):([0-9a-f]{64})")


def _head(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from runner.journal import chain

    match = _HEAD.fullmatch(value.strip())
    if match is None:
        raise click.BadParameter("give the head as SEQ:HASH (the seq and the 64-hex hash of "
                                 "the journal's last line, as the run recorded it)")
    return chain.Head(int(match.group(1)), match.group(2))


def key_option(func: F) -> F:
    """``--journal-key-file``: the HMAC key (default: ``$GAMEDAY_JOURNAL_KEY``)."""
    return click.option(
        "--journal-key-file", "key_file", type=click.Path(path_type=Path), default=None,
        help="File holding the journal's HMAC key, hex or raw (default: "
             "$GAMEDAY_JOURNAL_KEY).")(func)


def head_option(func: F) -> F:
    return click.option(
        "--expect-head", "expected_head", default=None, callback=_head, metavar="SEQ:HASH",
        help="The journal's head as recorded outside it: a journal cut before it, or "
             "rewritten, is reported.")(func)


def load_key(key_file: Path | None) -> bytes | None:
    from runner.journal import keys

    return keys.load(key_file)


def _strict(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value


@click.group()
def journal() -> None:
    """Read journals."""


@journal.command("show")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help=f"Print one JSON document ({SCHEMA}, docs/JSON.md).")
@key_option
@head_option
def journal_show(path: Path, as_json: bool, key_file: Path | None, expected_head: Any) -> None:
    """A timeline for humans, and whether the journal is intact (exit 2 if not)."""
    from runner.cli import live
    from runner.journal import integrity, reader

    read = reader.read(path, key=load_key(key_file), expected_head=expected_head)
    found = integrity.check(read)
    code = ExitCode.INVALID if found.problems else ExitCode.HELD
    if as_json:
        started = read.first("run-started") or {}
        document = {"schema": SCHEMA, "path": str(read.path),
                    "run_id": started.get("run_id"), "torn_tail": read.torn_tail,
                    "integrity": found.to_dict(), "exit_code": int(code),
                    "events": list(read.events)}
        click.echo(json.dumps(_strict(document), allow_nan=False))
        raise SystemExit(int(code))
    sink = live.PlainSink(sys.stdout)
    for event in read.events:
        try:
            sink.emit(event)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            click.echo(f"seq {event.get('seq')} {event.get('type')}: unreadable "
                       f"({type(exc).__name__}: the event's fields are not as gameday writes "
                       "them)")
    if read.torn_tail:
        click.echo("note: a torn last line (cut by a crash) was ignored")
    for note in found.notes:
        click.echo(f"note: {note}")
    if found.problems:
        word = "BROKEN" if found.breaks else "NOT VERIFIED" if found.unverified \
            else "POSSIBLY TRUNCATED"
        click.echo(f"integrity: {word}\n  " + "\n  ".join(found.problems))
    else:
        click.echo(f"integrity: ok ({len(read.events)} events, hash chain intact: "
                   f"{found.chain}" + (", sealed)" if found.sealed else ")"))
    raise SystemExit(int(code))


@click.command()
@click.argument("journal_path", metavar="JOURNAL", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Directory for the reports (default: beside the journal).")
@key_option
def report(journal_path: Path, out: Path | None, key_file: Path | None) -> None:
    """Regenerate the reports (Markdown, HTML, JUnit, Chaos Toolkit) from a journal.

    A journal that is not intact still gets its reports, which show the break; the
    command then exits 2.
    """
    from runner import report as report_mod

    try:
        written = report_mod.write(journal_path, out, key=load_key(key_file), plot_aside=True)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise errors.InputError(
            f"{journal_path}: its events are not shaped as gameday writes them "
            f"({type(exc).__name__}: {exc}); no report could be rendered from it. Check that "
            "it is an unedited gameday journal (`gameday journal show`).") from exc
    for path in written.paths:
        click.echo(str(path))
    if written.integrity:
        click.echo(f"gameday: the journal {written.journal} is not intact: "
                   + "; ".join(written.integrity) + ". The reports were written and show it.",
                   err=True)
        raise SystemExit(int(ExitCode.INVALID))


@click.command()
@click.argument("journal_path", metavar="JOURNAL", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Run the reverts that derive from the experiment even when the journal is "
                   "broken or unverified, nothing outside it confirms its copy of the "
                   "experiment, or a live process writes it. A revert that does not derive "
                   "from the experiment never runs.")
@click.option("--experiment", type=click.Path(path_type=Path), default=None,
              help="The experiment file the run ran, if the path recorded in the journal "
                   "does not reach it from here (it vouches for the journal's copy when its "
                   "sha256 matches).")
@key_option
@head_option
def revert(journal_path: Path, force: bool, experiment: Path | None, key_file: Path | None,
           expected_head: Any) -> None:
    """Finish the reverts a dead run left pending (checks, then appends to JOURNAL).

    Only reverts that derive from the experiment recorded at the run's start run; what
    would run is printed first. Exit 0 all reverted; 2 refused (nothing run); 3 the run
    is alive; 4 reverted but the journal could not record it; 5 a revert failed or was
    not run: a human must act now.
    """
    from runner.cli import live, reverting

    code = reverting.revert_journal(
        journal_path, sink=live.PlainSink(), force=force, key=load_key(key_file),
        expected_head=expected_head, experiment=experiment,
        lock=None if force else _run_lock,
        warn=lambda text: click.echo(text, err=True))
    if code in (ExitCode.HELD, ExitCode.RUNNER_ERROR):  # every revert observed to succeed
        from runner.adapters import locks

        locks.close_reverted(journal_path, f"gameday revert (pid {os.getpid()}) exit "
                             f"{int(code)}: every pending revert observed to succeed"
                             + ("; the journal could not record it"
                                if code == ExitCode.RUNNER_ERROR else ""))
        from runner.cli import revert_k8s

        with contextlib.suppress(errors.GamedayError):  # the journal was read just now
            revert_k8s.close_run_lease(journal_path, forced=force, say=click.echo)
    raise SystemExit(int(code))


@contextlib.contextmanager
def _run_lock(read: Any) -> Iterator[object]:
    """Hold the run's own target locks (its ``lock`` event) while reverting.

    A live run holds them, so ``gameday revert`` on a live run's journal refuses (exit 3)
    instead of removing its faults mid-window; ``--force`` skips this.
    """
    from runner.adapters import locks
    from runner.journal import events as ev

    claimed = read.last(ev.LOCK)
    keys = list(claimed.get("keys") or []) if claimed else []
    if not keys:
        yield None
        return
    run_id = read.events[0].get("run_id", "?")
    # The dead run's own record (its faults pending) is what this session finishes, so
    # it must not refuse the session: it is "being swept" (the leftovers hook), others are not.
    lease = locks.LocalLease(leftovers=lambda record: record.get("run_id") == run_id)
    try:
        lease.acquire(f"revert-{run_id}", keys, str(read.path))
    except errors.PreflightRefused as exc:
        raise errors.PreflightRefused(
            f"Not reverting {read.path}: its targets are held by a live run ({exc.message}) "
            "Reverting now would remove a live run's faults mid-window; wait for it to end, "
            "or pass --force if you are sure.") from exc
    try:
        yield lease
    finally:
        lease.release(None)
