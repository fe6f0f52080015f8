"""The local platform: faults on gameday's own sandbox, through the ``gameday_local`` extension.

``LocalPlatform(sandbox_dir)`` implements ``runner.ports.Platform`` for experiments whose
target is ``platform: local``. Decisions:
- The sandbox runs one workload, the demo service; the selector must be ``app=demo`` (or
  absent). Anything else matches nothing, which preflight says in a sentence.
- Plans are pure functions of (sandbox replica names, experiment, run id, seed): the
  victims of a pod-kill are a seeded choice made here, at plan time, so they are
  journaled before anything is touched and a re-run with the same seed hits the same
  replicas. The activities name those replicas explicitly.
- A latency fault carries its own expiry: its TTL is the experiment's duration plus a
  margin, so a runner that dies mid-run cannot leave latency behind; its id is
  ``<run id>-<fault index>``, so the revert (and ``gameday revert``) removes exactly it.
  ``expires_at`` errs late, never early: planning may come before the baseline, so it is
  plan time + baseline + TTL (a reader may think it lives longer, never shorter).
- Activities are plain JSON-able Chaos Toolkit activity mappings (python providers of
  ``gameday_local.actions``), so a journal alone is enough to revert.
- Lock keys name what is touched: ``local:<sandbox dir>/replica/<name>`` per replica
  (latency goes through the proxy to every replica, so it names them all); a generic
  action names nothing it touches, so it claims ``local:<sandbox dir>/*``.
- Effects are observed (``effects``): latency measured through the proxy against a
  replica, killed replicas no longer running under their PIDs; a revert is verified
  (no injection listed; every replica running again).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runner import errors, ports
from runner.model import experiment as model
from runner.sandbox import client, effects, latency, selection, state

SERVICE = "demo"
SELECTOR = f"app={SERVICE}"
#: Seconds a latency injection outlives the planned fault window (then it expires itself).
LATENCY_TTL_MARGIN = 60.0
#: Seconds the revert of a pod-kill waits for every replica to be ready again.
RESTORE_TIMEOUT = 30.0
ACTIONS_MODULE = "gameday_local.actions"


def activity(name: str, func: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A Chaos Toolkit action calling ``gameday_local.actions.<func>(**arguments)``."""
    return {"type": "action", "name": name,
            "provider": {"type": "python", "module": ACTIONS_MODULE, "func": func,
                         "arguments": dict(arguments)}}


def _owner(injection_id: str, runs: Mapping[str, Any]) -> str | None:
    """The live run an injection id ``<run id>-<fault index>`` belongs to, if any."""
    run_id = injection_id.rpartition("-")[0]
    return run_id if run_id in runs else None


def _selects_demo(selector: str | None) -> bool:
    if selector is None:
        return True
    key, sep, value = selector.replace("==", "=").partition("=")
    return bool(sep) and key.strip() == "app" and value.strip() == SERVICE


