"""Building the real parts of a run: the one place that knows every adapter.

The CLI commands call these to turn an experiment and command-line options into ports
(metrics source, platform, activity runner). Imports of heavy clients (kubernetes,
prometheus-api-client, chaoslib) happen inside the functions, so ``gameday validate``
never pays for them.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner import errors
from runner.model import experiment as model

if TYPE_CHECKING:
    from collections.abc import Callable

    from runner import ports
    from runner.adapters.ctk import parts as ctk_parts


@dataclasses.dataclass(frozen=True)
class Options:
    """Command-line options that shape the real parts."""

    sandbox_dir: Path | None = None
    kubeconfig: str | None = None
    context: str | None = None
    allow_production: bool = False
    sweep_leftovers: bool = False
    #: Chaos Toolkit runs: ``--var`` (already typed) and ``--var-file``, as ``chaos run``.
    var: tuple[tuple[str, object], ...] = ()
    var_files: tuple[str, ...] = ()
    lease_seconds: float | None = None  # None: LEASE_TICKS ticks (at least MIN_LEASE s)


def new_run_id(title: str) -> str:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:32] or "run"
    return f"{stamp}-{slug}-{os.urandom(2).hex()}"


def sandbox_dir(options: Options) -> Path:
    if options.sandbox_dir is not None:
        return options.sandbox_dir
    from runner.sandbox import state as sandbox_state

    return sandbox_state.default_dir()


def resolve_prometheus(exp: model.Experiment, options: Options) -> model.PrometheusConfig:
    """The experiment's Prometheus config with the special ``sandbox`` URL resolved."""
    config = exp.prometheus
    if config.url != model.SANDBOX_PROMETHEUS:
        return config
    from runner.sandbox import state as sandbox_state

    loaded = sandbox_state.load_state(sandbox_dir(options))
    return dataclasses.replace(config, url=sandbox_state.url_of(loaded, "prometheus"))


def build_metrics(exp: model.Experiment, options: Options) -> ports.MetricsSource:
    if exp.ctk is not None and not exp.steady_state.probes and not exp.abort.alerts:
        from runner.adapters.ctk import parts

        return parts.NullMetrics()  # a Chaos Toolkit file without Prometheus probes
    from runner.adapters import prometheus

    return prometheus.PrometheusSource(resolve_prometheus(exp, options), exp.prometheus.tick)


def build_platform(exp: model.Experiment, options: Options) -> ports.Platform:
    if exp.ctk is not None:  # `gameday plan` of a Chaos Toolkit file: checks only
        return build_ctk(exp, options, planning=True).platform
    if exp.target.platform == "local":
        from runner.adapters import local

        return local.LocalPlatform(sandbox_dir(options),
                                   sweep_leftovers=options.sweep_leftovers)
    if exp.target.platform == "kubernetes":
        try:
            from runner.adapters.k8s import platform as k8s
        except ImportError as exc:  # pragma: no cover - a mandated dependency
            raise errors.PreflightRefused(
                f"The Kubernetes platform cannot be loaded ({exc})."
            ) from exc
        return k8s.build_platform(
            exp,
            kubeconfig=options.kubeconfig,
            context=options.context,
            allow_production=options.allow_production,
            sweep_leftovers=options.sweep_leftovers,
        )
    raise errors.InputError(f"{exp.source}: unknown target.platform {exp.target.platform!r}.")


def build_ctk(exp: model.Experiment, options: Options, warn: Callable[[str], None] | None = None,
              *, planning: bool = False) -> ctk_parts.Parts:
    """The parts of a Chaos Toolkit run (session resolved now; ``PreflightRefused``)."""
    from runner.adapters.ctk import parts

    sandbox = sandbox_dir(options) if exp.target.platform == "local" else None
    return parts.build(exp, sandbox_dir=sandbox, var=dict(options.var),
                       var_files=list(options.var_files), warn=warn, planning=planning)


