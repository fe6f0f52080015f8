"""The ``faults`` section: pod-kill, latency and Chaos Toolkit actions, checked statically.

Each item is a one-key mapping naming its kind (``pod-kill: {...}``, ``latency: {...}``,
``action: {...}``) with optional siblings ``name`` and (for actions only) ``revert``.
Decisions:

* The target's ``selector`` and ``namespace`` are filled into each fault that does not
  give its own, so the engine never has to look them up; on Kubernetes both are then
  required. The experiment's ``seed`` is the default pod-kill seed.
* What the blast radius forbids and the file already shows is refused here, not at
  preflight: a count above ``max_pods``, a fraction above ``max_fraction``, a namespace
  outside ``namespaces``, a production-looking namespace without ``allow_production``.
* ``correlation`` is a percentage from 0 to 100 (``25`` or ``"25%"``), as Chaos Mesh and
  tc netem take it.
* Actions are checked by shape only (``activities.py``); nothing is imported or called.
* Fault names are unique: explicit duplicates are problems; default names (the kind, or
  the activity's name) get ``-2``, ``-3``... suffixes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from runner.model import activities, durations, fields, syntax
from runner.model import experiment as model
from runner.model import problems as probs
from runner.model.yamlsafe import Map, Node

KINDS = ("pod-kill", "latency", "action")
_SIBLINGS = ("name", "revert")
_POD_KILL = ("selector", "count", "fraction", "namespace", "grace_period", "seed")
_LATENCY = ("selector", "delay", "jitter", "correlation", "direction", "namespace")
_DIRECTIONS = ("to", "from", "both")


class Context:
    """What the faults inherit from, or are bounded by, the rest of the file."""

    def __init__(self, target: model.Target, blast: model.BlastRadius, seed: int | None):
        self.target = target
        self.blast = blast
        self.seed = seed


def faults(read: fields.Reader, node: Node, ctx: Context) -> tuple[model.Fault, ...]:
    items = read.sequence(node, "faults", what="faults")
    if items is None:
        return ()
    if not items:
        read.fail(node, "faults", "an experiment needs at least one fault", "missing")
    built: list[tuple[model.Fault, bool]] = []
    explicit: dict[str, str] = {}
    for index, item in enumerate(items):
        path = probs.index_path("faults", index)
        fault, given = _fault(read, item, path, ctx)
        if fault is None:
            continue
        if given and fault.name in explicit:
            read.fail(item, f"{path}.name", f"fault name {fault.name!r} is already used by "
                      f"{explicit[fault.name]}; give each fault its own name", "duplicate")
        if given:
            explicit.setdefault(fault.name, path)
        built.append((fault, given))
    return _unique_names(built, set(explicit))


def _unique_names(
    built: list[tuple[model.Fault, bool]], explicit: set[str]
) -> tuple[model.Fault, ...]:
    """Suffix default names that collide: pod-kill, pod-kill-2, pod-kill-3."""
    result: list[model.Fault] = []
    used: set[str] = set()
    for fault, given in built:
        name = fault.name
        number = 1
        while not given and (name in used or name in explicit):
            number += 1
            name = f"{fault.name}-{number}"
        used.add(name)
        result.append(fault if name == fault.name else dataclasses.replace(fault, name=name))
    return tuple(result)


def _fault(
    read: fields.Reader, node: Node, path: str, ctx: Context
) -> tuple[model.Fault | None, bool]:
    """The fault and whether its name was given explicitly."""
    if not isinstance(node, Map):
        read.fail(node, path, "expected a fault such as pod-kill: {...}, latency: {...} or "
                  f"action: {{...}}, found {fields.found(node)}", "type")
        return None, False
    kinds = [k for k in KINDS if k in node.entries]
    unknown = False
    for key, (line, _value) in node.entries.items():
        if key not in KINDS and key not in _SIBLINGS:
            unknown = True
            guess = probs.suggest(key, (*KINDS, *_SIBLINGS))
            hint = f" — did you mean {guess!r}?" if guess else \
                "; a fault is one of pod-kill, latency or action (with optional name, revert)"
            read.problems.add(probs.key_path(path, key), line,
                              f"unknown fault kind or key {key!r}{hint}", "unknown")
    if len(kinds) > 1:
        read.fail(node, path, f"a fault has exactly one kind, found {' and '.join(kinds)}; "
                  "list them as separate faults", "conflict")
    if not kinds:
        if not unknown:
            read.fail(node, path, "a fault needs one of pod-kill, latency or action", "missing")
        return None, False
    kind = kinds[0]
    name = None
    if "name" in node.entries:
        name = read.string(node.entries["name"][1], f"{path}.name", what="a fault name")
    if "revert" in node.entries and kind != "action":
        read.problems.add(f"{path}.revert", node.entries["revert"][0],
                          f"{kind} reverts itself; 'revert' is only for action faults",
                          "conflict")
    body = node.entries[kind][1]
    fault: model.Fault | None
    if kind == "pod-kill":
        fault = _pod_kill(read, body, f"{path}.pod-kill", ctx)
    elif kind == "latency":
        fault = _latency(read, body, f"{path}.latency", ctx)
    else:
        fault = _action(read, node, body, path)
    if fault is not None and name is not None:
        fault = dataclasses.replace(fault, name=name)
    return fault, name is not None


def _where(
    read: fields.Reader, values: Mapping[str, Node], node: Node, path: str, *, ctx: Context,
    kind: str,
) -> tuple[str | None, str | None]:
    """Selector and namespace, from the fault or else the target, checked for the platform."""
    selector = namespace = None
    if "selector" in values:
        selector = read.string(values["selector"], f"{path}.selector", what="a label selector")
        if selector is not None and (bad := syntax.label_selector(selector)) is not None:
            read.fail(values["selector"], f"{path}.selector", bad)
    if "namespace" in values:
        namespace = read.string(values["namespace"], f"{path}.namespace", what="a namespace")
        if namespace is not None and (bad := syntax.namespace(namespace)) is not None:
            read.fail(values["namespace"], f"{path}.namespace", bad)
    selector = selector if "selector" in values else ctx.target.selector
    namespace = namespace if "namespace" in values else ctx.target.namespace
    if ctx.target.platform == "kubernetes":
        if selector is None and "selector" not in values:
            read.fail(node, path, f"on kubernetes a {kind} fault needs a selector "
                      "(here or in target.selector), e.g. selector: app=checkout", "missing")
        if namespace is None and "namespace" not in values:
            read.fail(node, path, f"on kubernetes a {kind} fault needs a namespace "
                      "(here or in target.namespace)", "missing")
        if namespace is not None and "namespace" in values:
            check_namespace(read, values["namespace"], f"{path}.namespace", namespace, ctx)
    return selector, namespace


def check_namespace(
    read: fields.Reader, node: Node, at: str, namespace: str, ctx: Context
) -> None:
    """A namespace the experiment touches: inside the allow-list, production only if allowed."""
    allowed = ctx.blast.namespaces
    if allowed and namespace not in allowed:
        read.fail(node, at, f"namespace {namespace!r} is outside blast_radius.namespaces "
                  f"({', '.join(allowed)}); add it there or pick another", "conflict")
    if syntax.looks_like_production(namespace) and not ctx.blast.allow_production:
        read.fail(node, at, f"namespace {namespace!r} looks like production; set "
                  "blast_radius.allow_production: true if you really mean it", "conflict")


def _pod_kill(read: fields.Reader, node: Node, path: str, ctx: Context) -> model.Fault | None:
    values = read.mapping(node, path, allowed=_POD_KILL)
    if values is None:
        return None
    selector, namespace = _where(read, values, node, path, ctx=ctx, kind="pod-kill")
    count = fraction = None
    if "count" in values and "fraction" in values:
        read.fail(node, path, "give either count or fraction, not both", "conflict")
    if "count" in values:
        count = read.integer(values["count"], f"{path}.count", low=1)
        limit = ctx.blast.max_pods
        if count is not None and limit is not None and count > limit:
            read.fail(values["count"], f"{path}.count", f"count {count} exceeds "
                      f"blast_radius.max_pods ({limit})", "conflict")
    if "fraction" in values:
        fraction = read.parsed(values["fraction"], f"{path}.fraction", durations.parse_ratio,
                               low=0, high=1, open_low=True)
        cap = ctx.blast.max_fraction
        if fraction is not None and cap is not None and fraction > cap:
            read.fail(values["fraction"], f"{path}.fraction", f"fraction {fraction:g} exceeds "
                      f"blast_radius.max_fraction ({cap:g})", "conflict")
    if "count" not in values and "fraction" not in values:
        count = 1
    grace = seed = None
    if "grace_period" in values:
        grace = read.duration(values["grace_period"], f"{path}.grace_period", positive=False)
    if "seed" in values:
        seed = read.integer(values["seed"], f"{path}.seed")
    return model.PodKillFault(selector=selector, count=count, fraction=fraction,
                              namespace=namespace, grace_period=grace,
                              seed=ctx.seed if seed is None else seed)


def _latency(read: fields.Reader, node: Node, path: str, ctx: Context) -> model.Fault | None:
    values = read.mapping(node, path, allowed=_LATENCY, required=("delay",))
    if values is None:
        return None
    selector, namespace = _where(read, values, node, path, ctx=ctx, kind="latency")
    delay = jitter = correlation = None
    if "delay" in values:
        delay = read.duration(values["delay"], f"{path}.delay")
    if "jitter" in values:
        jitter = read.duration(values["jitter"], f"{path}.jitter", positive=False)
    if "correlation" in values:
        correlation = read.parsed(values["correlation"], f"{path}.correlation",
                                  durations.parse_percent)
    direction = "to"
    if "direction" in values:
        direction = read.choice(values["direction"], f"{path}.direction", _DIRECTIONS,
                                what="direction") or "to"
    if delay is None:
        return None
    return model.LatencyFault(
        selector=selector, delay=delay, jitter=jitter or 0.0,
        correlation=correlation or 0.0,
        direction="from" if direction == "from" else "both" if direction == "both" else "to",
        namespace=namespace,
    )


def _action(read: fields.Reader, item: Map, body: Node, path: str) -> model.Fault | None:
    action = activities.activity(read, body, f"{path}.action")
    revert: dict[str, Any] | None = None
    if "revert" in item.entries:
        revert = activities.activity(read, item.entries["revert"][1], f"{path}.revert")
    if action is None:
        return None
    return model.ActionFault(action=action, revert=revert, name=str(action["name"]))
