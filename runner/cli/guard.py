"""``gameday guard``: the dead man's switch, on this machine's run records or a cluster's Leases.

Decisions:
- One revert path: a local takeover runs ``reverting.revert_journal`` on the dead run's
  journal, exactly what ``gameday revert JOURNAL`` runs, after appending a
  ``guard-takeover`` event ("reverted by the guard after the lease expired at ...") so the
  journal itself names the guard. The run's record then says ``reverted`` (or
  ``revert-failed``, which the guard retries on its next look).
- A takeover holds the run's target flocks, so no new run starts on those targets while
  the guard reverts; a new run that got them first (``--sweep-leftovers``) finishes the
  reverts itself and the guard finds the record closed.
- ``gameday run --guard`` starts ``gameday guard --run ID --parent PID`` in its own session
  (it survives the runner's SIGKILL); that guard exits when the run's record says it
  finished, when it reverted the run, or when the runner died before claiming anything.
- In a cluster (``--namespace``), the leases are ``coordination.k8s.io`` Leases and the
  reverts come from the Lease (``cli/guard_k8s.py``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import click

from runner import errors
from runner.adapters import locks
from runner.engine import clock as clock_mod
from runner.errors import ExitCode
from runner.guard import policy
from runner.guard import watch as watch_mod
from runner.journal import chain, writer
from runner.journal import keys as journal_keys
from runner.model import experiment as model

POLL = 0.25  # seconds between looks of a local guard (a takeover is due at lease expiry)
RETRY_AFTER = 30.0  # seconds before a failed takeover is tried again


class LocalStore:
    """The run records of this machine (``$GAMEDAY_HOME/locks/runs``), as watched leases."""

    def __init__(self, run_id: str | None = None) -> None:
        self.run_id = run_id

    def scan(self) -> list[policy.Watched]:
        records = locks.read_records() if self.run_id is None else [
            r for r in [locks.read_record(self.run_id)] if r is not None]
        return [watched(r) for r in records]


def watched(record: locks.RunRecord) -> policy.Watched:
    return policy.Watched(
        run_id=record["run_id"], where=str(locks.runs_dir() / f"{record['run_id']}.json"),
        state=str(record.get("state")), expires_at=float(record.get("lease_expires_at") or 0),
        alive=locks.holder_alive(record), journal=record.get("journal"))


def take_over(record: locks.RunRecord, *, by: str, note: str, key: bytes | None = None,
              hold: bool = True, out: TextIO | None = None) -> ExitCode | None:
    """Revert a dead run's pending faults through ``gameday revert``'s path.

    Returns None when there was nothing to take over (the run came back, or someone else
    closed it first), else the revert session's exit code.
    """
    from runner.cli import live, reverting

    stream = out or sys.stdout
    claim = locks.hold(record.get("keys") or []) if hold else contextlib.nullcontext()
    with claim:
        fresh = locks.read_record(record["run_id"])
        if fresh is None or fresh.get("state") not in locks.OPEN_STATES \
                or locks.holder_alive(fresh) is True:
            return None
        try:
            pending = locks.pending_of(fresh)
        except errors.GamedayError as exc:  # broken or odd journal: a human must look
            print(f"gameday guard: run {fresh['run_id']}'s journal cannot be read "
                  f"({exc.message}); its faults may be live. A human must act now.",
                  file=stream, flush=True)
            _close_failed(fresh, f"{note}; {by}; the journal cannot be read: {exc.message}")
            return ExitCode.REVERT_FAILED
        if not pending:
            locks.close_record(fresh, locks.ABANDONED,
                               f"its process died with no revert pending; closed by {by}")
            print(f"run {fresh['run_id']}: nothing pending; record closed.", file=stream,
                  flush=True)
            return ExitCode.HELD
        journal = Path(fresh["journal"])
        _note(journal, fresh, by=by, note=note, key=key, out=stream)
        seq, digest = fresh.get("head_seq"), fresh.get("head_hash")
        head = chain.Head(seq, digest) if seq is not None and digest else None

        def say(text: str) -> None:
            print(text, file=stream, flush=True)

        code = reverting.revert_journal(journal, sink=live.PlainSink(stream), key=key,
                                        expected_head=head, say=say, by=by)
        what = f"{note}; {by}; gameday revert exit {int(code)}"
        if code in (ExitCode.HELD, ExitCode.RUNNER_ERROR):  # every revert seen to succeed
            locks.close_record(fresh, locks.REVERTED, what + (
                "; the journal could not record it" if code == ExitCode.RUNNER_ERROR else ""))
        else:
            _close_failed(fresh, what)
        return code


def _close_failed(record: locks.RunRecord, note: str) -> None:
    """``revert-failed``, tried again on a later look (not in a tight loop)."""
    closed = locks.close_record(record, locks.REVERT_FAILED, note)
    closed["lease_expires_at"] = time.time() + RETRY_AFTER
    locks.write_record(closed)


def _note(journal: Path, record: locks.RunRecord, *, by: str, note: str, key: bytes | None,
          out: TextIO) -> None:
    """Append the takeover event; a journal that cannot take it does not stop the revert."""
    try:
        jw = writer.JournalWriter(journal, now=time.time, key=key)
    except errors.GamedayError as exc:
        print(f"gameday guard: cannot note the takeover in {journal}: {exc.message}; "
              "reverting anyway.", file=out, flush=True)
        return
    try:
        jw.append(policy.TAKEOVER_EVENT, run_id=record["run_id"], by=by, note=note,
                  lease_expires_at=record.get("lease_expires_at"), guard_pid=os.getpid(),
                  dead_pid=record.get("pid"), head_seq=record.get("head_seq"))
    except errors.GamedayError as exc:
        print(f"gameday guard: cannot note the takeover in {journal}: {exc.message}; "
              "reverting anyway.", file=out, flush=True)
    finally:
        jw.close(seal=False)


def local_takeover(key: bytes | None) -> watch_mod.Takeover:
    def takeover(seen: policy.Watched) -> policy.Outcome | None:
        record = locks.read_record(seen.run_id)
        if record is None:
            return None
        try:
            code = take_over(record, by=f"gameday guard (pid {os.getpid()})",
                             note=policy.reason(seen), key=key)
        except errors.PreflightRefused:
            return None  # someone holds its targets (a sweeping run): look again later
        if code is None:
            return None
        what = "reverted its pending faults" if code == ExitCode.HELD else \
            f"the revert session ended with exit {int(code)}; a human must check"
        return policy.Outcome(seen.run_id, int(code), f"{policy.reason(seen)}: {what}")
    return takeover


def sweeper(run_id: str, key: bytes | None) -> locks.Leftovers:
    """The ``--sweep-leftovers`` hook of a new run: finish a dead run's reverts first."""
    def sweep(record: locks.RunRecord) -> bool:
        code = take_over(record, by=f"run {run_id} (--sweep-leftovers)",
                         note=f"reverted by run {run_id} (--sweep-leftovers) before it "
                              "started, its process being gone", key=key, hold=False,
                         out=sys.stderr)
        return code in (None, ExitCode.HELD)
    return sweep


