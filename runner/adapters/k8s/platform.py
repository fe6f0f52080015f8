"""``KubernetesPlatform``: preflight, planning and guardrail reads for Kubernetes.

It implements ``runner.ports.Platform``. The engine never sees a kubernetes object: it
gets problem sentences from ``preflight``, ``PlannedFault`` values whose action and
revert are JSON-able Chaos Toolkit activities of ``gameday_k8s`` from ``plan``, and
numbers from ``ready_replicas``.

Decisions:
- Preflight and plan share one drafting pass (``_draft``): the same selection, the same
  blast-radius arithmetic, so what ``gameday plan`` shows is what ``gameday run`` does,
  and ``plan`` refuses (``PreflightRefused``) whatever preflight would have refused.
- Activities name the cluster with the *resolved* kubeconfig path and context, so a
  revert after a crash hits the cluster the fault went to, not today's current context.
- A latency fault's ``NetworkChaos`` lives ``duration + margin`` seconds: the window,
  plus slack for the engine's tick alignment and the revert; never unbounded.
- Effects and reverts are observed (``effects``): the killed UIDs gone, the NetworkChaos
  there (and injected where Chaos Mesh reports it); after a revert the workloads' ready
  count back, the NetworkChaos gone.
- Leftover gameday ``NetworkChaos`` objects are refused (they would falsify the steady
  state) unless the command line asks to sweep them; a sweep is logged and kept in
  ``swept`` for the CLI to print.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from gameday_k8s import chaosmesh
from gameday_k8s import client as kclient
from gameday_k8s import workloads as wl
from runner import errors, ports
from runner.adapters.k8s import cluster as cluster_module
from runner.adapters.k8s import effects, safety, selection
from runner.model import experiment as model

log = logging.getLogger("gameday.k8s")

MARGIN_MIN = 30.0  # seconds a NetworkChaos outlives the fault window, at least
MARGIN_FRACTION = 0.1  # ... or this fraction of the window, whichever is larger
RECOVERY_WAIT = 120.0  # how long a pod-kill revert waits for ready pods by default
ACTIONS = "gameday_k8s.actions"


def latency_lifetime(window: float) -> float:
    """Seconds a latency fault's ``NetworkChaos`` exists if nobody deletes it."""
    return window + max(MARGIN_MIN, MARGIN_FRACTION * window)


def _activity(name: str, func: str, arguments: dict[str, object]) -> dict[str, object]:
    return {"type": "action", "name": name,
            "provider": {"type": "python", "module": ACTIONS, "func": func,
                         "arguments": arguments}}


@dataclasses.dataclass(frozen=True)
class _Draft:
    problems: tuple[str, ...]
    faults: tuple[ports.PlannedFault, ...]


