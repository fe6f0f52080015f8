"""Whole-file writes that a reader never sees half of: temp file, fsync, rename.

One place for the pattern the run records, the emergency stop and the sandbox state
share. ``sync_dir`` also fsyncs the directory, so the rename itself survives a power
cut (the stop file needs that; a run record is rewritten every few seconds anyway).
Errors are ``OSError`` as raised; callers word them for their users.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any, *, indent: int | None = None,
               sync_dir: bool = False) -> None:
    """Replace ``path`` with ``data`` as JSON, atomically (the temp file sits beside it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=indent)
            if indent is not None:
                handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    if sync_dir:
        with contextlib.suppress(OSError):
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
