"""A disk that fills up and writes short, behind the journal's own ``disk.Ops`` seam.

Writes really go to the file (so readers see exactly what a full disk leaves), but the
fake keeps a free-space budget: a write gets at most what is free (a short write), the
next one fails with ENOSPC, the reserve file takes its length from the budget and gives
it back when unlinked, a truncate gives back what it cuts.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from runner.journal import disk


class FullDisk(disk.Ops):
    def __init__(self, free: int, *, max_write: int | None = None,
                 fail_truncate: bool = False, fsync_errno: int | None = None) -> None:
        self.free = free
        self.max_write = max_write
        self.fail_truncate = fail_truncate
        self.fsync_errno = fsync_errno
        self.reserve = 0
        self.writes: list[int] = []

    def write(self, fd: int, data: memoryview) -> int:
        room = min(len(data), self.free, self.max_write or len(data))
        if room == 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = os.write(fd, data[:room])
        self.free -= written
        self.writes.append(written)
        return written

    def fsync(self, fd: int) -> None:
        if self.fsync_errno is not None:
            raise OSError(self.fsync_errno, os.strerror(self.fsync_errno))
        os.fsync(fd)

    def truncate(self, fd: int, size: int) -> None:
        if self.fail_truncate:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        self.free += os.fstat(fd).st_size - size
        os.ftruncate(fd, size)

    def fallocate(self, fd: int, length: int) -> None:
        if length > self.free:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.free -= length
        self.reserve = length

    def unlink(self, path: Path) -> None:
        os.unlink(path)
        self.free += self.reserve
        self.reserve = 0