class KubernetesPlatform:
    """The Kubernetes side of one run; one API client, built on first use."""

    name = "kubernetes"

    def __init__(
        self, experiment: model.Experiment, *, kubeconfig: str | None = None,
        context: str | None = None, allow_production: bool = False,
        sweep_leftovers: bool = False,
    ) -> None:
        self._experiment = experiment
        self._kubeconfig = kubeconfig
        self._context = context or experiment.target.context
        self._allow_production = allow_production
        self._sweep = sweep_leftovers
        self._cluster: cluster_module.Cluster | None = None
        self.swept: list[str] = []
        self.effects = effects.Effects(self.cluster)

    # -- connection ----------------------------------------------------------------------
    def cluster(self) -> cluster_module.Cluster:
        if self._cluster is None:
            try:
                info = kclient.resolve(self._kubeconfig, self._context)
            except kclient.ClientError as exc:
                raise errors.PlatformError(f"Kubernetes: {exc}") from exc
            self._cluster = cluster_module.Cluster(info)
        return self._cluster

    # -- Platform ------------------------------------------------------------------------
    def preflight(self, experiment: model.Experiment) -> list[str]:
        problems: list[str] = []
        if experiment.target.platform != "kubernetes":
            problems.append(f"target.platform is {experiment.target.platform!r}, not "
                            "'kubernetes'.")
        problems += safety.scope_problems(experiment)
        try:
            cluster = self.cluster()
            cluster.version()
        except errors.PlatformError as exc:
            return [*problems, exc.message]
        try:
            problems += self._cluster_problems(experiment, cluster)
        except errors.PlatformError as exc:
            problems.append(exc.message)
        return problems

    def _cluster_problems(
        self, experiment: model.Experiment, cluster: cluster_module.Cluster
    ) -> list[str]:
        problems: list[str] = []
        namespaces = sorted({s.namespace for s, _f in safety.scopes(experiment) if s.namespace})
        info = cluster.info
        hints = safety.production_hints(
            info.context, info.cluster, info.server,
            {ns: cluster.namespace_labels(ns) for ns in namespaces},
        )
        problems += safety.production_problems(
            hints, experiment.blast_radius.allow_production, self._allow_production)
        denied = [p for p in safety.required_permissions(experiment) if not cluster.allowed(p)]
        problems += [f"Missing Kubernetes permission on {cluster.where}: {p} (a "
                     "SelfSubjectAccessReview said no); grant it in the Role of the "
                     "identity running gameday." for p in denied]
        latency = any(isinstance(f, model.LatencyFault) for f in experiment.faults)
        crd = cluster.has_network_chaos()
        if latency and not crd:
            problems.append(
                f"Chaos Mesh's NetworkChaos resource ({chaosmesh.PLURAL}.{chaosmesh.GROUP}/"
                f"{chaosmesh.VERSION}) is not served by {cluster.where}, so latency cannot "
                f"be injected. {chaosmesh.INSTALL_HINT}")
        if crd:
            problems += self._leftovers(experiment, cluster, namespaces)
        if any(p.verb in ("list", "get") for p in denied):
            return problems  # selecting pods would only repeat the permission problem
        return problems + list(self._draft(experiment, "preflight", 0).problems)

    def _leftovers(self, experiment: model.Experiment, cluster: cluster_module.Cluster,
                   namespaces: list[str]) -> list[str]:
        problems: list[str] = []
        for ns in sorted(set(namespaces) | set(experiment.blast_radius.namespaces)):
            perm = safety.Permission("list", chaosmesh.GROUP, chaosmesh.PLURAL, ns)
            if not cluster.allowed(perm):
                continue
            for item in cluster.leftovers(ns):
                what = f"NetworkChaos {ns}/{item['name']} of run {item['run_id']}"
                if self._sweep:
                    cluster.delete_network_chaos(ns, item["name"])
                    self.swept.append(what)
                    log.warning("swept leftover %s", what)
                else:
                    problems.append(
                        f"Leftover {what} is still in the cluster; it would falsify the "
                        "steady state. Revert that run (`gameday revert JOURNAL`), delete it, "
                        "or run again with --sweep-leftovers.")
        return problems

    def plan(
        self, experiment: model.Experiment, run_id: str, seed: int
    ) -> list[ports.PlannedFault]:
        draft = self._draft(experiment, run_id, seed)
        if draft.problems:
            raise errors.PreflightRefused(
                "Kubernetes refused the plan: " + " ".join(draft.problems))
        return list(draft.faults)

    def ready_replicas(self, probe: model.ReadyReplicasProbe) -> float | None:
        namespace = probe.namespace or self._experiment.target.namespace
        if not namespace:
            return None
        try:
            body = self.cluster().workload(namespace, probe.kind, probe.workload)
        except errors.PlatformError as exc:
            log.warning("ready replicas of %s unreadable, counted as no data: %s",
                        probe.workload, exc.message)
            return None
        ready, _desired = wl.replicas(body)
        return float(ready)

    def lock_keys(self, planned: Sequence[ports.PlannedFault]) -> list[str]:
        """``k8s:<server>/ns/<ns>/pod/<name>`` per pod touched; ``.../*`` otherwise."""
        info = self.cluster().info
        server = info.server or info.context or "in-cluster"
        keys: set[str] = set()
        for fault in planned:
            args = fault.action.get("provider", {}).get("arguments", {})
            ns = args.get("ns") or self._experiment.target.namespace or "default"
            base = f"k8s:{server}/ns/{ns}"
            if fault.kind in ("pod-kill", "latency") and fault.targets:
                keys.update(f"{base}/pod/{t}" for t in fault.targets)
            else:
                keys.add(f"{base}/*")
        return sorted(keys)

    def check_effect(self, fault: ports.PlannedFault, result: Any) -> ports.EffectCheck:
        """Pod kill: the named UIDs are gone; latency: the NetworkChaos exists (injected)."""
        return self.effects.check(fault, result)

    def verify_revert(self, fault: ports.PlannedFault, within: float) -> ports.RevertCheck:
        """Pod kill: the workloads' ready count is back; latency: the NetworkChaos is gone."""
        return self.effects.verify(fault, within)

    # -- drafting --------------------------------------------------------------------------
    def _draft(self, experiment: model.Experiment, run_id: str, seed: int) -> _Draft:
        cluster = self.cluster()
        problems: list[str] = []
        planned: list[ports.PlannedFault] = []
        cache: dict[tuple[str, str, bool], selection.Selection] = {}
        hit: set[tuple[str, str]] = set()
        matched: set[tuple[str, str]] = set()
        scopes = {s.index: s for s, _f in safety.scopes(experiment)}
        for index, fault in enumerate(experiment.faults):
            if isinstance(fault, model.ActionFault):
                planned.append(ports.PlannedFault(
                    index, fault.name, "action", (), fault.action, fault.revert,
                    description="a Chaos Toolkit action (outside gameday's blast radius checks)"))
                continue
            scope = scopes[index]
            if not scope.namespace or not scope.selector:
                continue  # reported by scope_problems
            # a pod kill needs the owners (Deployments): a latency fault's selection lacks them
            key = (scope.namespace, scope.selector, isinstance(fault, model.PodKillFault))
            if key not in cache:
                cache[key] = selection.select(
                    scope.namespace, scope.selector,
                    cluster.pods(scope.namespace, scope.selector),
                    cluster.deployment_names(scope.namespace)
                    if isinstance(fault, model.PodKillFault) else (),
                )
            chosen = cache[key]
            if not chosen.matched:
                problems.append(
                    f"{scope.label}: the selector {scope.selector!r} matches no pod in "
                    f"namespace {scope.namespace!r}; check the selector and the namespace.")
                continue
            matched |= {(scope.namespace, p.name) for p in chosen.matched}
            if isinstance(fault, model.PodKillFault):
                result = self._pod_kill(experiment, scope, fault, chosen, seed)
            else:
                result = self._latency(experiment, scope, fault, chosen, run_id)
            if isinstance(result, list):
                problems += result
                continue
            problems += safety.blast_radius_problems(
                scope.label, len(result.targets), len(chosen.matched), experiment.blast_radius)
            hit |= {(scope.namespace, name) for name in result.targets}
            planned.append(result)
        if not problems and len(planned) > 1:
            problems += safety.blast_radius_problems(
                "All faults together", len(hit), len(matched), experiment.blast_radius)
        return _Draft(tuple(problems), tuple(planned))

    def _pod_kill(
        self, experiment: model.Experiment, scope: safety.FaultScope,
        fault: model.PodKillFault, chosen: selection.Selection, seed: int,
    ) -> ports.PlannedFault | list[str]:
        assert scope.namespace is not None
        count = selection.kill_count(fault, len(chosen.matched))
        if (why := selection.shortage(scope.label, chosen, count)) is not None:
            return [why]
        victims = selection.choose(chosen, count, fault.seed if fault.seed is not None
                                   else seed, scope.index)
        targets: list[dict[str, object]] = []
        for kind, name in sorted({p.owner for p in victims if p.owner is not None}):
            body = self.cluster().workload(scope.namespace, kind, name)
            ready, desired = wl.replicas(body)
            targets.append({"kind": kind, "name": name, "namespace": scope.namespace,
                            "ready": min(ready, desired)})
        info = self.cluster().info
        where = {"kubeconfig": info.kubeconfig, "context": info.context}
        names = [p.name for p in victims]
        grace = None if fault.grace_period is None else round(fault.grace_period)
        action = _activity(
            f"{fault.name}: delete {len(names)} pod(s) in {scope.namespace}", "delete_pods",
            {"names": names, "uids": [p.uid for p in victims], "ns": scope.namespace,
             "grace_period": grace, **where})
        revert = _activity(
            f"{fault.name}: wait for the ready pods to come back", "wait_for_workloads",
            {"workloads": targets, "killed_uids": [p.uid for p in victims],
             "timeout": experiment.recovery.within or RECOVERY_WAIT, "interval": 2.0, **where})
        owners = ", ".join(f"{t['kind']} {t['name']}" for t in targets)
        return ports.PlannedFault(
            scope.index, fault.name, "pod-kill", tuple(names), action, revert,
            description=(f"kill {len(names)} of {len(chosen.matched)} pods matching "
                         f"{chosen.selector!r} in {scope.namespace} ({owners})"),
            population=len(chosen.matched))

    def _latency(
        self, experiment: model.Experiment, scope: safety.FaultScope,
        fault: model.LatencyFault, chosen: selection.Selection, run_id: str,
    ) -> ports.PlannedFault | list[str]:
        assert scope.namespace is not None
        running = chosen.running
        if not running:
            return [f"{scope.label}: none of the {len(chosen.matched)} pods matching "
                    f"{chosen.selector!r} in {scope.namespace!r} is running."]
        info = self.cluster().info
        where = {"kubeconfig": info.kubeconfig, "context": info.context}
        name = chaosmesh.object_name(run_id, scope.index, fault.name)
        lifetime = latency_lifetime(experiment.duration)
        action = _activity(
            f"{fault.name}: NetworkChaos {scope.namespace}/{name}", "add_latency",
            {"name": name, "ns": scope.namespace, "selector": chosen.selector,
             "delay": fault.delay, "duration": lifetime, "run_id": run_id,
             "jitter": fault.jitter, "correlation": fault.correlation,
             "direction": fault.direction, "mode": "all", "fault": fault.name, **where})
        revert = _activity(f"{fault.name}: delete NetworkChaos {scope.namespace}/{name}",
                           "remove_latency", {"name": name, "ns": scope.namespace, **where})
        return ports.PlannedFault(
            scope.index, fault.name, "latency", tuple(p.name for p in running), action, revert,
            description=(f"delay traffic {fault.direction} {len(running)} pods matching "
                         f"{chosen.selector!r} in {scope.namespace} by {fault.delay * 1000:g} ms "
                         f"(Chaos Mesh NetworkChaos {name}, expires {lifetime:g} s after "
                         "creation)"),
            population=len(chosen.matched))


def build_platform(
    experiment: model.Experiment, *, kubeconfig: str | None = None,
    context: str | None = None, allow_production: bool = False,
    sweep_leftovers: bool = False,
) -> KubernetesPlatform:
    """The platform for one run; nothing is contacted until ``preflight``."""
    return KubernetesPlatform(
        experiment, kubeconfig=kubeconfig, context=context,
        allow_production=allow_production, sweep_leftovers=sweep_leftovers)
