"""Sequential steady-state statistics: e-processes, guardrails, combination (STATS.md).

Pure numpy/scipy: no I/O, no clock, no engine, journal, model or YAML (import-linter
enforces it). The engine talks to ``runner.stats.monitor`` only; the other modules are
the parts (``betting`` default test, ``negbin`` fast mode and ``dispersion`` its
admission, ``baseline`` bounds, ``plan`` calibration, ``power`` check, ``latency``
reduction, ``guardrail``, ``combine``, ``sprt`` reference oracle, ``simulate`` seeded
generators for tests and the benchmark).
"""

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
