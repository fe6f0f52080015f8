"""Bad input and refusals through the real CLI: clear message, right exit code, no fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import ExitCode
from runner.sandbox import net
from tests.e2e.conftest import active_latency, gameday, ready, write_experiment

CORPUS = Path(__file__).resolve().parents[1] / "model" / "corpus"


def _corpus() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*") if p.is_file())


@pytest.mark.parametrize("bad", _corpus(), ids=lambda p: p.name)
def test_a_malformed_experiment_exits_2_with_a_message_and_starts_nothing(
        bad: Path, tmp_path: Path) -> None:
    journal_dir = tmp_path / "j"
    done = gameday("run", bad, "--journal-dir", journal_dir, "--sandbox", tmp_path / "none")
    assert done.returncode == ExitCode.INVALID, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert str(bad.name) in done.stderr
    assert not journal_dir.exists()
    checked = gameday("validate", bad)
    assert checked.returncode == ExitCode.INVALID
    assert "Traceback" not in checked.stderr


def test_the_corpus_is_large_enough() -> None:
    assert len(_corpus()) >= 15


@pytest.mark.prometheus
def test_an_unreachable_prometheus_refuses_with_exit_3_and_injects_nothing(
        sandbox: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{net.free_port()}"
    exp = write_experiment(tmp_path / "e.yaml", fault="latency: {delay: 20ms}",
                           prometheus_url=url)
    done = gameday("run", exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    assert done.returncode == ExitCode.REFUSED, done.stdout + done.stderr
    assert url in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert active_latency(sandbox) == []


@pytest.mark.prometheus
def test_a_selector_matching_nothing_refuses_with_exit_3(sandbox: Path, tmp_path: Path) -> None:
    exp = write_experiment(tmp_path / "e.yaml", fault="pod-kill: {selector: app=nope, count: 1}",
                           selector="app=nope")
    done = gameday("run", exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    assert done.returncode == ExitCode.REFUSED, done.stdout + done.stderr
    assert "app=nope" in done.stdout + done.stderr
    assert ready(sandbox) == 3


def test_running_without_a_sandbox_says_how_to_start_one(tmp_path: Path) -> None:
    exp = write_experiment(tmp_path / "e.yaml", fault="latency: {delay: 20ms}")
    done = gameday("run", exp, "--sandbox", tmp_path / "nothing-here",
                   "--journal-dir", tmp_path / "j")
    assert done.returncode == ExitCode.REFUSED, done.stdout + done.stderr
    assert "gameday sandbox up" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.prometheus
def test_a_second_run_on_the_same_replicas_is_refused_however_its_selector_is_spelled(
        sandbox: Path, tmp_path: Path) -> None:
    from runner.adapters import locks

    holder = locks.LocalLease()
    # another run holds one replica of this sandbox (as a pod kill of demo-2 would)
    holder.acquire("other-run", [f"local:{sandbox.resolve()}/replica/demo-2"], "/j/other.jsonl")
    try:
        exp_path = write_experiment(tmp_path / "e.yaml", fault="latency: {delay: 20ms}",
                                    selector="app = demo")
        done = gameday("run", exp_path, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
    finally:
        holder.release(None)
    assert done.returncode == ExitCode.REFUSED, done.stdout + done.stderr
    assert "other-run" in done.stderr and "/j/other.jsonl" in done.stderr
    assert active_latency(sandbox) == []
    journal = next((tmp_path / "j").glob("*/journal.jsonl")).read_text()
    assert "fault-intent" not in journal


@pytest.mark.prometheus
def test_latency_left_by_an_earlier_run_refuses_until_swept(sandbox: Path, tmp_path: Path) -> None:
    from runner.sandbox import client, manager

    st = manager.load_state(sandbox)
    client.add_latency(st, "dead-run-0", 0.05, 0.0, 60.0)
    try:
        exp = write_experiment(tmp_path / "e.yaml", fault="latency: {delay: 20ms}")
        done = gameday("run", exp, "--sandbox", sandbox, "--journal-dir", tmp_path / "j")
        assert done.returncode == ExitCode.REFUSED, done.stdout + done.stderr
        assert "dead-run-0" in done.stderr and "--sweep-leftovers" in done.stderr
        assert [i["id"] for i in active_latency(sandbox)] == ["dead-run-0"]  # untouched
    finally:
        client.remove_latency(st, "dead-run-0")
