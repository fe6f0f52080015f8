"""Sequential steady-state statistics: e-processes, guardrails, combination (STATS.md).

Pure numpy/scipy: no I/O, no clock, no engine, journal, model or YAML (import-linter
enforces it). The engine talks to ``runner.stats.monitor`` only; the other modules are
the parts (``betting`` default test, ``negbin`` fast mode and ``dispersion`` its
admission, ``baseline`` bounds, ``plan`` calibration, ``power`` check, ``latency``
reduction, ``guardrail``, ``combine``, ``sprt`` reference oracle, ``simulate`` seeded
generators for tests and the benchmark).

The names below are ``monitor``'s, loaded on first use (PEP 562): importing one part,
such as ``power`` for ``gameday plan``, does not load numpy through ``monitor``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.stats.monitor import (
        GuardrailState,
        MonitorPlan,
        MonitorState,
        MonitorStep,
        Obs,
        ProbeCalibration,
        ProbeSpec,
        ProbeStep,
        calibrate,
        guardrail_step,
        start,
        step,
    )

__all__ = [
    "GuardrailState",
    "MonitorPlan",
    "MonitorState",
    "MonitorStep",
    "Obs",
    "ProbeCalibration",
    "ProbeSpec",
    "ProbeStep",
    "calibrate",
    "guardrail_step",
    "start",
    "step",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("runner.stats.monitor"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
