"""Benchmark: the runner's death (SIGKILL) -> every fault reverted by the guard.

Local: each runner is a real process running the real engine on the real sandbox (a
replica kill with a 10-minute restart delay, and a Chaos Toolkit action/rollback pair
that creates and removes a file), with its detached guard started exactly as
``gameday run --guard`` starts it; only the metrics are scripted (healthy), so each run
reaches its fault window in a fraction of a second instead of a Prometheus baseline.
The runner is SIGKILLed once both faults acted; the time is SIGKILL -> the last
successful ``revert-result`` the guard journaled.

Kubernetes (kmock with the harness's controllers): each runner is a real process that
claims Leases, mirrors its pending reverts, injects a NetworkChaos and a scale-down
(chaosk8s) and renews every tick until SIGKILLed; one ``gameday guard --namespace`` process
watches throughout. The time is SIGKILL -> the guard's last successful revert.

Two figures per kill: SIGKILL -> the guard's takeover (its ``guard-takeover`` event:
the lease ran out and the guard noticed) and SIGKILL -> the last successful revert (the
takeover plus the reverts themselves, which cost what the platform costs). Target for
the takeover: at most lease + one tick.

    python -m benchmarks.guard_bench [--kills 20] [--lease 2] [--tick 0.5] [--only local|k8s]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "extensions")]),
            **extra}


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise SystemExit(f"guard_bench: {what} not within {timeout} s")


def _events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _state(cluster: Any, run_id: str) -> str | None:
    from runner.adapters.k8s import leases as wire
    from tests.k8s.emulator import LEASES

    for lease in cluster.objects(LEASES, "shop"):
        notes = wire.notes_of(lease)
        if notes.get("run-id") == run_id and lease["metadata"]["labels"].get(
                wire.KIND_LABEL) == "run":
            return notes.get("state")
    return None


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# -- the runners (child processes) ----------------------------------------------------------
def run_local(sandbox: Path, journal: Path, lease: float, tick: float, marker: Path) -> None:
    from runner import ports, testing
    from runner.adapters import chaos, local, locks
    from runner.cli import guard
    from runner.engine import clock as clock_mod
    from runner.engine import run as run_mod
    from runner.journal import writer
    from runner.model import loader

    source = journal.parent / "experiment.yaml"  # a file: gameday revert checks provenance
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(f"""
version: 1
title: guard benchmark
target: {{platform: local, selector: app=demo}}
prometheus: {{url: sandbox, tick: {tick}s, timeout: {tick}s}}
steady_state:
  baseline: {3 * tick}s
  probes:
    - {{name: errors, ratio: {{errors: e, total: t}}, max: 1%}}
faults:
  - pod-kill: {{selector: app=demo, count: 1}}
  - action: {{name: mark, provider: {{type: process, path: touch, arguments: ["{marker}"]}}}}
    revert: {{name: unmark, provider: {{type: process, path: rm, arguments: ["-f", "{marker}"]}}}}
