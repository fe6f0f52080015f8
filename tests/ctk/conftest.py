"""Fixtures for the Chaos Toolkit tests: the loopback stub, and both runners as processes.

``chaos run`` and ``gameday run`` are started as real processes on the same file, each
with its own stub namespace (``CTK_BASE``) and its own ``GAMEDAY_HOME``; every process is
bounded by a timeout and killed by its PID if it overruns.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ctk import stub

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
TIMEOUT = 60.0


@dataclasses.dataclass
class Ran:
    code: int
    out: str
    err: str
    journal: dict[str, Any] | None  # the Chaos Toolkit journal (chaos's, or gameday's view)
    base: str
    run_dir: Path | None = None
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == type_]


def env_for(tmp: Path, base: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_")}
    env.update({"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "extensions")]),
                "GAMEDAY_HOME": str(tmp / "home"), "CTK_BASE": base,
                "CTK_WORKDIR": str(tmp), "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def run_gameday(path: Path, tmp: Path, base: str, *args: str,
                env: dict[str, str] | None = None) -> Ran:
    reports = tmp / "reports"
    argv = [sys.executable, "-m", "runner.cli.main", "run", str(path), "--journal-dir",
            str(reports), *args]
    done = _run(argv, env_for(tmp, base, env), tmp)
    run_dirs = sorted(reports.glob("*/")) if reports.exists() else []
    run_dir = run_dirs[-1] if run_dirs else None
    journal = None
    events: list[dict[str, Any]] = []
    if run_dir is not None and (run_dir / "chaostoolkit-journal.json").exists():
        journal = json.loads((run_dir / "chaostoolkit-journal.json").read_text())
    if run_dir is not None and (run_dir / "journal.jsonl").exists():
        events = [json.loads(line) for line in
                  (run_dir / "journal.jsonl").read_text().splitlines() if line.strip()]
    return Ran(done.returncode, done.stdout, done.stderr, journal, base, run_dir, events)


def run_chaos(path: Path, tmp: Path, base: str, *args: str,
              env: dict[str, str] | None = None) -> Ran:
    journal_path = tmp / "chaos-journal.json"
    argv = ["chaos", "--no-version-check", "--no-log-file", "run", str(path),
            "--journal-path", str(journal_path), *args]
    done = _run(argv, env_for(tmp, base, env), tmp)
    journal = json.loads(journal_path.read_text()) if journal_path.exists() else None
    return Ran(done.returncode, done.stdout, done.stderr, journal, base)


@pytest.fixture(scope="session")
def stub_url() -> Iterator[str]:
    server = stub.serve()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def base(stub_url: str) -> str:
    """A fresh namespace of the stub for one run."""
    return f"{stub_url}/{uuid.uuid4().hex[:10]}"
