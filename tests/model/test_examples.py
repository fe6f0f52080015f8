"""Every example experiment shipped in ``experiments/`` loads and validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.model import loader

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
FILES = sorted(p for p in [*EXPERIMENTS.glob("*.yaml"), *EXPERIMENTS.glob("*.yml")]
               if not p.name.startswith("day-"))  # game days: tests/day/test_examples.py
#: Examples may read credentials from the environment; give them harmless values.
ENV = {"GAMEDAY_PROMETHEUS_TOKEN": "example-token", "PROMETHEUS_TOKEN": "example-token"}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_shipped_example_validates_without_a_problem(path: Path) -> None:
    problems = loader.check(path, environ=ENV)
    assert [str(p) for p in problems] == []
    experiment = loader.load(path, environ=ENV)
    assert experiment.title and experiment.faults and experiment.steady_state.probes
