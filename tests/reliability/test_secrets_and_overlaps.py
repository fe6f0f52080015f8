"""URL passwords never reach anything written; runs never overlap on the same replicas."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import ExitCode
from runner.sandbox import manager
from runner.sandbox import state as sandbox_state
from tests.e2e.conftest import Running, gameday
from tests.reliability.conftest import LATENCY, experiment, intact, nothing_live, phase_is

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]


def test_a_password_in_the_prometheus_url_is_in_no_file_the_run_writes(
        sandbox: Path, tmp_path: Path) -> None:
    url = sandbox_state.url_of(manager.load_state(sandbox), "prometheus")
    secret = "s3cr3t-Pa55"
    with_password = url.replace("http://", f"http://sre:{secret}@")
    exp = experiment(tmp_path / "e.yaml", LATENCY, duration="3s", prometheus_url=with_password)
    done = gameday("run", exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    assert done.returncode == ExitCode.HELD, done.stdout + done.stderr
    written = [p for p in (tmp_path / "j").rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"journal.jsonl", "report.md", "junit.xml",
                                         "chaostoolkit-journal.json"}
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
    assert secret not in done.stdout + done.stderr


@pytest.mark.parametrize("spelling", ["app = demo", "app==demo", None])
def test_concurrent_runs_on_the_same_replicas_are_refused_however_spelled(
        spelling: str | None, sandbox: Path, tmp_path: Path, running: list[Running]) -> None:
    first_exp = experiment(tmp_path / "first.yaml", LATENCY, duration="60s")
    first = Running(first_exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j1")
    running.append(first)
    path = first.journal_path(tmp_path / "j1")
    first.wait_for_event(path, phase_is("watch"))
    second_exp = experiment(tmp_path / "second.yaml", "{pod-kill: {count: 1}}",
                            duration="60s", selector=spelling or "app=demo")
    if spelling is None:
        text = second_exp.read_text().replace('selector: "app=demo"', "")
        second_exp.write_text(text.replace("target: {platform: local, }",
                                           "target: {platform: local}"))
    second = gameday("run", second_exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j2")
    assert second.returncode == ExitCode.REFUSED, second.stdout + second.stderr
    assert "run " + path.parent.name in second.stderr
    first.signal(2)
    code, _out, err = first.wait(timeout=90)
    assert code == ExitCode.RUNNER_ERROR, err
    assert nothing_live(sandbox)
    assert intact(path)


def test_gameday_revert_on_a_live_run_refuses_and_leaves_its_faults_alone(
        sandbox: Path, tmp_path: Path, running: list[Running]) -> None:
    from tests.e2e.conftest import active_latency

    exp = experiment(tmp_path / "e.yaml", LATENCY, duration="8s")
    run = Running(exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    running.append(run)
    path = run.journal_path(tmp_path / "j")
    run.wait_for_event(path, phase_is("watch"))
    done = gameday("revert", path)
    assert done.returncode == ExitCode.REFUSED, done.stdout + done.stderr
    assert "live run" in done.stderr
    assert len(active_latency(sandbox)) == 1, "a refused revert must not touch the live fault"
    code, _out, err = run.wait(timeout=90)
    assert code == ExitCode.HELD, err
    assert nothing_live(sandbox)
    assert intact(path)
