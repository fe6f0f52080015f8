"""``gameday validate``: check files, every problem at once, nothing executed.

Kept free of click and of every client library so that the console script can take a
fast path straight here (``main`` checks for ``validate`` before importing click):
validating costs the interpreter's start-up, pyyaml and the loader, nothing more.
``--json`` prints one ``gameday.validate/v1`` document instead (docs/JSON.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from runner.errors import ExitCode

SCHEMA = "gameday.validate/v1"


def _check(path: Path) -> list[Any]:
    """Every problem of an experiment file, or of a game-day file (``kind: gameday``)."""
    from runner.day import loader as day_loader
    from runner.model import loader

    return day_loader.check(path) if day_loader.is_day(path) else loader.check(path)


def validate_files(files: list[Path], *, as_json: bool = False) -> int:
    """Print ``ok`` or the problems of each file; return the exit code (0 or 2)."""
    if as_json:
        return _as_json(files)
    bad = 0
    for path in files:
        problems = _check(path)
        if problems:
            bad += 1
            print(f"{path}: {len(problems)} problem(s):", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
        else:
            print(f"{path}: ok")
    return int(ExitCode.INVALID) if bad else int(ExitCode.HELD)


def _as_json(files: list[Path]) -> int:
    reports: list[dict[str, Any]] = []
    for path in files:
        problems = _check(path)
        reports.append({
            "path": str(path), "ok": not problems,
            "problems": [{"path": p.path, "line": p.line, "kind": p.kind, "message": p.message}
                         for p in problems],
        })
    code = int(ExitCode.INVALID) if any(not r["ok"] for r in reports) else int(ExitCode.HELD)
    doc = {"schema": SCHEMA, "ok": code == 0, "exit_code": code, "files": reports}
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return code


def fast_path(argv: list[str]) -> int | None:
    """The exit code if ``argv`` is a plain ``validate [--json] FILE...``; None to use click."""
    if not argv or argv[0] != "validate":
        return None
    rest = argv[1:]
    as_json = "--json" in rest
    files = [a for a in rest if a != "--json"]
    if files and not any(a.startswith("-") for a in files):
        return validate_files([Path(a) for a in files], as_json=as_json)
    return None
