"""``gameday validate``: check files, every problem at once, nothing executed.

Kept free of click and of every client library so that the console script can take a
fast path straight here (``main`` checks for ``validate`` before importing click):
validating costs the interpreter's start-up, pyyaml and the loader, nothing more.
"""

from __future__ import annotations

import sys
from pathlib import Path

from runner.errors import ExitCode


def validate_files(files: list[Path]) -> int:
    """Print ``ok`` or the problems of each file; return the exit code (0 or 2)."""
    from runner.model import loader

    bad = 0
    for path in files:
        problems = loader.check(path)
        if problems:
            bad += 1
            print(f"{path}: {len(problems)} problem(s):", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
        else:
            print(f"{path}: ok")
    return int(ExitCode.INVALID) if bad else int(ExitCode.HELD)


def fast_path(argv: list[str]) -> int | None:
    """The exit code if ``argv`` is a plain ``validate FILE...``; None to use click."""
    if len(argv) >= 2 and argv[0] == "validate" and not any(a.startswith("-") for a in argv[1:]):
        return validate_files([Path(a) for a in argv[1:]])
    return None