def spawn(run_id: str, log: Path, *, key_file: Path | None, poll: float = POLL,
          cluster: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """Start the detached guard of one run (its own session: it outlives a SIGKILL).

    ``cluster``: the ``--namespace/--kubeconfig/--context`` arguments of a Kubernetes run,
    whose guard watches its run Lease instead of a local record.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "runner.cli.main", "guard", "--run", run_id,
            "--parent", str(os.getpid()), "--poll", str(poll), *cluster]
    if key_file is not None:
        args += ["--journal-key-file", str(key_file)]
    with open(log, "ab") as out:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                close_fds=True)


def cluster_args(exp: model.Experiment, kubeconfig: str | None, context: str | None,
                 journal_dir: Path) -> list[str]:
    """What ``spawn`` passes for a Kubernetes run (its Lease lives in these namespaces)."""
    if exp.target.platform != "kubernetes":
        return []
    spaces = sorted({ns for ns in (exp.target.namespace, *exp.blast_radius.namespaces) if ns})
    args = [a for ns in spaces or ["default"] for a in ("--namespace", ns)]
    args += ["--journal-dir", str(journal_dir)]
    if kubeconfig:
        args += ["--kubeconfig", kubeconfig]
    context = context or exp.target.context
    return args + (["--context", context] if context else [])


def settle(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """After a clean end: the guard sees the finished record and exits; reap it."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()  # by its PID
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)


