"""What gameday adds to a Chaos Toolkit run, end to end: real processes, real signals.

A failed action is a failure (exit 4, with the reason); a failed rollback is exit 5; a
pause is interrupted by SIGINT (and the rollbacks still run); after a SIGKILL mid-method
``gameday revert`` runs the rollbacks, their ``${name}`` resolved again; ``--var`` and
``--var-file`` substitute as on ``chaos run``; a Vault secret is refused before anything
runs; a method probe's tolerance is enforced.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.ctk import conftest as ctk
from tests.ctk import stub


def write(tmp: Path, doc: dict[str, Any]) -> Path:
    path = tmp / "experiment.json"
    path.write_text(json.dumps({"title": "a test experiment", "description": "tests",
                                **doc}, indent=1))
    return path


def fix_rollback(key: str = "base") -> list[dict[str, Any]]:
    return [{"type": "action", "name": "fix-it",
             "provider": {"type": "python", "module": "tests.ctk.stub", "func": "fixes",
                          "arguments": {"base": f"${{{key}}}"}}}]


BASE = {"configuration": {"base": {"type": "env", "key": "CTK_BASE"}}}


def test_a_program_that_exits_1_is_a_fault_that_did_not_take_effect(tmp_path: Path,
                                                                    base: str) -> None:
    path = write(tmp_path, {**BASE, "method": [
        {"type": "action", "name": "drain", "provider": {"type": "process", "path": "/bin/false"}}],
        "rollbacks": fix_rollback()})
    ran = ctk.run_gameday(path, tmp_path, base)
    assert ran.code == 4, ran.out + ran.err
    assert "did not take effect" in ran.out and "exited with status 1" in ran.out
    assert [e["ok"] for e in ran.of("revert-result")] == [True]
    assert "POST /fix" in stub.calls(base)


def test_an_http_action_answered_404_is_a_fault_that_did_not_take_effect(tmp_path: Path,
                                                                         base: str) -> None:
    path = write(tmp_path, {**BASE, "method": [
        {"type": "action", "name": "failover",
         "provider": {"type": "http", "url": "${base}/missing"}}]})
    ran = ctk.run_gameday(path, tmp_path, base)
    assert ran.code == 4
    assert "the HTTP answer was 404" in ran.out
    assert ran.of("fault-result")[0]["evidence"]["status"] == 404


def test_a_failing_rollback_is_exit_5_and_names_what_to_run_next(tmp_path: Path,
                                                                base: str) -> None:
    path = write(tmp_path, {**BASE, "method": [
        {"type": "action", "name": "break", "provider": {"type": "python",
         "module": "tests.ctk.stub", "func": "breaks", "arguments": {"base": "${base}"}}}],
        "rollbacks": [{"type": "action", "name": "restore",
                       "provider": {"type": "process", "path": "false"}}]})
    ran = ctk.run_gameday(path, tmp_path, base, "--hypothesis-strategy", "before-method-only")
    assert ran.code == 5, ran.out + ran.err
    assert "a revert failed; a human must act now" in ran.out
    assert "gameday revert" in ran.out
    assert ran.of("revert-result")[-1]["ok"] is False


def _until(predicate: Any, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _journal(reports: Path) -> Path | None:
    found = sorted(reports.glob("*/journal.jsonl")) if reports.exists() else []
    return found[-1] if found else None


def _paused(reports: Path) -> bool:
    path = _journal(reports)
    return path is not None and '"type":"pause"' in path.read_text().replace(" ", "")


def _start(path: Path, tmp: Path, base: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runner.cli.main", "run", str(path), "--journal-dir",
         str(tmp / "reports")], cwd=tmp, env=ctk.env_for(tmp, base), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


PAUSED = {**BASE, "method": [
    {"type": "action", "name": "break", "pauses": {"after": 60},
     "provider": {"type": "python", "module": "tests.ctk.stub", "func": "breaks",
                  "arguments": {"base": "${base}"}}}],
    "rollbacks": fix_rollback()}


def test_sigint_interrupts_a_pause_and_the_rollbacks_still_run(tmp_path: Path,
                                                               base: str) -> None:
    proc = _start(write(tmp_path, PAUSED), tmp_path, base)
    try:
        _until(lambda: _paused(tmp_path / "reports"))
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert time.monotonic() - started < 15  # not the 60 s pause
    assert proc.returncode == 4, out
    assert "interrupted" in out
    assert stub.is_healthy(base)  # the rollback ran
    events = [json.loads(line) for line in
              (_journal(tmp_path / "reports") or Path()).read_text().splitlines()]
    assert [e["ok"] for e in events if e["type"] == "revert-result"] == [True]


def test_after_a_sigkill_mid_method_gameday_revert_runs_the_rollbacks(tmp_path: Path,
                                                                      base: str) -> None:
    proc = _start(write(tmp_path, PAUSED), tmp_path, base)
    try:
        _until(lambda: _paused(tmp_path / "reports"))
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert not stub.is_healthy(base)  # the run died with the service broken
    journal = _journal(tmp_path / "reports")
    assert journal is not None
    done = subprocess.run([sys.executable, "-m", "runner.cli.main", "revert", str(journal)],
                          cwd=tmp_path, env=ctk.env_for(tmp_path, base), text=True,
                          capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert stub.is_healthy(base)
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    reverted = [e for e in events if e["type"] == "revert-result"]
    assert [(e["name"], e["ok"], e["by"]) for e in reverted] == [
        ("fix-it", True, "gameday revert")]


def test_var_and_var_file_substitute_as_chaos_run_does(tmp_path: Path, base: str) -> None:
    (tmp_path / "vars.json").write_text(json.dumps({"configuration": {"who": "from-file"}}))
    doc = {"configuration": {"who": "default", "greeting": "hello"}, "method": [
        {"type": "action", "name": "say", "provider": {
            "type": "process", "path": "echo", "arguments": "${greeting} ${who}"}}]}
    path = write(tmp_path, doc)
    for extra, expected in (((), "hello default"),
                            (("--var-file", str(tmp_path / "vars.json")), "hello from-file"),
                            (("--var", "who=from-cli"), "hello from-cli")):
        ran = ctk.run_gameday(path, tmp_path, base, *extra)
        chaos = ctk.run_chaos(path, tmp_path, base, *extra)
        assert ran.code == 0, ran.out + ran.err
        ours = ran.of("fault-result")[0]["result"]["stdout"].strip()
        assert chaos.journal is not None
        assert ours == chaos.journal["run"][0]["output"]["stdout"].strip() == expected
        assert "${who}" in json.dumps(ran.of("fault-intent")[0])  # journaled as written


def test_a_vault_secret_is_refused_naming_the_key_and_nothing_runs(tmp_path: Path,
                                                                   base: str) -> None:
    path = write(tmp_path, {**BASE, "secrets": {"db": {"password": {
        "type": "vault", "path": "secret/db"}}}, "method": [
        {"type": "action", "name": "break", "provider": {"type": "python",
         "module": "tests.ctk.stub", "func": "breaks", "arguments": {"base": "${base}"}}}]})
    ran = ctk.run_gameday(path, tmp_path, base)
    assert ran.code == 2
    assert "secrets.db.password.type" in ran.err and "Vault" in ran.err
    assert "Traceback" not in ran.err
    assert stub.calls(base) == []


def test_a_method_probe_outside_its_tolerance_means_the_steady_state_deviated(
        tmp_path: Path, base: str) -> None:
    path = write(tmp_path, {**BASE, "method": [
        {"type": "action", "name": "break", "provider": {"type": "python",
         "module": "tests.ctk.stub", "func": "breaks", "arguments": {"base": "${base}"}}},
        {"type": "probe", "name": "still-healthy", "tolerance": 200,
         "provider": {"type": "http", "url": "${base}/health"}}],
        "rollbacks": fix_rollback()})
    ran = ctk.run_gameday(path, tmp_path, base)
    assert ran.code == 1, ran.out + ran.err
    assert "method probe 'still-healthy' is outside its tolerance" in ran.out
    assert ran.of("observation")[0]["tolerance_met"] is False
    assert stub.is_healthy(base)