def build_revert_activities(started: Mapping[str, Any], experiment_file: Path | None
                            ) -> ports.ActivityRunner:
    """``gameday revert``'s activity runner: a Chaos Toolkit run's rollbacks get their
    configuration and secrets again (``runner.adapters.ctk.parts.for_revert``)."""
    document = started.get("experiment")
    if not isinstance(document, dict) or "method" not in document:
        return build_activities()
    from runner.adapters.ctk import parts

    try:
        return parts.for_revert(document, experiment_file)
    except errors.GamedayError as exc:
        print(f"gameday: warning: the run's configuration cannot be resolved again "
              f"({exc.message}); placeholders in its rollbacks stay as written",
              file=sys.stderr)
        return build_activities()


LEASE_TICKS = 3
MIN_LEASE = 5.0


def lease_seconds(exp: model.Experiment, options: Options) -> float:
    """How long a run's lease lasts unrenewed: ``--lease``, else a few ticks."""
    if options.lease_seconds is not None:
        return options.lease_seconds
    return max(MIN_LEASE, LEASE_TICKS * exp.prometheus.tick)


def build_lease(exp: model.Experiment, options: Options | None = None, *, run_id: str = "",
                key: bytes | None = None) -> ports.TargetLease:
    """The claim on the run's targets, with the lease the dead man's switch watches.

    Kubernetes targets: Leases in the cluster (locks on the resolved pods, and a run
    Lease holding the pending reverts). Local: flocks and a run record. With
    ``--sweep-leftovers`` a dead run's pending reverts on the same targets are finished
    first; without it such a run refuses (exit 3).
    """
    options = options or Options()
    seconds = lease_seconds(exp, options)
    if exp.target.platform == "kubernetes":
        from runner.adapters.k8s import lease as k8s_lease
        from runner.cli import guard_k8s

        context = options.context or exp.target.context
        found = guard_k8s.sweeper(run_id, kubeconfig=options.kubeconfig, context=context,
                                  journal_dir=reports_root() / "guard") \
            if options.sweep_leftovers else None
        return k8s_lease.build(exp, kubeconfig=options.kubeconfig, context=options.context,
                               lease_seconds=seconds, leftovers=found)
    from runner.adapters import locks
    from runner.cli import guard

    sweep = guard.sweeper(run_id, key) if options.sweep_leftovers else None
    return locks.LocalLease(lease_seconds=seconds, leftovers=sweep)


def build_sentinels(exp: model.Experiment, options: Options,
                    metrics: ports.MetricsSource) -> tuple[ports.Sentinel, ...]:
    """What every run consults at each checkpoint besides its own abort policy: the
    emergency stop of this machine (``gameday stop``), on Kubernetes the ``gameday-stop``
    ConfigMap kill switch of the namespaces it may touch, and the experiment's burn-rate
    abort conditions (read through the run's own Prometheus connection)."""
    from runner.adapters import prometheus, stop

    found: list[ports.Sentinel] = [stop.StopSentinel()]
    if exp.abort.burn_rates:
        from runner.adapters import burnrate

        source = metrics if isinstance(metrics, prometheus.PrometheusSource) else \
            prometheus.PrometheusSource(resolve_prometheus(exp, options), exp.prometheus.tick)
        found.append(burnrate.BurnRateSentinel(exp.abort.burn_rates, source.query))
    if exp.target.platform == "kubernetes":
        from runner.adapters import stop_k8s

        found.append(stop_k8s.KillSwitch(stop_k8s.namespaces_of(exp),
                                         kubeconfig=options.kubeconfig,
                                         context=options.context or exp.target.context))
    return tuple(found)


def build_activities() -> ports.ActivityRunner:
    # Import chaoslib now, before any lease is taken: a first import inside the fault
    # window takes seconds on a loaded machine, time in which nothing renews the lease.
    import chaoslib.activity  # noqa: F401

    from runner.adapters import chaos

    return chaos.ChaosToolkitActivities()


def versions() -> dict[str, str]:
    from importlib import metadata

    out: dict[str, str] = {}
    for dist in ("chaostoolkit-lib", "chaostoolkit-kubernetes", "prometheus-api-client",
                 "kubernetes"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


def reports_root() -> Path:
    return Path(os.environ.get("GAMEDAY_REPORTS", "reports"))
