"""The rules that keep a Kubernetes experiment inside its blast radius (pure).

Each function returns problem sentences (empty when fine), never raises, and names
the experiment field a user must change. Decisions:
- No allow-list means no namespace is allowed: ``blast_radius.namespaces`` must name
  every namespace a fault touches. An experiment that forgot it is refused, not run.
- Production is recognised by names (kube context, kubeconfig cluster, API server host)
  containing ``prod``/``prd``/``production``, and by namespace labels such as
  ``environment=production``. Substring matching over-refuses on purpose: a false
  alarm costs two flags, a miss costs an outage. Running there needs BOTH the
  experiment's ``blast_radius.allow_production`` and the command line's flag.
- The permissions to check are derived from the faults and probes, and the in-cluster
  Role (``gameday k8s manifests``) is generated from the very same list.
"""



from __future__ import annotations

import dataclasses
import re
import urllib.parse
from collections.abc import Mapping

from runner.model import experiment as model

PRODUCTION = re.compile(r"production|prod|prd", re.IGNORECASE)
ENV_LABEL_KEYS = ("environment", "env", "stage", "tier", "gameday.io/environment")


@dataclasses.dataclass(frozen=True)
class Permission:
    """One RBAC verb on one resource in one namespace."""

    verb: str
    group: str
    resource: str
    namespace: str

    def __str__(self) -> str:
        qualified = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{self.verb} {qualified} in namespace {self.namespace}"


@dataclasses.dataclass(frozen=True)
class FaultScope:
    """Where one pod-kill or latency fault acts (resolved against the target)."""

    index: int
    label: str  # "faults[0] (pod-kill)"
    namespace: str | None
    selector: str | None


def scopes(experiment: model.Experiment) -> list[tuple[FaultScope, model.Fault]]:
    """The namespace and selector of every pod-kill and latency fault."""
    out: list[tuple[FaultScope, model.Fault]] = []
    for index, fault in enumerate(experiment.faults):
        if isinstance(fault, model.PodKillFault | model.LatencyFault):
            kind = "pod-kill" if isinstance(fault, model.PodKillFault) else "latency"
            namespace = fault.namespace or experiment.target.namespace
            selector = fault.selector or experiment.target.selector
            out.append((FaultScope(index, f"fault #{index} ({kind})", namespace, selector),
                        fault))
    return out


def scope_problems(experiment: model.Experiment) -> list[str]:
    """Selector and namespace rules that need no cluster."""
    from gameday_k8s import selectors

    problems: list[str] = []
    allowed = set(experiment.blast_radius.namespaces)
    for scope, _fault in scopes(experiment):
        if not scope.selector or not scope.selector.strip():
            problems.append(
                f"{scope.label} has no label selector: set its `selector` or "
                "`target.selector`; gameday never targets every pod of a namespace."
            )
        else:
            try:
                if selectors.parse(scope.selector).is_empty:
                    problems.append(f"{scope.label}: the label selector is empty.")
            except selectors.SelectorError as exc:
                problems.append(f"{scope.label}: invalid label selector: {exc}.")
        if not scope.namespace:
            problems.append(
                f"{scope.label} has no namespace: set its `namespace` or `target.namespace`."
            )
        elif not allowed:
            problems.append(
                f"{scope.label} acts in namespace {scope.namespace!r} but "
                "`blast_radius.namespaces` is empty; list every namespace the experiment "
                "may touch."
            )
        elif scope.namespace not in allowed:
            problems.append(
                f"{scope.label} acts in namespace {scope.namespace!r}, which is outside "
                f"`blast_radius.namespaces` ({', '.join(sorted(allowed))})."
            )
    return problems