def _run_over(parent: int | None, started: float
              ) -> Callable[[Sequence[policy.Watched]], bool]:
    """``stop`` for ``--run``: the run is no longer live (it finished, or the guard acted
    on it), or it never claimed anything and its runner is gone."""
    def stop(leases: Sequence[policy.Watched]) -> bool:
        if not leases:
            gone = parent is None or not locks.pid_alive(parent)
            return gone or time.monotonic() - started > 24 * 3600
        return all(w.state != locks.LIVE for w in leases)
    return stop


def _warm_up(*, kubernetes: bool) -> None:
    """Import what a takeover runs now, not in the seconds after a runner died."""
    import importlib

    from runner.cli import compose, reverting  # noqa: F401

    compose.build_activities()
    for name in ("gameday_k8s.actions", "chaosk8s.deployment.actions") if kubernetes \
            else ("gameday_local.actions",):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


@click.command("guard")
@click.option("--dir", "home_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="The gameday home whose runs to watch (default: "
                                 "$GAMEDAY_HOME or ~/.gameday).")
@click.option("--run", "run_id", default=None,
              help="Watch this run only (its record, or its Lease with --namespace); exit "
                   "when it ends.")
@click.option("--parent", type=int, default=None, hidden=True)
@click.option("--namespace", "namespaces", multiple=True,
              help="Watch gameday Leases in this Kubernetes namespace (repeatable).")
@click.option("--kubeconfig", default=None, help="Kubeconfig file (default: as kubectl).")
@click.option("--context", default=None, help="Kube context to use.")
@click.option("--once", is_flag=True, help="Look once, revert what is due, exit.")
@click.option("--poll", type=click.FloatRange(0.05, 3600), default=None,
              help="Seconds between looks (default: 0.25 locally, 2 in a cluster).")
@click.option("--for", "max_seconds", type=click.FloatRange(1, None), default=None,
              help="Stop after this many seconds (default: a week).")
@click.option("--grace", type=click.FloatRange(0, None), default=0.0,
              help="Seconds past a lease's expiry before taking over (clock skew).")
@click.option("--journal-key-file", type=click.Path(path_type=Path), default=None,
              help="Key of HMAC-chained journals (default: $GAMEDAY_JOURNAL_KEY).")
@click.option("--journal-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Cluster: where guard journals go (default: ./reports/guard or "
                   "$GAMEDAY_REPORTS/guard).")
@click.option("--allow-module", "allow", multiple=True, metavar="PREFIX",
              help="Cluster: also run reverts from this python module (or 'pkg.' prefix).")
def guard(home_dir: Path | None, run_id: str | None, parent: int | None,
          namespaces: tuple[str, ...], kubeconfig: str | None, context: str | None,
          once: bool, poll: float | None, max_seconds: float | None, grace: float,
          journal_key_file: Path | None, journal_dir: Path | None,
          allow: tuple[str, ...]) -> None:
    """Revert the pending faults of any run whose lease expired (the dead man's switch).

    Locally it watches the run records of this machine (a run whose lease expired and
    whose process is gone); with --namespace, the gameday Leases of those namespaces.
    Exit 0 when every takeover reverted; 5 when one failed (a human must act).
    """
    key = journal_keys.load(journal_key_file)
    _warm_up(kubernetes=bool(namespaces))
    if home_dir is not None:
        os.environ[locks.ENV_HOME] = str(home_dir)
        os.environ.pop(locks.ENV_LOCKS, None)
    clock = clock_mod.SystemClock()
    bound = max_seconds if max_seconds is not None else 7 * 24 * 3600.0
    stop = _run_over(parent, time.monotonic()) if run_id else None
    if namespaces:
        from runner.cli import compose, guard_k8s

        outcomes = guard_k8s.watch_cluster(
            namespaces, kubeconfig=kubeconfig, context=context, clock=clock, once=once,
            poll=poll or guard_k8s.POLL, grace=grace, max_seconds=bound,
            journal_dir=journal_dir or compose.reports_root() / "guard", allow=allow,
            run_id=run_id, stop=stop, say=lambda text: click.echo(text, err=True))
    else:
        outcomes = watch_mod.watch(
            LocalStore(run_id), local_takeover(key), clock, poll=poll or POLL, grace=grace,
            max_seconds=bound, once=once, stop=stop,
            say=lambda text: click.echo(text, err=True))
    failed = [o for o in outcomes if o.code != ExitCode.HELD]
    raise SystemExit(int(ExitCode.REVERT_FAILED if failed else ExitCode.HELD))
