"""The journal file on disk: whole-line appends that either land completely or not at all.

Decisions:
- A line is written by looping over ``os.write`` until every byte is out (a short write
  is not an error, it is a reason to write the rest), then ``fsync``ed. If anything fails
  part way, the file is cut back to the last line boundary, so no event is ever glued to
  half of another; if even that fails, the file marks itself broken and refuses every
  further append (the next one could only glue onto half a line).
- Space is reserved at open: a preallocated ``<journal>.reserve`` file beside the journal.
  On the first ENOSPC it is deleted and the append retried, so the revert records still
  fit on a disk that filled up mid-run. It is deleted on close too.
- One writer per file: an exclusive, non-blocking ``flock`` on the journal. A second
  writer (``gameday revert`` on a live run) is refused instead of interleaving lines.
- Opening never hangs: ``O_NONBLOCK`` makes a FIFO without a reader fail at once, and
  anything but a regular file is refused.
- Failures are ``errors.JournalWriteFailed`` naming the path and the OS error, never a
  raw ``OSError``. The OS calls go through ``Ops`` so tests can fail them on purpose.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path
from typing import Final

from runner import errors

RESERVE_BYTES: Final = 256 * 1024
MAX_WRITE_CALLS: Final = 10_000
_NO_SPACE: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
ANOTHER_WRITER: Final = "another process is writing it"  # JournalOpenFailed.reason


class Ops:
    """The OS calls an append makes (tests substitute failing ones)."""

    def write(self, fd: int, data: memoryview) -> int:
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def truncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)

    def fallocate(self, fd: int, length: int) -> None:
        os.posix_fallocate(fd, 0, length)

    def unlink(self, path: Path) -> None:
        os.unlink(path)


def _reason(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "")
    return f"{exc.strerror or exc}{f' ({name})' if name else ''}"


class AppendFile:
    """An open journal file; ``append`` writes whole lines durably or raises."""

    def __init__(self, path: Path, *, reserve_bytes: int = RESERVE_BYTES,
                 ops: Ops | None = None) -> None:
        self.path = Path(path)
        self.reserve_path = self.path.with_name(self.path.name + ".reserve")
        self._ops = ops or Ops()
        self.broken: str | None = None
        self.reserve_released = False
        self._fd = self._open()
        try:
            self.size = os.fstat(self._fd).st_size
            self.reserved = self._reserve(reserve_bytes)
        except BaseException:
            os.close(self._fd)
            raise

    def _not_regular(self) -> errors.JournalOpenFailed:
        return errors.JournalOpenFailed(
            str(self.path), "not a regular file",
            f"Cannot write the journal {self.path}: it is not a regular file (a directory, "
            "device, FIFO or socket). A journal is a plain file; choose another path.")

    def _open(self) -> int:
        mode: int | None
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            mode = None
        except OSError:
            mode = stat.S_IFREG  # unreadable metadata: let open() name the problem
        if mode is not None and not stat.S_ISREG(mode):
            raise self._not_regular()
        created = mode is None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK
                         | os.O_CLOEXEC, 0o640)
        except OSError as exc:
            raise errors.JournalOpenFailed(
                str(self.path), _reason(exc),
                f"Cannot write the journal {self.path}: {_reason(exc)}. Choose a writable "
                "directory with --journal-dir, or fix the permissions.") from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise self._not_regular()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise errors.JournalOpenFailed(
                str(self.path), ANOTHER_WRITER,
                f"Cannot write the journal {self.path}: another gameday process is writing "
                "it (a live run or another `gameday revert`). Wait for it to finish; two "
                "writers would interleave their lines.") from exc
        if created:
            _fsync_dir(self.path.parent)
        return fd

    def _reserve(self, length: int) -> int:
        """Preallocate the reserve file; 0 when the disk has no room for it already."""
        if length <= 0:
            return 0
        try:
            fd = os.open(self.reserve_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                         0o640)
        except OSError:
            return 0
        try:
            self._ops.fallocate(fd, length)
            os.fsync(fd)
        except OSError:
            os.close(fd)
            self._unlink_reserve()
            return 0
        os.close(fd)
        return length

    def _unlink_reserve(self) -> bool:
        try:
            self._ops.unlink(self.reserve_path)
        except FileNotFoundError:
            return False
        except OSError:
            return False
        return True

    def append(self, data: bytes) -> None:
        """Write ``data`` (whole lines) and fsync it, or raise with the file unchanged."""
        if self.broken is not None:
            raise errors.JournalWriteFailed(
                str(self.path), self.broken,
                f"Cannot write the journal {self.path}: it was left broken by an earlier "
                f"failure ({self.broken}); nothing more is appended to it.")
        try:
            self._write_durably(data)
        except OSError as first:
            self._cut_back(first)
            if (first.errno in _NO_SPACE and self.broken is None and self.reserved
                    and not self.reserve_released):
                self.reserve_released = self._unlink_reserve()
                try:
                    self._write_durably(data)
                except OSError as second:
                    self._cut_back(second)
                    raise self._failed(second) from second
            else:
                raise self._failed(first) from first
        self.size += len(data)

    def _write_durably(self, data: bytes) -> None:
        view = memoryview(data)
        done = 0
        for _ in range(MAX_WRITE_CALLS):
            written = self._ops.write(self._fd, view[done:])
            if written <= 0:
                raise OSError(errno.EIO, "write() wrote nothing")
            done += written
            if done >= len(data):
                break
        else:
            raise OSError(errno.EIO, f"{MAX_WRITE_CALLS} short writes in a row")
        self._ops.fsync(self._fd)

    def _cut_back(self, cause: OSError) -> None:
        """Make the file end on the last complete line again, or mark it broken."""
        try:
            self._ops.truncate(self._fd, self.size)
            self._ops.fsync(self._fd)
        except OSError as exc:
            self.broken = (f"{_reason(cause)}, and cutting the partial line back to byte "
                           f"{self.size} failed: {_reason(exc)}")
            return
        if cause.errno not in _NO_SPACE:
            # After an I/O error the OS's word on durability is worth nothing: stop here.
            self.broken = _reason(cause)

    def _failed(self, exc: OSError) -> errors.JournalWriteFailed:
        what = _reason(exc)
        if exc.errno in _NO_SPACE:
            what += (" even after releasing the journal's reserve" if self.reserve_released
                     else "")
        return errors.JournalWriteFailed(
            str(self.path), what,
            f"Cannot write the journal {self.path}: {what}. The event was not recorded; "
            + ("nothing more is appended to it." if self.broken else
               "the file still ends on a complete line, and later events are tried again."))

    def cut_to(self, size: int) -> None:
        """Cut the file to ``size`` bytes (a torn tail found at open), durably."""
        try:
            self._ops.truncate(self._fd, size)
            self._ops.fsync(self._fd)
        except OSError as exc:
            raise errors.JournalOpenFailed(
                str(self.path), _reason(exc),
                f"Cannot write the journal {self.path}: its torn last line could not be cut "
                f"away ({_reason(exc)}); nothing was appended.") from exc
        self.size = size

    def close(self) -> None:
        if self._fd >= 0:
            self._unlink_reserve()
            os.close(self._fd)
            self._fd = -1


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
