"""The parity suite: each corpus experiment run by ``chaos run`` and by ``gameday run``.

Both runners get the same file, each its own namespace of the loopback stub. Compared:
whether the steady state deviated, which activities of the method ran (by name, in
order), which rollbacks ran and with what status, and that gameday's
``chaostoolkit-journal.json`` has every top-level field of chaos's journal. Where
gameday means to differ (``docs/CHAOSTOOLKIT.md``), the case says so and the
difference itself is asserted. The pairs run in parallel processes, once per session.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from concurrent import futures
from pathlib import Path
from typing import Any

import pytest

from tests.ctk import conftest as ctk
from tests.ctk import stub

#: The corpus runs once per session (38 processes, in parallel); on a loaded machine the
#: first test, which waits for it, needs more than the default per-test timeout.
pytestmark = pytest.mark.timeout(1200)
TOKEN = "s3cr3t-token-value-42"
ENV = {"CTK_TOKEN": TOKEN}


@dataclasses.dataclass(frozen=True)
class Case:
    code: int  # gameday's exit code
    deviated: bool
    chaos_code: int = 0
    same_rollbacks: bool = True  # else: chaos plays them, gameday has nothing to undo
    failed_action: str | None = None  # gameday judges this action failed (chaos: ran)
    args: tuple[str, ...] = ()
    #: chaos run's safeguard stops the run with a signal from another thread, so whether
    #: its method ran first is a race; gameday checks the safeguard before the method.
    chaos_races: bool = False


CASES: dict[str, Case] = {
    "01-http-health.json": Case(0, False),
    "02-exchange-file.yaml": Case(1, True, chaos_code=1),
    "03-break-and-fix.json": Case(1, True, chaos_code=1),
    "04-jsonpath.json": Case(0, False),
    "05-regex.yaml": Case(0, False),
    "06-range.json": Case(0, False),
    "07-list-tolerance.json": Case(1, True, chaos_code=1),
    "08-probe-tolerance.json": Case(0, False),
    "09-ref.json": Case(0, False),
    "10-background.json": Case(0, False),
    "11-pauses-config.yaml": Case(0, False),
    "12-failing-process-action.json": Case(4, False, failed_action="drain-the-node"),
    "13-http-404-action.json": Case(4, False, failed_action="trigger-failover"),
    "14-before-fails.json": Case(3, False, same_rollbacks=False),
    "15-rollbacks-never.yaml": Case(1, True, chaos_code=1),
    "16-env-secret.json": Case(0, False),
    "17-controls.json": Case(0, False, args=("--hypothesis-strategy", "default")),
    "18-safeguard.json": Case(3, False, chaos_code=1, chaos_races=True),
    "19-dynamic-config.json": Case(0, False),
}


def _pair(name: str, root: Path, stub_url: str) -> tuple[ctk.Ran, ctk.Ran, Path, Path]:
    case = CASES[name]
    path = ctk.CORPUS / name
    dirs = []
    for who in ("chaos", "gameday"):
        tmp = root / name / who
        tmp.mkdir(parents=True)
        (tmp / "exchange.dat").write_text("data\n")
        dirs.append(tmp)
    chaos = ctk.run_chaos(path, dirs[0], f"{stub_url}/{name[:2]}-chaos", env=ENV)
    gameday = ctk.run_gameday(path, dirs[1], f"{stub_url}/{name[:2]}-gameday", *case.args,
                              env=ENV)
    return chaos, gameday, dirs[0], dirs[1]


@pytest.fixture(scope="session")
def pairs(tmp_path_factory: pytest.TempPathFactory, stub_url: str
          ) -> dict[str, tuple[ctk.Ran, ctk.Ran, Path, Path]]:
    root = tmp_path_factory.mktemp("parity")
    with futures.ThreadPoolExecutor(max_workers=4) as pool:
        jobs = {name: pool.submit(_pair, name, root, stub_url) for name in CASES}
        return {name: job.result() for name, job in jobs.items()}


def _names(runs: list[dict[str, Any]]) -> list[str]:
    return [str(r["activity"].get("name")) for r in runs]


def test_the_corpus_has_at_least_fifteen_experiments_each_with_an_expectation() -> None:
    files = sorted(p.name for p in ctk.CORPUS.iterdir())
    assert len(files) >= 15
    assert set(files) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gameday_runs_the_experiment_with_the_meaning_chaos_run_gives_it(
        name: str, pairs: dict[str, tuple[ctk.Ran, ctk.Ran, Path, Path]]) -> None:
    case = CASES[name]
    chaos, gameday, _chaos_dir, _gameday_dir = pairs[name]
    assert chaos.journal is not None, chaos.err[-2000:]
    assert gameday.journal is not None, gameday.err[-2000:]
    assert (gameday.code, chaos.code) == (case.code, case.chaos_code), gameday.out + gameday.err
    assert gameday.journal["deviated"] is case.deviated
    assert chaos.journal["deviated"] is case.deviated
    if case.chaos_races:
        assert gameday.journal["run"] == []
    else:
        assert _names(gameday.journal["run"]) == _names(chaos.journal["run"])
    for run in gameday.journal["run"]:
        failed = run["activity"]["name"] == case.failed_action
        assert run["status"] == ("failed" if failed else "succeeded"), run
    for run in [] if case.chaos_races else chaos.journal["run"]:
        assert run["status"] == "succeeded"  # chaos run records a failed action as run
    ours = [(r["activity"]["name"], r["status"]) for r in gameday.journal["rollbacks"]]
    if case.chaos_races:  # chaos's interrupt races its rollbacks too (some get no status)
        assert all(status == "succeeded" for _name, status in ours), ours
        return
    theirs = [(r["activity"]["name"], r["status"]) for r in chaos.journal["rollbacks"]]
    if case.same_rollbacks:
        assert ours == theirs
    else:  # refused before the method: gameday has nothing to undo, chaos plays them
        assert ours == [] and theirs and all(s == "succeeded" for _n, s in theirs)
    assert set(chaos.journal) - set(gameday.journal) == set()


def test_rollbacks_really_ran_against_the_service(
        pairs: dict[str, tuple[ctk.Ran, ctk.Ran, Path, Path]]) -> None:
    chaos, gameday, _c, _g = pairs["03-break-and-fix.json"]
    for ran in (chaos, gameday):
        calls = stub.calls(ran.base)
        assert calls.index("POST /break") < calls.index("POST /fix")
        assert stub.is_healthy(ran.base)
    _c, never, _cd, _gd = pairs["15-rollbacks-never.yaml"]
    assert "POST /fix" not in stub.calls(never.base)
    assert any("strategy 'never'" in e.get("message", "") for e in never.of("warning"))


def test_a_secret_from_the_environment_is_used_but_never_journaled(
        pairs: dict[str, tuple[ctk.Ran, ctk.Ran, Path, Path]]) -> None:
    _chaos, gameday, _c, _g = pairs["16-env-secret.json"]
    assert gameday.run_dir is not None
    for path in gameday.run_dir.iterdir():
        assert TOKEN not in path.read_text(encoding="utf-8", errors="replace"), path.name
    poked = gameday.of("fault-result")[0]
    assert poked["ok"] is True


def test_controls_are_called_as_chaos_run_calls_them_and_a_missing_one_is_warned_about(
        pairs: dict[str, tuple[ctk.Ran, ctk.Ran, Path, Path]]) -> None:
    chaos, gameday, chaos_dir, gameday_dir = pairs["17-controls.json"]
    theirs = Counter((chaos_dir / "controls.log").read_text().splitlines())
    ours = Counter((gameday_dir / "controls.log").read_text().splitlines())
    assert ours == theirs
    assert ours["before_experiment_control"] == 1 and ours["cleanup_control"] == 1
    warning = "Could not find Python module 'chaosnotinstalled.control' in control " \
        "'not-installed'"
    assert warning in chaos.out + chaos.err
    assert warning in gameday.err


def test_a_safeguard_stops_gameday_through_its_own_abort_before_anything_runs(
        pairs: dict[str, tuple[ctk.Ran, ctk.Ran, Path, Path]]) -> None:
    chaos, gameday, _c, _g = pairs["18-safeguard.json"]
    assert chaos.journal is not None and chaos.journal["status"] == "interrupted"
    assert "safeguard 'pager-is-quiet'" in gameday.out + gameday.err
    assert gameday.of("fault-intent") == []
    assert "POST /break" not in stub.calls(gameday.base)
