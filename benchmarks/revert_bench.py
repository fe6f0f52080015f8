"""Benchmark: abort decision -> all faults reverted, on the real local sandbox.

Each run is a real engine run with real parts from the decision onward: the real
``LocalPlatform`` plans a replica kill and a latency injection, chaoslib runs the
``gameday_local`` activities against the sandbox's supervisor and proxy, the journal
fsyncs every event. Only the metrics source is scripted, so that the abort comes on the
first watch tick of every run (waiting for Prometheus would only add minutes, not change
the path measured). The latency is read from the journal: the ``abort`` event's
timestamp to the last ``revert-result``.

In the same run, a baseline: the bare HTTP round trip of the same revert calls (remove
latency; list replicas) without the engine, journal or chaoslib, so the ratio shows what
gameday adds on top of the platform's own cost.

    python -m benchmarks.revert_bench [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from runner import ports, testing
from runner.adapters import chaos, local
from runner.engine import clock as clock_mod
from runner.engine import run as run_mod
from runner.journal import reader, writer
from runner.model import experiment as model
from runner.sandbox import client, manager


def _experiment() -> model.Experiment:
    return model.Experiment(
        title="revert latency benchmark",
        target=model.Target(platform="local", selector="app=demo"),
        prometheus=model.PrometheusConfig(tick=0.05),
        steady_state=model.SteadyState(alpha=0.05, baseline=0.15, probes=(
            model.RatioProbe(name="errors", errors="e", total="t", max=0.01),)),
        faults=(model.PodKillFault(count=1, name="kill one replica"),
                model.LatencyFault(delay=0.4, name="latency")),
        duration=30.0,
    )


def _script(call: int, probe: model.Probe) -> ports.Sample:
    # baseline (priming read + 3 ticks) healthy, then every request fails
    return ports.Counts(n=2000, e=0 if call <= 4 else 2000)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def measure(runs: int, sandbox: Path, work: Path) -> tuple[list[float], list[float]]:
    exp = _experiment()
    platform = local.LocalPlatform(sandbox)
    activities = chaos.ChaosToolkitActivities()
    latencies: list[float] = []
    for i in range(runs):
        cancel = clock_mod.Cancel()
        path = work / f"run-{i}" / "journal.jsonl"
        with writer.JournalWriter(path, now=time.time) as jw:
            run_ports = run_mod.RunPorts(testing.ScriptedMetrics(_script), platform, activities,
                                         clock_mod.SystemClock(cancel), jw, cancel)
            outcome = run_mod.Run(exp, run_ports, run_id=f"bench-{i}", seed=i).execute()
        if outcome.verdict != "broken":
            raise SystemExit(f"run {i} ended {outcome.verdict}: {outcome.reason}")
        journal = reader.read(path)
        abort = journal.last("abort")
        reverted = [e["ts"] for e in journal.of_type("revert-result") if e["ok"]]
        assert abort is not None and len(reverted) == 2
        latencies.append(max(reverted) - abort["ts"])
    st = manager.load_state(sandbox)
    bare: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        client.remove_latency(st, None)
        client.replicas(st)
        bare.append(time.perf_counter() - started)
    return latencies, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gameday-bench-") as tmp:
        sandbox = Path(tmp) / "sandbox"
        manager.up(sandbox)
        try:
            latencies, bare = measure(args.runs, sandbox, Path(tmp))
        finally:
            manager.down(sandbox)
    p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    b50 = statistics.median(bare)
    print(f"## abort decision -> all faults reverted ({args.runs} runs, local sandbox)\n")
    print("| measure | p50 | p99 | max |\n|---|---|---|---|")
    print(f"| gameday: abort event -> last revert-result (2 faults) | {p50 * 1000:.1f} ms | "
          f"{p99 * 1000:.1f} ms | {max(latencies) * 1000:.1f} ms |")
    print(f"| baseline: bare HTTP revert calls | {b50 * 1000:.1f} ms | "
          f"{_percentile(bare, 0.99) * 1000:.1f} ms | {max(bare) * 1000:.1f} ms |")
    print(f"\nratio gameday/baseline (p50): {p50 / b50:.1f}x")
    print(f"target p99 <= 1 s: {'PASS' if p99 <= 1.0 else 'FAIL'}")


if __name__ == "__main__":
    main()
