"""The ``ports.Platform`` of a Chaos Toolkit run: what its activities touch cannot be named.

Decisions:

- Preflight resolves what chaoslib resolves at start (the configuration probes), opens
  the session (activity cache, controls: a missing control module is warned about, as
  chaos run does) and applies the experiment's before-controls; under ``gameday plan``
  it only checks. It refuses the run (exit 3, nothing touched) when an activity cannot
  run at all: a python provider whose module cannot be found or lacks the function, a
  process provider whose program is not on PATH, a JSON path tolerance chaoslib cannot
  parse. ``chaos run`` finds those out mid-method; gameday before the first action.
- The plan is one ``PlannedFault`` per method action (index = the step's place in the
  method, the activity as written) and one per rollback (indices after the method's
  steps, ``kind: rollback``, the activity as written in ``revert``), so the journal's
  plan names everything that will run, placeholders unresolved.
- Lock keys: a Chaos Toolkit activity can touch anything, so the claim is a wildcard:
  ``local:<sandbox>/*`` when the gameday extension names the local sandbox as its
  target (it then excludes native runs on the sandbox too); otherwise (no target, or a
  Kubernetes one, whose API endpoint is not resolved here) the machine-wide
  ``host:<hostname>/*``, so two Chaos Toolkit runs on one machine do not overlap.
- Effects and reverts are not checked ("not checked", never claimed): only the
  activity's own outcome (exit status, HTTP status) is judged.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runner import ports
from runner.adapters.ctk import session as session_mod
from runner.model import experiment as model


def host_key() -> str:
    return f"host:{socket.gethostname()}/*"


class ChaosToolkitPlatform:
    """See the module docstring."""

    name = "chaostoolkit"

    def __init__(self, session: session_mod.Session, *, sandbox_dir: Path | None = None,
                 planning: bool = False) -> None:
        self.session = session
        self.sandbox_dir = sandbox_dir
        self.planning = planning  # `gameday plan`: check, but run no probe and no control

    def preflight(self, experiment: model.Experiment) -> list[str]:
        problems = [p for a in self._activities(experiment) for p in _runnable(a)]
        problems += _jsonpaths(experiment)
        if problems or self.planning:
            return problems
        self.session.warnings.extend(self.session.dynamic())
        for warning in self.session.warnings:
            self.session.warn(warning)
        self.session.open()
        self.session.control("experiment", "before")
        return []

    @staticmethod
    def _activities(experiment: model.Experiment) -> list[dict[str, Any]]:
        assert experiment.method is not None and experiment.ctk is not None
        found = [dict(s.activity) for s in experiment.method.steps]
        found += [dict(a) for a in experiment.method.rollbacks]
        found += [dict(p) for p in experiment.ctk.hypothesis]
        found += [t for p in experiment.ctk.hypothesis
                  if isinstance(t := p.get("tolerance"), dict) and t.get("type") == "probe"]
        return found

    def plan(self, experiment: model.Experiment, run_id: str,
             seed: int) -> list[ports.PlannedFault]:
        method = experiment.method
        assert method is not None
        planned = [ports.PlannedFault(s.index, s.name, "action", (), dict(s.activity), None,
                                      "a Chaos Toolkit action as written in the method"
                                      + (" (in the background)" if s.background else ""))
                   for s in method.actions]
        offset = len(method.steps)
        planned += [ports.PlannedFault(offset + i, str(r.get("name", f"rollback {i}")),
                                       "rollback", (), {}, dict(r),
                                       f"rollback {i + 1} of {len(method.rollbacks)}, as "
                                       "written in the experiment")
                    for i, r in enumerate(method.rollbacks)]
        return planned

    def ready_replicas(self, probe: model.ReadyReplicasProbe) -> float | None:
        if self.sandbox_dir is None:
            return None
        from runner.adapters import local

        return local.LocalPlatform(self.sandbox_dir).ready_replicas(probe)

    def lock_keys(self, planned: Sequence[ports.PlannedFault]) -> list[str]:
        target = self.session.exp.target
        if self.session.spec.target_given and target.platform == "local" \
                and self.sandbox_dir is not None:
            return [f"local:{self.sandbox_dir.resolve()}/*"]
        return [host_key()]

    def check_effect(self, fault: ports.PlannedFault, result: Any) -> ports.EffectCheck:
        return ports.EffectCheck(None, "not checked: a Chaos Toolkit action is judged by its "
                                 "own outcome only")

    def verify_revert(self, fault: ports.PlannedFault, within: float) -> ports.RevertCheck:
        return ports.RevertCheck(None, "not checked: a Chaos Toolkit rollback is judged by its "
                                 "own outcome only")


def _runnable(activity: dict[str, Any]) -> list[str]:
    provider = activity.get("provider") or {}
    name = activity.get("name", "?")
    kind = provider.get("type")
    if kind == "python":
        module, func = str(provider.get("module")), str(provider.get("func"))
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return [f"activity {name!r}: the Python module {module!r} cannot be found "
                    "(install the extension that provides it)"]
        try:
            loaded = importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - a module that fails to import is a problem
            return [f"activity {name!r}: the Python module {module!r} fails to import "
                    f"({type(exc).__name__}: {exc})"]
        if not callable(getattr(loaded, func, None)):
            return [f"activity {name!r}: {module}.{func} does not exist"]
    if kind == "process":
        path = str(provider.get("path"))
        if "${" not in path and shutil.which(path) is None:
            return [f"activity {name!r}: the program {path!r} is not found (not on PATH, or "
                    "not executable)"]
    return []


def _jsonpaths(experiment: model.Experiment) -> list[str]:
    assert experiment.ctk is not None
    problems: list[str] = []
    probes = [*experiment.ctk.hypothesis,
              *(dict(s.activity) for s in (experiment.method.steps if experiment.method else ())
                if s.checked)]
    for probe in probes:
        tolerance = probe.get("tolerance")
        if isinstance(tolerance, dict) and tolerance.get("type") == "jsonpath":
            try:
                from chaoslib.exceptions import ChaosException
                from chaoslib.hypothesis import check_json_path

                check_json_path(tolerance)
            except ChaosException as exc:
                problems.append(f"probe {probe.get('name')!r}: {exc}")
    return problems
