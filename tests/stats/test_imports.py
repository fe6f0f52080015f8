"""The plan and run paths must not pay for scipy at import time (issue 8: ~1.2 s).

scipy is imported lazily by the few functions that need a quantile, at calibration; the
per-tick path and ``gameday plan``'s power check use plain math. Checked in a fresh
interpreter, by what ends up in ``sys.modules`` (never by wall-clock time).
"""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["runner.stats", "runner.stats.power", "runner.engine.run",
                                    "runner.cli.planning"])
def test_importing_the_plan_and_run_paths_loads_no_scipy(module: str) -> None:
    code = (f"import sys, {module}; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout


def test_the_power_check_runs_without_loading_scipy() -> None:
    code = ("import sys; from runner.stats import power; "
            "t = power.earliest_abort_ticks('default', 1500.0, 0.01, psi=2.0, alpha=0.05); "
            "print(t, any(m.split('.')[0] == 'scipy' for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=60)
    ticks, loaded = out.stdout.split()
    assert int(ticks) >= 1 and loaded == "False"


def test_the_power_check_at_modest_traffic_runs_without_loading_numpy() -> None:
    """Below ``kelly.EXACT_UP_TO`` expected errors a tick the Kelly bet is plain math, so
    ``gameday plan`` does not pay for numpy (its start-up target, README "Benchmarks")."""
    code = ("import sys; from runner.stats import power; "
            "t = power.earliest_abort_ticks('default', 80.0, 0.05, psi=2.0, alpha=0.05); "
            "print(t, any(m.split('.')[0] == 'numpy' for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=60)
    ticks, loaded = out.stdout.split()
    assert int(ticks) >= 1 and loaded == "False"
