"""When a method's rollbacks run: gameday's default and chaos run's strategies."""

from __future__ import annotations

import pytest

from runner.engine import abort as abort_mod
from runner.engine import rollbacks, verdicts
from runner.errors import ExitCode

DONE = rollbacks.ending(None, None)
BROKEN = rollbacks.ending(abort_mod.Abort("tolerance", "deviated", {}), None)
STOPPED = rollbacks.ending(abort_mod.Abort("stop", "emergency stop", {}), None)
SIGINT = rollbacks.ending(None, verdicts.Outcome("r", "interrupted", ExitCode.RUNNER_ERROR, ""))
ERROR = rollbacks.ending(None, verdicts.Outcome("r", "error", ExitCode.RUNNER_ERROR, ""))


@pytest.mark.parametrize(("strategy", "end", "play"), [
    (None, DONE, True), (None, BROKEN, True), (None, STOPPED, True), (None, SIGINT, True),
    (None, ERROR, True),
    ("always", SIGINT, True),
    ("never", DONE, False), ("never", BROKEN, False),
    ("default", DONE, True), ("default", BROKEN, True), ("default", ERROR, True),
    ("default", SIGINT, False), ("default", STOPPED, False),
    ("deviated", BROKEN, True), ("deviated", DONE, False), ("deviated", SIGINT, False),
])
def test_the_rollback_group_plays_as_its_strategy_says(strategy: str | None,
                                                       end: rollbacks.Ending,
                                                       play: bool) -> None:
    found, reason = rollbacks.plays(strategy, end)
    assert found is play
    assert reason.startswith("gameday's default" if strategy is None else f"strategy {strategy}")