duration: 600s
""")
    exp = loader.load(source)
    run_id = journal.parent.name
    guard.spawn(run_id, journal.parent / "guard.log", key_file=None, poll=0.05)
    cancel = clock_mod.Cancel()
    with writer.JournalWriter(journal, now=time.time) as jw:
        run_ports = run_mod.RunPorts(
            testing.ScriptedMetrics(lambda _c, _p: ports.Counts(n=1000, e=0)),
            local.LocalPlatform(sandbox), chaos.ChaosToolkitActivities(),
            clock_mod.SystemClock(cancel), jw, cancel,
            lease=locks.LocalLease(lease_seconds=lease))
        run_mod.Run(exp, run_ports, run_id=run_id, seed=1).execute()


def run_k8s(kubeconfig: str, journal: Path, lease: float, tick: float) -> None:
    from runner.cli import compose
    from tests.guard import k8s_runs
    from tests.k8s import builders

    mini = k8s_runs.MiniRun(kubeconfig, journal.parent.parent, journal.parent.name,
                            (builders.latency(), k8s_runs.scale_fault()), lease_seconds=lease)
    mini.lease._keepalive = True
    compose.build_activities()  # as gameday run does before the run starts
    mini.claim()
    mini.inject()
    print("injected", flush=True)
    for _tick in range(100_000):
        time.sleep(tick)
        mini.lease.renew("watch", None)


# -- the measurements -------------------------------------------------------------------------
def bench_local(kills: int, lease: float, tick: float, work: Path,
                detected: list[float]) -> list[float]:
    from runner.sandbox import client, manager

    sandbox = work / "sandbox"
    manager.up(sandbox, replicas=3, rps=20.0, restart_delay=600.0)
    home = work / "home"
    times: list[float] = []
    try:
        st = manager.load_state(sandbox)
        for i in range(kills):
            journal = work / "runs" / f"bench-local-{i}" / "journal.jsonl"
            marker = work / f"marker-{i}"
            proc = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.guard_bench", "--as", "local", str(sandbox),
                 str(journal), str(lease), str(tick), str(marker)],
                cwd=ROOT, env=_env(GAMEDAY_HOME=str(home)), stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            _wait(lambda j=journal: sum(e.get("type") == "fault-result"  # type: ignore[misc]
                                        for e in _events(j)) == 2, 60, "both faults")
            killed = time.time()
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            _wait(lambda j=journal: sum(e.get("type") == "revert-result" and e["ok"]  # type: ignore[misc]
                                        for e in _events(j)) == 2, lease + 30, "the guard")
            seen = _events(journal)
            done = max(e["ts"] for e in seen if e.get("type") == "revert-result")
            took = next(e["ts"] for e in seen if e.get("type") == "guard-takeover")
            assert not marker.exists() and all(r["pid"] for r in client.replicas(st))
            times.append(done - killed)
            detected.append(took - killed)
            print(f"  local kill {i + 1}/{kills}: taken over {took - killed:.3f} s, reverted "
                  f"{done - killed:.3f} s after SIGKILL", flush=True)
    finally:
        manager.down(sandbox)
    return times


def bench_k8s(kills: int, lease: float, tick: float, work: Path,
              detected: list[float]) -> list[float]:
    from tests.k8s.emulator import NETWORKCHAOS, EmulatedCluster

    work.mkdir(parents=True, exist_ok=True)
    cluster = EmulatedCluster(ready_after=0.05).start()
    cluster.add_deployment("shop", "checkout", 3, {"app": "checkout"})
    kubeconfig = str(cluster.kubeconfig(work / "kubeconfig"))
    env = _env(KUBECONFIG=kubeconfig, GAMEDAY_HOME=str(work / "home"))
    guard = subprocess.Popen(
        [sys.executable, "-m", "runner.cli.main", "guard", "--namespace", "shop", "--kubeconfig",
         kubeconfig, "--poll", "0.2", "--journal-dir", str(work / "guard"), "--for", "3600"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times: list[float] = []
    try:
        for i in range(kills):
            run_id = f"bench-k8s-{i}"
            journal = work / "runs" / run_id / "journal.jsonl"
            proc = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.guard_bench", "--as", "k8s", kubeconfig,
                 str(journal), str(lease), str(tick)],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "injected":
                raise SystemExit(f"guard_bench: runner {i} failed: exit {proc.wait(10)}")
            killed = time.time()
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            guard_journal = work / "guard" / run_id / "guard-journal.jsonl"
            _wait(lambda g=guard_journal: any(e.get("type") == "journal-sealed"  # type: ignore[misc]
                                              for e in _events(g)), lease + 60, "the guard")
            seen = _events(guard_journal)
            done = max(e["ts"] for e in seen if e.get("type") == "revert-result" and e["ok"])
            took = next(e["ts"] for e in seen if e.get("type") == "guard-takeover")
            assert cluster.objects(NETWORKCHAOS, "shop") == []
            _wait(lambda r=run_id: _state(cluster, r) == "reverted", 60,  # type: ignore[misc]
                  "the Lease closed")  # before the next runner claims the same pods
            times.append(done - killed)
            detected.append(took - killed)
            print(f"  k8s kill {i + 1}/{kills}: taken over {took - killed:.3f} s, reverted "
                  f"{done - killed:.3f} s after SIGKILL", flush=True)
    finally:
        guard.send_signal(signal.SIGKILL)
        guard.wait(10)
        cluster.stop()
    return times


def report(name: str, detected: list[float], times: list[float], lease: float,
           tick: float) -> bool:
    target = lease + tick
    ok = _quantile(detected, 0.99) <= target
    print(f"| {name} | {len(times)} | {lease:g} s | {tick:g} s | "
          f"{_quantile(detected, 0.5):.2f} / {_quantile(detected, 0.99):.2f} s | "
          f"{_quantile(times, 0.5):.2f} / {_quantile(times, 0.99):.2f} s | "
          f"takeover ≤ {target:g} s: {'met' if ok else 'NOT met'} |", flush=True)
    return ok


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--as":
        kind, *rest = sys.argv[2:]
        if kind == "local":
            run_local(Path(rest[0]), Path(rest[1]), float(rest[2]), float(rest[3]),
                      Path(rest[4]))
        else:
            run_k8s(rest[0], Path(rest[1]), float(rest[2]), float(rest[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--tick", type=float, default=0.5)
    parser.add_argument("--only", choices=["local", "k8s"], default=None)
    args = parser.parse_args()
    results: list[tuple[str, list[float], list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="guard-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "local"):
            seen: list[float] = []
            took = bench_local(args.kills, args.lease, args.tick, work / "local", seen)
            results.append(("local (sandbox, run --guard)", seen, took))
        if args.only in (None, "k8s"):
            seen = []
            took = bench_k8s(args.kills, args.lease, args.tick, work / "k8s", seen)
            results.append(("Kubernetes (kmock, guard loop)", seen, took))
    print("\n| platform | SIGKILLs | lease | tick | SIGKILL → takeover p50 / p99 | "
          "SIGKILL → all reverted p50 / p99 | target |")
    print("|---|---|---|---|---|---|---|")
    met = [report(name, seen, took, args.lease, args.tick) for name, seen, took in results]
    return 0 if all(met) else 1


if __name__ == "__main__":
    raise SystemExit(main())
