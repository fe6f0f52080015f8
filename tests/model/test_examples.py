"""Every example experiment shipped in ``experiments/`` loads and validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.model import loader

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
FILES = sorted(p for p in EXPERIMENTS.rglob("*") if p.suffix in (".yaml", ".yml", ".json")
               and not p.name.startswith("day-"))  # game days: tests/day/test_examples.py
#: Examples may read credentials from the environment; give them harmless values.
ENV = {"GAMEDAY_PROMETHEUS_TOKEN": "example-token", "PROMETHEUS_TOKEN": "example-token"}


def test_the_chaos_toolkit_examples_are_shipped_too() -> None:
    assert len([p for p in FILES if p.parent.name == "ctk"]) >= 2


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_shipped_example_validates_without_a_problem(path: Path) -> None:
    problems = loader.check(path, environ=ENV)
    assert [str(p) for p in problems] == []
    experiment = loader.load(path, environ=ENV)
    if experiment.method is not None:  # a Chaos Toolkit experiment (experiments/ctk/)
        assert experiment.title and experiment.method.steps and experiment.method.rollbacks
        return
    assert experiment.title and experiment.faults and experiment.steady_state.probes
