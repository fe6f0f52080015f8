"""Which pending reverts of a journal may run: only those that derive from its experiment.

A journal is a file; whoever can write it could append a ``fault-intent`` whose revert
runs ``/bin/sh`` and recompute a plain sha256 chain. So ``gameday revert`` never runs a
revert because the journal says so; it runs one because the *experiment document* the
run recorded at ``run-started`` says so. The rule, for each pending revert (an intent
with a revert and no successful revert result):

1. The document must be intact: ``run-started`` is the first event and the only one, it
   records ``experiment`` and ``document_sha256`` and the digest of ``experiment`` as
   written equals it. A mismatch means the document was edited: no revert derives from
   it, ``--force`` or not. A journal from before ``document_sha256`` existed is a
   problem ``--force`` may accept (the chain is then its only evidence).
2. Nothing in the revert may be ``<redacted>``: secrets never enter the journal, so such
   a revert cannot be run from it faithfully; a human runs it with the real values.
3. Then the revert qualifies in one of two ways:

   a. **Declared** — it is an activity the document declares as a revert: for a native
      experiment the ``revert`` of the ``action`` fault at the intent's index; for a
      Chaos Toolkit experiment (``method``) one of its ``rollbacks`` (a ``{"ref": ...}``
      resolved to the method's activity of that name). Compared as written, except the
      ``name`` (the loader may fill it in) and a missing ``type`` read as ``action``.
      Such a revert runs arbitrary code, and a forger who rewrites the document too (and
      recomputes a plain sha256 chain and the digest) would pass the checks above. So
      it runs only when something outside the journal vouches for the document: a
      keyed chain that verified, or the experiment file (``source``) whose sha256 still
      equals ``experiment_sha256`` and that declares the same revert at the same place.
      Otherwise it needs ``--force`` (``forceable``).
   b. **Planned by gameday** — a call into gameday's own extensions that is the
      revert of the document's fault at the intent's index: the platform's module
      (``gameday_local.actions`` for local, ``gameday_k8s.actions`` for kubernetes),
      the function for that fault's kind (pod-kill: ``restore_replicas`` /
      ``wait_for_workloads``; latency: ``remove_latency``), only that function's
      argument names, equal to the revert the ``plan`` event recorded for that index,
      and with arguments inside what the document allows: a local latency revert
      removes exactly this run's injection (``<run id>-<fault index>``, never "all");
      Kubernetes namespaces are the document's (target, blast radius, the fault's own);
      a NetworkChaos name starts with ``gameday-``; a wait is bounded (``timeout``).

Everything else (a process, an HTTP call, another module, an unknown argument) is
refused, even under ``--force``, and the refusal names the rule it failed. The chain and
the key are checked elsewhere (``integrity``); without a key this rule is defence in depth
(it bounds what an undetected forgery can run), with a key it is a second wall.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final

from runner.journal import chain, events, reader, recovery

MAX_WAIT_SECONDS: Final = 3600.0
_OWN: Final[dict[tuple[str, str], dict[str, tuple[str, frozenset[str]]]]] = {
    ("local", "pod-kill"): {"gameday_local.actions": (
        "restore_replicas", frozenset({"sandbox", "timeout", "wait_ready"}))},
    ("local", "latency"): {"gameday_local.actions": (
        "remove_latency", frozenset({"sandbox", "injection_id"}))},
    ("kubernetes", "pod-kill"): {"gameday_k8s.actions": (
        "wait_for_workloads", frozenset({"workloads", "killed_uids", "timeout", "interval",
                                         "kubeconfig", "context"}))},
    ("kubernetes", "latency"): {"gameday_k8s.actions": (
        "remove_latency", frozenset({"name", "ns", "kubeconfig", "context"}))},
}
_KINDS: Final = ("pod-kill", "latency", "action")


@dataclasses.dataclass(frozen=True)
class Decision:
    """One pending revert and whether it may run (``rule``: why, or why not).

    ``forceable``: not allowed as it stands, but ``--force`` may run it (a declared
    revert whose document nothing outside the journal confirms).
    """

    fault: int
    name: str
    revert: Mapping[str, Any]
    allowed: bool
    rule: str
    forceable: bool = False


@dataclasses.dataclass(frozen=True)
class Provenance:
    run_id: str
    document_problems: tuple[str, ...]  # --force may accept these
    document_broken: str | None  # nothing derives from the document; --force does not help
    decisions: tuple[Decision, ...]


def _contains_redacted(value: Any) -> bool:
    if isinstance(value, str):
        return "<redacted>" in value
    if isinstance(value, Mapping):
        return any(_contains_redacted(k) or _contains_redacted(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_redacted(v) for v in value)
    return False


def _comparable(activity: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in activity.items() if k != "name"}
    out.setdefault("type", "action")
    return out


def _document_kind(fault: Any) -> str | None:
    if not isinstance(fault, Mapping):
        return None
    return next((k for k in _KINDS if k in fault), None)


def _declared(document: Mapping[str, Any], index: int, revert: Mapping[str, Any]) -> str | None:
    """Where the document declares this revert, or None."""
    wanted = _comparable(revert)
    if "method" in document:  # a Chaos Toolkit experiment: its rollbacks
        named = {a.get("name"): a for a in document.get("method") or []
                 if isinstance(a, Mapping)}
        for position, entry in enumerate(document.get("rollbacks") or []):
            rollback = named.get(entry["ref"], {}) if isinstance(entry, Mapping) \
                and set(entry) == {"ref"} else entry
            if isinstance(rollback, Mapping) and _comparable(rollback) == wanted:
                return f"rollbacks[{position}]"
        return None
    faults = document.get("faults") or []
    if isinstance(faults, list) and 0 <= index < len(faults):
        fault = faults[index]
        declared = fault.get("revert") if isinstance(fault, Mapping) else None
        if _document_kind(fault) == "action" and isinstance(declared, Mapping) \
                and _comparable(declared) == wanted:
            return f"faults[{index}].revert"
    return None


def _namespaces(document: Mapping[str, Any], fault: Mapping[str, Any]) -> set[Any]:
    target = document.get("target") or {}
    radius = document.get("blast_radius") or {}
    body: Any = next((fault[k] for k in _KINDS if k in fault), {})
    allowed = {target.get("namespace") if isinstance(target, Mapping) else None,
               body.get("namespace") if isinstance(body, Mapping) else None}
    if isinstance(radius, Mapping) and isinstance(radius.get("namespaces"), list):
        allowed.update(radius["namespaces"])
    allowed.discard(None)
    return allowed


def _planned(journal: reader.Journal, document: Mapping[str, Any], run_id: str,
             intent: Mapping[str, Any]) -> tuple[bool, str]:
    index, revert = int(intent["fault"]), intent["revert"]
    provider = revert.get("provider") if isinstance(revert, Mapping) else None
    if not isinstance(provider, Mapping) or provider.get("type") != "python":
        return False, "it is neither declared in the experiment nor a gameday extension call"
    target = document.get("target") or {}
    platform = (target.get("platform") if isinstance(target, Mapping) else None) or "local"
    faults = document.get("faults") or []
    fault = faults[index] if isinstance(faults, list) and 0 <= index < len(faults) else None
    kind = _document_kind(fault)
    own = _OWN.get((str(platform), str(kind)))
    module, func = provider.get("module"), provider.get("func")
    if own is None or module not in own or own[module][0] != func:
        return False, (f"it is not declared in the experiment, and {module}.{func} is not the "
                       f"revert gameday plans for fault #{index} (a {kind or 'missing'} fault "
                       f"on {platform})")
    assert isinstance(fault, Mapping)
    args = provider.get("arguments") or {}
    if not isinstance(args, Mapping) or not set(args) <= own[module][1]:
        return False, f"its arguments are not those of {module}.{func}"
    plan = journal.first(events.PLAN) or {}
    planned = {f.get("fault"): f.get("revert") for f in plan.get("faults") or []}
    if planned.get(index) != revert:
        return False, f"it is not the revert the run's plan recorded for fault #{index}"
    if func == "remove_latency" and module == "gameday_local.actions" \
            and args.get("injection_id") != f"{run_id}-{index}":
        return False, f"it would remove latency other than this run's ({run_id}-{index})"
    spaces = _namespaces(document, fault)
    if "ns" in args and args["ns"] not in spaces:
        return False, f"namespace {args['ns']!r} is not one the experiment allows"
    if "name" in args and not str(args["name"]).startswith("gameday-"):
        return False, f"{args['name']!r} is not a NetworkChaos gameday created"
    for workload in args.get("workloads") or []:
        if not isinstance(workload, Mapping) or workload.get("namespace") not in spaces:
            return False, "it waits on a workload outside the experiment's namespaces"
    timeout = args.get("timeout", 0)
    if not isinstance(timeout, int | float) or not 0 <= timeout <= MAX_WAIT_SECONDS:
        return False, f"its timeout {timeout!r} is not a bounded wait"
    return True, f"gameday's own revert for fault #{index} ({kind}), as the run's plan recorded"


def decide(journal: reader.Journal, *, vouched: str | None = None,
           confirmed: Mapping[str, Any] | None = None) -> Provenance:
    """The provenance of every pending revert of ``journal`` (a run's journal).

    ``vouched``: why the journal's lines can be trusted (a verified keyed chain), if they
    can; ``confirmed``: the experiment document as loaded now from a file whose sha256
    equals the run's ``experiment_sha256``, if there is one.
    """
    started = journal.events[0]
    run_id = str(started.get("run_id"))
    problems: list[str] = []
    broken: str | None = None
    if sum(1 for e in journal.events if e.get("type") == events.RUN_STARTED) > 1:
        problems.append("the journal holds more than one run-started event")
    document = started.get("experiment")
    digest = started.get("document_sha256")
    if not isinstance(document, Mapping):
        broken = "run-started records no experiment document, so no revert can derive from it"
        document = {}
    elif digest is None:
        problems.append("run-started records no document_sha256 (a journal from an older "
                        "gameday): the experiment document is only as good as the chain")
    elif chain.document_sha256(document) != digest:
        broken = ("the experiment document recorded at run-started does not match its "
                  "document_sha256: it was edited, so no revert can derive from it")
    seen: dict[Any, int] = {}
    for intent in journal.of_type(events.FAULT_INTENT):
        seen[intent["fault"]] = seen.get(intent["fault"], 0) + 1
    problems += [f"fault #{i} has {n} intents" for i, n in seen.items() if n > 1]
    decisions = []
    for intent in recovery.pending_reverts(journal):
        index, revert = int(intent["fault"]), intent["revert"]
        name = str(intent.get("name"))
        if broken is not None:
            allowed, rule = False, "the experiment document is not intact"
        elif _contains_redacted(revert):
            allowed, rule = False, ("its arguments were redacted when journaled (secrets never "
                                    "enter the journal); run it by hand with the real values")
        elif (where := _declared(document, index, revert)) is not None:
            if vouched is not None:
                allowed, rule = True, f"declared as {where} of the experiment ({vouched})"
            elif confirmed is not None and _declared(confirmed, index, revert) == where:
                allowed, rule = True, (f"declared as {where} of the experiment, as the experiment "
                                        "file says too")
            elif confirmed is not None:
                allowed, rule = False, (
                    f"the journal's copy of the experiment declares it as {where}, but the "
                    "experiment file, still the one that ran, does not: the copy was edited")
            else:
                decisions.append(Decision(index, name, revert, False, (
                    f"declared as {where} in the journal's copy of the experiment, but nothing "
                    "outside the journal confirms that copy (no journal key, and the experiment "
                    "file is gone or changed); --force runs it"), forceable=True))
                continue
        else:
            allowed, rule = _planned(journal, document, run_id, intent)
        decisions.append(Decision(index, name, revert, allowed, rule))
    return Provenance(run_id, tuple(problems), broken, tuple(decisions))
