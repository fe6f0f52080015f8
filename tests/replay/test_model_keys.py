"""The steady_state keys replay adds: ``history`` and ``against``, validated with their paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import errors
from runner.model import loader
from tests.replay import streams


def _load(tmp_path: Path, extra: str):  # type: ignore[no-untyped-def]
    text = streams.experiment("http://127.0.0.1:9090").replace(
        "  baseline: 1m\n", f"  baseline: 1m\n{extra}")
    path = tmp_path / "experiment.yaml"
    path.write_text(text, encoding="utf-8")
    return loader.load(path)


def test_history_and_against_are_read_with_their_defaults(tmp_path: Path) -> None:
    plain = _load(tmp_path, "").steady_state
    assert (plain.history, plain.against, plain.history_above_alpha) == (None, "slo", "warn")
    short = _load(tmp_path, "  history: 2d\n").steady_state
    assert short.history == 2 * 86_400 and short.against == "slo"
    full = _load(tmp_path, "  history: {last: 12h, above_alpha: refuse}\n").steady_state
    assert full.history == 12 * 3600 and full.history_above_alpha == "refuse"
    against = _load(tmp_path, "  against: history\n").steady_state
    assert against.against == "history" and against.history == 7 * 86_400


@pytest.mark.parametrize(("extra", "where"), [
    ("  against: baseline\n", "steady_state.against"),
    ("  history: forever\n", "steady_state.history"),
    ("  history: {last: 2d, above_alpha: never}\n", "steady_state.history.above_alpha"),
    ("  history: {above_alpha: warn}\n", "steady_state.history"),
])
def test_bad_history_keys_are_refused_with_their_path(tmp_path: Path, extra: str,
                                                      where: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        _load(tmp_path, extra)
    assert where in caught.value.message


def test_replay_names_each_fault_by_the_kind_the_file_used() -> None:
    from runner.model import faults
    from runner.replay import driver
    from tests.engine.conftest import make_experiment

    exp = make_experiment()
    planned = driver.NoPlatform().plan(exp, "run", 1)
    assert [p.kind for p in planned] == ["pod-kill", "latency"]
    assert {p.kind for p in planned} <= set(faults.KINDS)
    assert all(p.action == {} and p.revert is None for p in planned)  # nothing to inject