def production_hints(
    context: str | None, cluster: str | None, server: str,
    namespace_labels: Mapping[str, Mapping[str, str]],
) -> list[str]:
    """Why the target looks like production (empty when it does not)."""
    hints: list[str] = []
    for what, name in (("kube context", context), ("cluster", cluster)):
        if name and (match := PRODUCTION.search(name)):
            hints.append(f"the {what} {name!r} contains {match.group(0)!r}")
    host = urllib.parse.urlsplit(server).hostname or ""
    if host and (match := PRODUCTION.search(host)):
        hints.append(f"the API server host {host!r} contains {match.group(0)!r}")
    for namespace, labels in sorted(namespace_labels.items()):
        for key in ENV_LABEL_KEYS:
            value = labels.get(key, "")
            if value and PRODUCTION.search(value):
                hints.append(f"namespace {namespace!r} is labelled {key}={value}")
    return hints


def production_problems(
    hints: list[str], experiment_allows: bool, command_line_allows: bool
) -> list[str]:
    if not hints or (experiment_allows and command_line_allows):
        return []
    missing = [
        text for ok, text in (
            (experiment_allows, "the experiment sets `blast_radius.allow_production: true`"),
            (command_line_allows, "the command line passes --allow-production"),
        ) if not ok
    ]
    return [
        "The target looks like production (" + "; ".join(hints) + "). gameday runs there "
        "only when both the experiment and the command line allow it; missing: "
        + " and ".join(missing) + "."
    ]


def blast_radius_problems(
    label: str, hit: int, matched: int, radius: model.BlastRadius
) -> list[str]:
    """``hit`` pods of the ``matched`` ones against ``max_pods``/``max_fraction``."""
    problems: list[str] = []
    if radius.max_pods is not None and hit > radius.max_pods:
        problems.append(
            f"{label} would hit {hit} pod{'s' if hit != 1 else ''}, more than "
            f"`blast_radius.max_pods` ({radius.max_pods})."
        )
    if radius.max_fraction is not None and matched and hit / matched > radius.max_fraction:
        problems.append(
            f"{label} would hit {hit} of {matched} matching pods ({hit / matched:.0%}), more "
            f"than `blast_radius.max_fraction` ({radius.max_fraction:.0%})."
        )
    return problems


def required_permissions(experiment: model.Experiment) -> list[Permission]:
    """Every RBAC permission the run needs, in a stable order, without duplicates."""
    wanted: list[Permission] = []

    def need(verb: str, group: str, resource: str, namespace: str | None) -> None:
        if namespace:
            perm = Permission(verb, group, resource, namespace)
            if perm not in wanted:
                wanted.append(perm)

    for scope, fault in scopes(experiment):
        need("get", "", "pods", scope.namespace)
        need("list", "", "pods", scope.namespace)
        if isinstance(fault, model.PodKillFault):
            need("delete", "", "pods", scope.namespace)
            need("list", "apps", "deployments", scope.namespace)
            need("get", "apps", "deployments", scope.namespace)
        else:
            for verb in ("create", "delete", "get", "list"):
                need(verb, "chaos-mesh.org", "networkchaos", scope.namespace)
    for probe in experiment.steady_state.probes:
        if isinstance(probe, model.ReadyReplicasProbe):
            resource = "deployments" if probe.kind == "Deployment" else "statefulsets"
            need("get", "apps", resource, probe.namespace or experiment.target.namespace)
    # the lock and run Leases (runner/adapters/k8s/lease.py), and the kept journal
    for ns in dict.fromkeys([experiment.target.namespace,
                             *(s.namespace for s, _f in scopes(experiment))]):
        for verb in ("get", "list", "create", "patch", "delete"):
            need(verb, "coordination.k8s.io", "leases", ns)
    for verb in ("create", "patch"):
        need(verb, "", "configmaps", experiment.target.namespace)
    # the gameday-stop kill switch (runner/adapters/stop_k8s.py), read at every checkpoint
    for ns in dict.fromkeys([experiment.target.namespace, *experiment.blast_radius.namespaces]):
        need("get", "", "configmaps", ns)
    return wanted
