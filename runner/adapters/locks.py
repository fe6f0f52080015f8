"""Local target locks and run leases: what a run touches is claimed on this machine.

``LocalLease`` implements ``ports.TargetLease`` with files under the registry root
(``$GAMEDAY_HOME``, default ``~/.gameday``; ``$GAMEDAY_LOCKS`` still names the lock
directory). Decisions:

- Locks are on the *resolved* targets the platform names (``local:/sandbox/replica/demo-1``,
  ``k8s:https://api/ns/pod/web-1``), never on the selector string, so spelling a selector
  differently (or leaving it out) cannot put two runs on the same replicas.
- Each key is a non-blocking ``flock`` on its own file; each endpoint (the part before the
  last ``/<kind>/<name>``) has a file too, taken shared by runs naming their targets and
  exclusive by a run that holds ``<endpoint>/*`` (a fault that cannot name its targets),
  so "anything here" conflicts with everything at that endpoint. A lock dies with its
  process: a SIGKILLed run frees its locks, and its pending reverts are found through
  its run record (below), not through a stale lock.
- Every run has a record ``runs/<run id>.json`` (``runrecords``, written atomically): PID (and the
  process's start time, so a reused PID is not taken for the run), host, journal, keys,
  the journal head (sequence number and hash of the last line, so the head is also kept
  outside the journal), phase, and a lease that each ``renew`` extends by
  ``lease_seconds``. A finished run's record says so. The dead man's switch reads these.
- A run whose process died while its record says ``live`` may have left faults behind:
  its flocks are gone, its record is not. ``acquire`` looks for such records overlapping
  the keys it just locked and reads their journals: none pending, the record is closed
  as ``abandoned``; reverts pending, the run is refused (exit 3) naming the journal and
  the command that finishes it, unless a ``leftovers`` hook (``--sweep-leftovers``)
  finishes them first, under the locks just taken. States: live, finished, reverted
  (the guard or a sweep finished its reverts), revert-failed, abandoned.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from runner import errors
from runner.adapters import runrecords

# The run records live in ``runrecords``; their names stay importable from here.
ENV_HOME = runrecords.ENV_HOME
ENV_LOCKS = runrecords.ENV_LOCKS
RunRecord = runrecords.RunRecord
LIVE, FINISHED, REVERTED = runrecords.LIVE, runrecords.FINISHED, runrecords.REVERTED
REVERT_FAILED, ABANDONED = runrecords.REVERT_FAILED, runrecords.ABANDONED
OPEN_STATES = runrecords.OPEN_STATES
home, locks_dir, runs_dir = runrecords.home, runrecords.locks_dir, runrecords.runs_dir
read_records, read_record = runrecords.read_records, runrecords.read_record
write_record, close_record = runrecords.write_record, runrecords.close_record
pid_alive, process_start = runrecords.pid_alive, runrecords.process_start
holder_alive, expired = runrecords.holder_alive, runrecords.expired
orphaned, pending_of = runrecords.orphaned, runrecords.pending_of
close_reverted = runrecords.close_reverted
#: Called with a dead run's record while ``acquire`` holds the locks; True = reverted.
Leftovers = Callable[[RunRecord], bool]


def endpoint_of(key: str) -> str:
    """``local:/x/replica/demo-1`` -> ``local:/x``; ``local:/x/*`` -> ``local:/x``."""
    if key.endswith("/*"):
        return key[:-2]
    head, _, _name = key.rpartition("/")
    parent, _, _kind = head.rpartition("/")
    return parent or head


def _file_for(key: str) -> Path:
    return locks_dir() / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".lock")


class LocalLease:
    """``ports.TargetLease`` on this machine: flocks per resolved target, a run record."""

    def __init__(self, *, lease_seconds: float = 30.0,
                 now: Callable[[], float] = time.time,
                 leftovers: Leftovers | None = None) -> None:
        self.lease_seconds = lease_seconds
        self._now = now
        self._leftovers = leftovers
        self._handles: list[Any] = []
        self._record: RunRecord | None = None

    @property
    def record(self) -> RunRecord | None:
        return self._record

    def acquire(self, run_id: str, keys: Sequence[str], journal: str) -> None:
        wanted = sorted(set(keys))
        try:
            self._take_all(wanted)
        except OSError as exc:
            self._drop()
            raise errors.PreflightRefused(
                f"Cannot create the target locks in {locks_dir()}: {exc.strerror}. Set "
                f"{ENV_HOME} (or {ENV_LOCKS}) to a writable directory; nothing was injected."
            ) from exc
        self._settle(run_id, wanted, journal)
        now = self._now()
        self._record = RunRecord(
            run_id=run_id, pid=os.getpid(), host=socket.gethostname(), journal=journal,
            keys=wanted, phase="preflight", state=LIVE, head_seq=None, head_hash=None,
            renewed_at=now, lease_expires_at=now + self.lease_seconds,
            lease_seconds=self.lease_seconds, pid_start=process_start(os.getpid()))
        self._save()

    def _settle(self, run_id: str, keys: Sequence[str], journal: str) -> None:
        """Close or refuse over dead runs on these keys (we hold their locks now).

        A claim made to revert a journal (``gameday revert``) is not refused over the
        leftovers of that very journal: finishing them is what it is for.
        """
        mine = Path(journal).resolve()
        for record in read_records():
            if (record["run_id"] == run_id or Path(record["journal"]).resolve() == mine
                    or record.get("state") not in OPEN_STATES
                    or not overlap(keys, record.get("keys") or [])
                    or holder_alive(record) is True):
                continue
            try:
                pending = pending_of(record)
            except errors.GamedayError as exc:
                self._drop()
                raise errors.PreflightRefused(
                    f"Run {record['run_id']} died while touching what this run would touch, "
                    f"and its journal {record['journal']} cannot be read ({exc.message}), so "
                    "whether it left faults behind is unknown. Check those targets by hand, "
                    f"then remove its record {runs_dir() / (record['run_id'] + '.json')}; "
                    "nothing was injected.") from exc
            if not pending:
                why = "no journal" if pending is None else "no revert pending"
                close_record(record, ABANDONED, f"its process died with {why}; closed by "
                             f"run {run_id}", now=self._now)
                continue
            if self._leftovers is not None and self._leftovers(record):
                continue
            self._drop()
            names = ", ".join(f"#{p.get('fault')} {p.get('name')}" for p in pending)
            raise errors.PreflightRefused(
                f"Run {record['run_id']} died (pid {record['pid']} is gone) and left "
                f"{len(pending)} fault(s) without a revert on what this run would touch: "
                f"{names}; its journal is {record['journal']}. Finish them with `gameday "
                f"revert {record['journal']}` (or run again with --sweep-leftovers to finish "
                "them first); nothing was injected.")

    def _take_all(self, wanted: Sequence[str]) -> None:
        locks_dir().mkdir(parents=True, exist_ok=True)
        for endpoint in sorted({endpoint_of(k) for k in wanted}):
            self._take(endpoint, exclusive=f"{endpoint}/*" in wanted, keys=wanted)
        for key in wanted:
            if not key.endswith("/*"):
                self._take(key, exclusive=True, keys=wanted)

    def _take(self, key: str, *, exclusive: bool, keys: Sequence[str]) -> None:
        path = _file_for(key)
        fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open while locked
        try:
            fcntl.flock(fh.fileno(), (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
                        | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.close()
            self._drop()
            raise errors.PreflightRefused(
                f"Another gameday run is using what this run would touch ({key}): "
                f"{holders(keys)}. Wait for it to finish (or finish its reverts with "
                "`gameday revert <its journal>`); nothing was injected."
            ) from exc
        fh.seek(0)
        fh.truncate()
        fh.write(key + "\n")
        fh.flush()
        self._handles.append(fh)

    def renew(self, phase: str, head: tuple[int, str] | None) -> None:
        if self._record is None:
            return
        now = self._now()
        record = self._record
        record["phase"] = phase
        record["renewed_at"] = now
        record["lease_expires_at"] = now + self.lease_seconds
        if head is not None:
            record["head_seq"], record["head_hash"] = head
        with contextlib.suppress(OSError):  # the lease is advisory; reverts never wait on it
            self._save()

    def release(self, head: tuple[int, str] | None) -> None:
        record = self._record
        if record is not None:
            record["state"] = record["phase"] = "finished"
            record["renewed_at"] = self._now()
            if head is not None:
                record["head_seq"], record["head_hash"] = head
            with contextlib.suppress(OSError):
                self._save()
        self._drop()

    def _save(self) -> None:
        assert self._record is not None
        write_record(self._record)

    def _drop(self) -> None:
        for fh in self._handles:
            with contextlib.suppress(OSError):
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
                fh.close()
        self._handles.clear()


@contextlib.contextmanager
def hold(keys: Sequence[str]) -> Iterator[None]:
    """The flocks on ``keys`` for a block, without a run record (a guard's takeover).

    Raises ``errors.PreflightRefused`` when another process holds any of them.
    """
    lease = LocalLease()
    try:
        lease._take_all(sorted(set(keys)))
    except OSError as exc:
        lease._drop()
        raise errors.PreflightRefused(
            f"Cannot take the target locks in {locks_dir()}: {exc.strerror}.") from exc
    try:
        yield
    finally:
        lease._drop()


def holders(keys: Sequence[str]) -> str:
    """Who holds any of ``keys``, from the live run records: a sentence."""
    found = []
    for record in read_records():
        if record.get("state") != LIVE or not pid_alive(int(record.get("pid", 0))):
            continue
        if overlap(keys, record.get("keys") or []):
            found.append(f"run {record['run_id']} (pid {record['pid']}, journal "
                         f"{record['journal']})")
    return "; ".join(found) if found else "a run on this machine (no record names it)"


def overlap(ours: Sequence[str], theirs: Sequence[str]) -> bool:
    """Whether two key sets conflict: a shared key, or a wildcard on a shared endpoint."""
    if set(ours) & set(theirs):
        return True
    wild = {endpoint_of(k) for k in [*ours, *theirs] if k.endswith("/*")}
    return bool(wild & {endpoint_of(k) for k in ours} & {endpoint_of(k) for k in theirs})


@contextlib.contextmanager
def held(run_id: str, keys: Sequence[str], journal: str) -> Iterator[LocalLease]:
    """Hold the locks on ``keys`` for a block (``gameday revert`` uses it)."""
    lease = LocalLease()
    lease.acquire(run_id, keys, journal)
    try:
        yield lease
    finally:
        lease.release(None)