class LocalPlatform:
    """The ``local`` platform: the sandbox whose state lives in ``sandbox_dir``."""

    name = "local"

    def __init__(self, sandbox_dir: Path | str, *, clock: Callable[[], float] = time.time,
                 sweep_leftovers: bool = False) -> None:
        self.sandbox_dir = Path(sandbox_dir).resolve()
        self._clock = clock
        self.sweep_leftovers = sweep_leftovers
        self.swept: list[str] = []

    def _state(self) -> state.SandboxState:
        return state.load_state(self.sandbox_dir)

    def preflight(self, experiment: model.Experiment) -> list[str]:
        """Problems that refuse the run, each a sentence; empty when the run may go on."""
        problems: list[str] = []
        if experiment.target.platform != self.name:
            problems.append(f"The experiment targets platform {experiment.target.platform!r}, "
                            "but this is the local sandbox platform.")
        try:
            st = self._state()
            client.replicas(st)
            problems += self._leftovers(st)
        except errors.PlatformError as exc:
            return [*problems, exc.message]
        names = [r["name"] for r in st["replicas"]]
        if not _selects_demo(experiment.target.selector):
            problems.append(f"The target selector {experiment.target.selector!r} matches nothing "
                            f"in the local sandbox: its only workload is selected by {SELECTOR}.")
        for index, fault in enumerate(experiment.faults):
            where = f"Fault #{index} ({fault.name})"
            if isinstance(fault, model.PodKillFault | model.LatencyFault) and not _selects_demo(
                    fault.selector):
                problems.append(f"{where}: selector {fault.selector!r} matches nothing in the "
                                f"local sandbox; use {SELECTOR}.")
            if isinstance(fault, model.PodKillFault):
                problems.extend(self._check_kill(where, fault, len(names), experiment.blast_radius))
            elif isinstance(fault, model.LatencyFault):
                if fault.correlation:
                    problems.append(f"{where}: the local sandbox cannot correlate delays; "
                                    "remove `correlation`.")
                if fault.delay + fault.jitter > latency.MAX_DELAY:
                    problems.append(f"{where}: delay plus jitter is over the sandbox's limit of "
                                    f"{latency.MAX_DELAY:g} s.")
        for probe in experiment.steady_state.guardrails:
            if isinstance(probe, model.ReadyReplicasProbe) and probe.workload != SERVICE:
                problems.append(f"Probe {probe.name!r} watches workload {probe.workload!r}, but "
                                f"the local sandbox runs only {SERVICE!r}.")
        return problems

    def _leftovers(self, st: state.SandboxState) -> list[str]:
        """Latency left by an earlier run (dead before its revert): refuse, or sweep it.

        Latency owned by a run that is still alive on this machine is never a leftover:
        it is refused as "in use" and never swept (sweeping would end that run's fault).
        """
        live = client.active_latency(st)
        if not live:
            return []
        from runner.adapters import locks  # the run records: only when latency is live

        owners = {r["run_id"]: r for r in locks.read_records()
                  if r.get("state") == "live" and locks.pid_alive(int(r.get("pid", 0)))}
        in_use = [i for i in live if _owner(i["id"], owners) is not None]
        dead = [i for i in live if i not in in_use]
        problems = []
        for injection in in_use:
            record = owners[str(_owner(injection["id"], owners))]
            problems.append(f"The sandbox is in use: run {record['run_id']} (pid "
                            f"{record['pid']}, journal {record['journal']}) has latency "
                            f"{injection['id']} live. Wait for it to finish.")
        if dead and self.sweep_leftovers:
            for injection in dead:
                client.remove_latency(st, injection["id"])
            self.swept = [i["id"] for i in dead]
        elif dead:
            ids = ", ".join(f"{i['id']} ({i['remaining']:.0f} s left)" for i in dead)
            problems.append(
                f"Latency injected by an earlier run is still active in the sandbox: {ids}. "
                "Finish that run's reverts with `gameday revert <its journal>`, wait for the "
                "TTL, or rerun with --sweep-leftovers to remove it first.")
        return problems

    @staticmethod
    def _check_kill(where: str, fault: model.PodKillFault, total: int,
                    radius: model.BlastRadius) -> list[str]:
        try:
            count = selection.resolve_count(total, fault.count, fault.fraction)
        except errors.InputError as exc:
            return [f"{where}: {exc.message}"]
        problems: list[str] = []
        if count > total:
            problems.append(f"{where} would kill {count} replicas, but the sandbox has {total}.")
        if radius.max_pods is not None and count > radius.max_pods:
            problems.append(f"{where} would kill {count} replicas; the blast radius allows at "
                            f"most {radius.max_pods} (blast_radius.max_pods).")
        if radius.max_fraction is not None and count > radius.max_fraction * total + 1e-9:
            problems.append(f"{where} would kill {count} of {total} replicas "
                            f"({count / total:.0%}); the blast radius allows at most "
                            f"{radius.max_fraction:.0%} (blast_radius.max_fraction).")
        return problems

    def plan(
        self, experiment: model.Experiment, run_id: str, seed: int
    ) -> list[ports.PlannedFault]:
        """Every fault made concrete (targets, activities), seeded; touches nothing."""
        st = self._state()
        names = [r["name"] for r in st["replicas"]]
        sandbox = str(self.sandbox_dir)
        planned: list[ports.PlannedFault] = []
        for index, fault in enumerate(experiment.faults):
            label = f"{fault.name}[{index}]"
            if isinstance(fault, model.PodKillFault):
                count = selection.resolve_count(len(names), fault.count, fault.fraction)
                victims = selection.choose(names, count, fault.seed if fault.seed is not None
                                           else f"{seed}:{index}")
                planned.append(ports.PlannedFault(
                    index, fault.name, "pod-kill", tuple(victims),
                    activity(label, "kill_replicas", {"sandbox": sandbox, "replicas": victims}),
                    activity(f"revert {label}", "restore_replicas",
                             {"sandbox": sandbox, "timeout": RESTORE_TIMEOUT}),
                    f"SIGKILL {', '.join(victims)}; the supervisor restarts them",
                    population=len(names)))
            elif isinstance(fault, model.LatencyFault):
                injection_id = f"{run_id}-{index}"
                ttl = experiment.duration + LATENCY_TTL_MARGIN
                planned.append(ports.PlannedFault(
                    index, fault.name, "latency", tuple(names),
                    activity(label, "add_latency", {
                        "sandbox": sandbox, "delay": fault.delay, "jitter": fault.jitter,
                        "ttl": ttl, "injection_id": injection_id}),
                    activity(f"revert {label}", "remove_latency",
                             {"sandbox": sandbox, "injection_id": injection_id}),
                    f"{fault.delay:g} s ± {fault.jitter:g} s on every request through the "
                    f"proxy (injection {injection_id}, expires by itself after {ttl:g} s)",
                    expires_at=self._clock() + experiment.steady_state.baseline + ttl,
                    population=len(names)))
            else:
                planned.append(ports.PlannedFault(
                    index, fault.name, "action", (), dict(fault.action),
                    None if fault.revert is None else dict(fault.revert),
                    "a Chaos Toolkit action as written in the experiment"))
        return planned

    @property
    def endpoint(self) -> str:
        return f"local:{self.sandbox_dir}"

    def lock_keys(self, planned: Sequence[ports.PlannedFault]) -> list[str]:
        """One key per replica touched; ``<endpoint>/*`` for an action naming nothing."""
        keys: set[str] = set()
        for fault in planned:
            if fault.kind in ("pod-kill", "latency") and fault.targets:
                keys.update(f"{self.endpoint}/replica/{t}" for t in fault.targets)
            else:
                keys.add(f"{self.endpoint}/*")
        return sorted(keys) or [f"{self.endpoint}/*"]

    def check_effect(self, fault: ports.PlannedFault, result: Any) -> ports.EffectCheck:
        if fault.kind == "latency":
            return self._latency_effect(fault)
        if fault.kind == "pod-kill":
            return self._kill_effect(fault, result)
        return ports.EffectCheck(None, "not checked: a generic action has no effect check")

    def _latency_effect(self, fault: ports.PlannedFault) -> ports.EffectCheck:
        st = self._state()
        args = fault.action["provider"]["arguments"]
        wanted, jitter = float(args["delay"]), float(args.get("jitter", 0.0))
        if not any(i["id"] == args["injection_id"] for i in client.active_latency(st)):
            return ports.EffectCheck(False, f"the proxy lists no injection {args['injection_id']}")
        try:
            through, direct = effects.added_latency(st, wanted + jitter)
        except errors.PlatformError as exc:
            return ports.EffectCheck(None, f"injection {args['injection_id']} is listed by the "
                                     f"proxy, but the added delay could not be measured "
                                     f"({exc.message})")
        added = through - direct
        measured: dict[str, Any] = {
            "requested_s": wanted, "jitter_s": jitter, "added_s": round(added, 4),
            "through_proxy_s": round(through, 4), "direct_s": round(direct, 4)}
        ratio = added / wanted if wanted > 0 else 1.0
        said = f"asked for {wanted * 1000:.0f} ms, measured {added * 1000:.0f} ms added"
        if ratio < 0.5:
            return ports.EffectCheck(False, said, measured)
        return ports.EffectCheck(True, f"{said} ({ratio:.2g}×)", measured)

    def _kill_effect(self, fault: ports.PlannedFault, result: Any) -> ports.EffectCheck:
        killed = sorted(set(result)) if isinstance(result, list) else []
        alive = {r["name"] for r in client.replicas(self._state()) if r["pid"] is not None}
        missed = [t for t in fault.targets if t not in killed and t in alive]
        measured: dict[str, Any] = {"requested": list(fault.targets), "killed": killed}
        if missed:
            return ports.EffectCheck(False, f"{', '.join(missed)} still running", measured)
        down = [t for t in fault.targets if t not in killed]
        detail = f"killed {', '.join(killed) or 'none'}" + (
            f" ({', '.join(down)} already down)" if down else "")
        return ports.EffectCheck(True, detail, measured)

    def verify_revert(self, fault: ports.PlannedFault, within: float) -> ports.RevertCheck:
        st = self._state()
        if fault.kind == "latency":
            injection = fault.action["provider"]["arguments"]["injection_id"]
            if any(i["id"] == injection for i in client.active_latency(st)):
                return ports.RevertCheck(False, f"the proxy still lists injection {injection}")
            return ports.RevertCheck(True, f"the proxy lists no injection {injection}")
        if fault.kind == "pod-kill":
            up, total = effects.wait_running(st, within)
            if up < total:
                return ports.RevertCheck(False, f"only {up} of {total} replicas run again "
                                         f"after {within:g} s")
            return ports.RevertCheck(True, f"all {total} replicas run again")
        return ports.RevertCheck(None, "not checked: a generic action's revert has no check")

    def ready_replicas(self, probe: model.ReadyReplicasProbe) -> float | None:
        """Ready replicas of the demo service per the supervisor; None if unreadable."""
        if probe.workload != SERVICE:
            return None
        try:
            return float(sum(1 for r in client.replicas(self._state()) if r["ready"]))
        except errors.PlatformError:
            return None
