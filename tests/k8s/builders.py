"""Experiments built directly as model values, so a test can hand preflight what the
loader would already have refused (a namespace outside the allow-list, a count above
``max_pods``) and prove the platform refuses it too."""

from __future__ import annotations

import dataclasses
from typing import Any

from runner.model import experiment as model

NAMESPACE = "shop"


def experiment(
    *faults: model.Fault,
    namespaces: tuple[str, ...] = (NAMESPACE,),
    max_pods: int | None = None,
    max_fraction: float | None = None,
    allow_production: bool = False,
    probes: tuple[model.Probe, ...] = (),
    duration: float = 60.0,
    recovery: float | None = 10.0,
    context: str | None = None,
    **target: Any,
) -> model.Experiment:
    stat = model.RatioProbe(name="errors", errors='e_total{code="500"}', total="e_total",
                            max=0.01)
    return model.Experiment(
        title="test",
        target=model.Target(platform="kubernetes", namespace=target.get("namespace", NAMESPACE),
                            selector=target.get("selector", "app=checkout"), context=context),
        prometheus=model.PrometheusConfig(url="http://127.0.0.1:9", tick=1.0),
        steady_state=model.SteadyState(probes=(stat, *probes)),
        faults=faults or (kill(),),
        duration=duration,
        blast_radius=model.BlastRadius(max_pods=max_pods, max_fraction=max_fraction,
                                       namespaces=namespaces,
                                       allow_production=allow_production),
        recovery=model.Recovery(within=recovery),
    )


def kill(**changes: Any) -> model.PodKillFault:
    base = model.PodKillFault(selector="app=checkout", count=1, namespace=NAMESPACE)
    return dataclasses.replace(base, **changes)


def latency(**changes: Any) -> model.LatencyFault:
    base = model.LatencyFault(selector="app=checkout", delay=0.2, jitter=0.02,
                              correlation=25.0, namespace=NAMESPACE)
    return dataclasses.replace(base, **changes)
