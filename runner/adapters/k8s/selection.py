"""Choosing victims: which pods match, which may be killed, and the seeded draw (pure).

Decisions:
- Only pods that are Running, Ready and not terminating are eligible, and only those
  a Deployment or StatefulSet will recreate: killing a bare pod cannot be undone, so
  gameday never picks one (it says so when that leaves too few candidates).
- The choice is a seeded draw over the eligible names sorted alphabetically, so the
  same seed and the same cluster state choose the same pods, whatever order the API
  server listed them in. The draw is made at plan time; the names (and UIDs) are
  journaled before anything is deleted.
- ``fraction`` is taken of all pods matching the selector (the workload's size), rounded
  down but at least one: a fraction never rounds a blast radius up.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable

from gameday_k8s import selectors
from gameday_k8s import workloads as wl
from runner.model import experiment as model


@dataclasses.dataclass(frozen=True)
class PodRef:
    """A pod as the plan needs it."""

    name: str
    uid: str
    running: bool
    ready: bool
    owner: tuple[wl.WorkloadKind, str] | None


@dataclasses.dataclass(frozen=True)
class Selection:
    """The pods a selector matched in one namespace (re-checked client-side)."""

    namespace: str
    selector: str
    matched: tuple[PodRef, ...]

    @property
    def eligible(self) -> tuple[PodRef, ...]:
        return tuple(p for p in self.matched if p.ready and p.owner is not None)

    @property
    def running(self) -> tuple[PodRef, ...]:
        return tuple(p for p in self.matched if p.running)


def select(
    namespace: str, selector: str, pods: Iterable[wl.Pod], deployments: Iterable[str]
) -> Selection:
    """Keep the pods whose labels really match; resolve each one's owning workload.

    ``deployments`` are the Deployment names that exist in the namespace: a pod whose
    ReplicaSet does not belong to one of them counts as unowned.
    """
    parsed = selectors.parse(selector)
    known = set(deployments)
    refs: list[PodRef] = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        if not parsed.matches(meta.get("labels")):
            continue
        owner = wl.owning_workload(pod)
        if owner is not None and owner[0] == "Deployment" and owner[1] not in known:
            owner = None
        refs.append(PodRef(
            name=str(meta.get("name", "")),
            uid=str(meta.get("uid", "")),
            running=(pod.get("status") or {}).get("phase") == "Running",
            ready=wl.is_ready(pod),
            owner=owner,
        ))
    refs.sort(key=lambda p: p.name)
    return Selection(namespace, str(parsed), tuple(refs))


def kill_count(fault: model.PodKillFault, matched: int) -> int:
    """How many pods the fault kills out of ``matched`` (count, fraction, or one)."""
    if fault.count is not None:
        return fault.count
    if fault.fraction is not None:
        return max(1, math.floor(fault.fraction * matched + 1e-9))
    return 1


def shortage(label: str, selection: Selection, wanted: int) -> str | None:
    """Why fewer than ``wanted`` pods can be killed, or None when there are enough."""
    eligible = len(selection.eligible)
    if eligible >= wanted:
        return None
    matched = len(selection.matched)
    not_ready = sum(1 for p in selection.matched if not p.ready)
    unowned = sum(1 for p in selection.matched if p.ready and p.owner is None)
    reasons = []
    if not_ready:
        reasons.append(f"{not_ready} not Running+Ready")
    if unowned:
        reasons.append(f"{unowned} not owned by a Deployment or StatefulSet (gameday never "
                       "kills pods nothing recreates)")
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return (
        f"{label} wants to kill {wanted} pod{'s' if wanted != 1 else ''} but only {eligible} "
        f"of the {matched} pods matching {selection.selector!r} in namespace "
        f"{selection.namespace!r} may be killed{why}."
    )


def choose(selection: Selection, count: int, seed: int, index: int) -> tuple[PodRef, ...]:
    """A seeded draw of ``count`` eligible pods, returned sorted by name."""
    pool = list(selection.eligible)  # already sorted by name
    rng = random.Random(f"gameday:{seed}:{index}")  # noqa: S311 - choice, not secrecy
    picked = rng.sample(pool, min(count, len(pool)))
    return tuple(sorted(picked, key=lambda p: p.name))
