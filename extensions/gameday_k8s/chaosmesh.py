"""Chaos Mesh ``NetworkChaos`` objects for latency faults: names, labels and the body.

Decisions:
- We build the object ourselves instead of using chaosk8s's chaosmesh helpers, which
  write ``metadata.ns`` (ignored by the API server) instead of ``metadata.namespace``
  and set no ``spec.duration``.
- ``spec.duration`` is always set: Chaos Mesh removes the delay by itself when it ends,
  so a runner killed with SIGKILL cannot leave latency behind for longer than that.
- Every object carries the label ``gameday.io/run-id`` (sanitised to a label value) and
  the exact run id as an annotation, so leftovers of any earlier run can be found with
  one label-selector list and attributed to their journal.
Pure module: builds plain dicts, imports no client.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any, Literal, TypedDict

GROUP = "chaos-mesh.org"
VERSION = "v1alpha1"
PLURAL = "networkchaos"
KIND = "NetworkChaos"
RUN_ID_LABEL = "gameday.io/run-id"
FAULT_LABEL = "gameday.io/fault"
MANAGED_BY = {"app.kubernetes.io/managed-by": "gameday"}
INSTALL_HINT = (
    "Install Chaos Mesh (https://chaos-mesh.org/docs/production-installation-using-helm/: "
    "`helm repo add chaos-mesh https://charts.chaos-mesh.org && helm install chaos-mesh "
    "chaos-mesh/chaos-mesh -n chaos-mesh --create-namespace`), or remove the latency fault."
)

Direction = Literal["to", "from", "both"]
Mode = Literal["all", "one", "fixed", "fixed-percent", "random-max-percent"]


class DelaySpec(TypedDict):
    latency: str
    jitter: str
    correlation: str


class NetworkChaosMeta(TypedDict, total=False):
    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]


class NetworkChaosBody(TypedDict):
    """The wire form we send (Chaos Mesh adds ``status``)."""

    apiVersion: str
    kind: str
    metadata: NetworkChaosMeta
    spec: dict[str, Any]


def go_duration(seconds: float) -> str:
    """Seconds as a Go duration string Chaos Mesh accepts (``"200ms"``, ``"330s"``)."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"a duration must be finite and >= 0, not {seconds}")
    millis = seconds * 1000.0
    if millis == int(millis) and millis % 1000 == 0:
        return f"{int(millis // 1000)}s"
    if millis == int(millis):
        return f"{int(millis)}ms"
    return f"{round(seconds * 1_000_000)}us"


def label_value(text: str) -> str:
    """A valid label value (<= 63 chars, alphanumeric ends) derived from ``text``."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-_.")
    if len(cleaned) > 63:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        cleaned = cleaned[:54].rstrip("-_.") + "-" + digest
    return cleaned or "none"


def object_name(run_id: str, index: int, fault_name: str) -> str:
    """A DNS-1123 name unique per run and fault: ``gameday-<run>-<index>-<fault>``."""
    raw = f"gameday-{run_id}-{index}-{fault_name}".lower()
    cleaned = re.sub(r"[^a-z0-9-]+", "-", raw).strip("-")
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    if len(cleaned) > 63:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
        cleaned = cleaned[:54].rstrip("-") + "-" + digest
    return cleaned


def network_delay(
    *,
    name: str,
    namespace: str,
    run_id: str,
    labels: dict[str, str],
    expressions: list[dict[str, Any]] | None,
    delay: float,
    jitter: float,
    correlation: float,
    direction: Direction,
    duration: float,
    mode: Mode = "all",
    value: str | None = None,
    fault: str = "latency",
) -> NetworkChaosBody:
    """The ``NetworkChaos`` that delays traffic of the selected pods for ``duration`` s."""
    if not labels and not expressions:
        raise ValueError("a NetworkChaos needs a label selector; refusing to select every pod")
    if mode in ("fixed", "fixed-percent", "random-max-percent") and value is None:
        raise ValueError(f"mode {mode!r} needs a value")
    selector: dict[str, Any] = {"namespaces": [namespace]}
    if labels:
        selector["labelSelectors"] = dict(labels)
    if expressions:
        selector["expressionSelectors"] = list(expressions)
    spec: dict[str, Any] = {
        "action": "delay",
        "mode": mode,
        "selector": selector,
        "delay": DelaySpec(
            latency=go_duration(delay),
            jitter=go_duration(jitter),
            correlation=f"{correlation:g}",
        ),
        "direction": direction,
        "duration": go_duration(math.ceil(duration)),
    }
    if value is not None:
        spec["value"] = value
    return NetworkChaosBody(
        apiVersion=f"{GROUP}/{VERSION}",
        kind=KIND,
        metadata=NetworkChaosMeta(
            name=name,
            namespace=namespace,
            labels={RUN_ID_LABEL: label_value(run_id), FAULT_LABEL: label_value(fault),
                    **MANAGED_BY},
            annotations={RUN_ID_LABEL: run_id},
        ),
        spec=spec,
    )
