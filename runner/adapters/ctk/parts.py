"""The real parts of one Chaos Toolkit run, built together (the command line calls ``build``).

The session is resolved first (configuration, secrets, ``--var`` / ``--var-file``), so
a missing environment variable refuses the run before its journal is opened, and the
secret values can be scrubbed from the journal by value. ``close`` applies the
experiment's after-controls, cleans up the controls and stops the safeguards, on every
exit path. ``NullMetrics`` is the metrics source of a file without Prometheus probes:
it reads nothing and refuses nothing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runner import ports
from runner.adapters.ctk import activities as activities_mod
from runner.adapters.ctk import platform as platform_mod
from runner.adapters.ctk import sentinel as sentinel_mod
from runner.adapters.ctk import session as session_mod
from runner.model import experiment as model


@dataclasses.dataclass
class Parts:
    session: session_mod.Session
    activities: activities_mod.Activities
    platform: platform_mod.ChaosToolkitPlatform
    hypothesis: sentinel_mod.Hypothesis
    safeguards: sentinel_mod.Safeguards

    @property
    def sentinels(self) -> tuple[ports.Sentinel, ...]:
        return (self.safeguards, self.hypothesis)

    def close(self, journal: Mapping[str, Any] | None = None) -> None:
        self.safeguards.stop()
        self.session.close(journal)


def build(exp: model.Experiment, *, sandbox_dir: Path | None = None,
          var: Mapping[str, Any] | None = None, var_files: Sequence[str] = (),
          warn: session_mod.Warn | None = None, planning: bool = False) -> Parts:
    """Resolve the session and build the parts; raises ``errors.PreflightRefused``."""
    assert exp.method is not None
    session = session_mod.Session(exp, var=var, var_files=var_files, warn=warn)
    session.resolve()
    safeguards = sentinel_mod.Safeguards(session, session_mod.safeguard_probes(
        exp.ctk.document if exp.ctk else {}))
    return Parts(
        session=session, activities=activities_mod.Activities(session),
        platform=platform_mod.ChaosToolkitPlatform(session, sandbox_dir=sandbox_dir,
                                                   planning=planning),
        hypothesis=sentinel_mod.Hypothesis(session, exp.method.hypothesis_strategy,
                                           exp.method.hypothesis_frequency),
        safeguards=safeguards)


def for_revert(document: Mapping[str, Any], experiment_file: Path | None,
               warn: session_mod.Warn | None = None) -> activities_mod.Activities:
    """The activity runner ``gameday revert`` uses for a Chaos Toolkit run's rollbacks.

    Their ``${name}`` placeholders need the configuration and secrets again: from the
    experiment file when it is still the one that ran (``experiment_file``, its sha256
    checked by the caller), else from the journal's copy of the experiment (its inline
    secrets are redacted there, so only configuration is known; a placeholder naming a
    secret then stays unresolved and the rollback fails, saying so). ``--var`` values
    given to the run are not known: export what they set. Environment variables are
    read now, as at the run's start.
    """
    from runner.model import loader

    if experiment_file is not None:
        exp = loader.load(experiment_file)
    else:
        kept = {k: v for k, v in document.items() if k != "secrets"}
        exp = loader.load_text(json.dumps(kept), "<the journal's experiment>")
    return build(exp, warn=warn).activities


class NullMetrics:
    """A ``ports.MetricsSource`` with nothing to read (no Prometheus probes, no alerts)."""

    def preflight(self, probes: Sequence[model.Probe]) -> list[str]:
        return []

    def warnings(self, probes: Sequence[model.Probe]) -> list[str]:
        return []

    def sample(self, probes: Sequence[model.Probe]) -> dict[str, ports.Sample]:
        return {}

    def read_errors(self) -> Mapping[str, str]:
        return {}

    def alerts(self, queries: Sequence[str]) -> list[str]:
        return []

    def traffic(self, probe: model.StatProbe) -> float | None:
        return None

    def preflight_alerts(self, queries: Sequence[str]) -> list[str]:
        return []
