"""A Kubernetes "runner" in miniature for the guard tests: the real platform plans, the
real lease claims and mirrors, the real activities act; then it "dies" (stops renewing).

Only the engine's loop is left out (it needs a Prometheus); what the guard sees is what
a real run leaves: a run Lease with the pending reverts, lock Leases on the pods, live
faults in the cluster.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from runner import ports
from runner.adapters import chaos
from runner.adapters.k8s import lease as k8s_lease
from runner.adapters.k8s import platform as k8s_platform
from runner.engine import inject
from runner.journal import events, writer
from runner.model import experiment as model
from tests.k8s import builders

SCALE = "chaosk8s.deployment.actions"


def scale_fault(replicas: int = 1, back_to: int = 3) -> model.ActionFault:
    def scale(n: int) -> dict[str, Any]:
        return {"type": "action", "name": f"scale checkout to {n}",
                "provider": {"type": "python", "module": SCALE, "func": "scale_deployment",
                             "arguments": {"name": "checkout", "replicas": n, "ns": "shop"}}}
    return model.ActionFault(action=scale(replicas), revert=scale(back_to), name="scale")


@dataclasses.dataclass
class MiniRun:
    """Claim, journal the intents (mirrored into the Lease), act; ``die`` = stop renewing."""

    kubeconfig: str
    journal_dir: Path
    run_id: str
    faults: tuple[model.Fault, ...]
    lease_seconds: float = 1.0
    namespace: str = builders.NAMESPACE
    selector: str = "app=checkout"
    context: str | None = None

    def __post_init__(self) -> None:
        self.exp = builders.experiment(*self.faults, max_pods=3, namespaces=(self.namespace,),
                                       namespace=self.namespace, selector=self.selector,
                                       context=self.context)
        self.platform = k8s_platform.build_platform(self.exp, kubeconfig=self.kubeconfig)
        self.lease = k8s_lease.build(self.exp, kubeconfig=self.kubeconfig,
                                     context=self.context, lease_seconds=self.lease_seconds)
        self.lease._keepalive = False  # a dead runner's thread dies with it
        self.path = self.journal_dir / self.run_id / "journal.jsonl"
        self.planned: list[ports.PlannedFault] = []

    def claim(self) -> None:
        self.planned = self.platform.plan(self.exp, self.run_id, seed=1)
        self.lease.acquire(self.run_id, self.platform.lock_keys(self.planned), str(self.path))

    def inject(self) -> None:
        activities = chaos.ChaosToolkitActivities()
        with writer.JournalWriter(self.path, now=time.time,
                                  listeners=[self.lease.observe]) as jw:
            jw.append(events.RUN_STARTED, run_id=self.run_id, title="mini",
                      experiment={}, platform="kubernetes")
            for fault in self.planned:
                jw.append(events.FAULT_INTENT, **inject.planned_dict(fault))
                activities.run(fault.action)
                jw.append(events.FAULT_RESULT, fault=fault.index, name=fault.name, ok=True)
                self.lease.renew("inject", None)
