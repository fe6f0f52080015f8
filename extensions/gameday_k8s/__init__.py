"""gameday_k8s: the Chaos Toolkit extension behind gameday's Kubernetes faults.

- ``actions.delete_pods`` kills exactly the pods chosen (and journaled) at plan time;
- ``actions.wait_for_workloads`` is the "revert" of a pod kill: it waits, bounded,
  until the owning Deployments/StatefulSets have their ready pods back;
- ``actions.add_latency`` / ``remove_latency`` create and delete a Chaos Mesh
  ``NetworkChaos`` that always carries ``spec.duration`` and the run id;
- ``probes.ready_replicas`` / ``leftover_network_chaos`` read state.

Every activity takes JSON-able arguments only and names its cluster with
``kubeconfig``/``context``, so it runs the same from gameday, from a journal after a
crash (``gameday revert``) or from a plain ``chaos run``. Importing this package does
not import the kubernetes client; the activities do, when they run.
"""



from __future__ import annotations

__version__ = "0.1.0"


def discover(discover_system: bool = True) -> dict[str, object]:
    """Chaos Toolkit discovery (``chaos discover gameday-runner``)."""
    from chaoslib.discovery.discover import (
        discover_actions,
        discover_probes,
        initialize_discovery_result,
    )

    discovery: dict[str, object] = initialize_discovery_result(
        "gameday_k8s", __version__, "kubernetes"
    )
    activities = discovery["activities"]
    assert isinstance(activities, list)
    activities.extend(discover_actions("gameday_k8s.actions"))
    activities.extend(discover_probes("gameday_k8s.probes"))
    return discovery
