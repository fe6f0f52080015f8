"""Benchmark: game days — `gameday day plan` at size, and how fast a stop reaches a run.

1. ``gameday day plan`` of a day of N experiments (3 probes each: an error ratio, a p99
   latency from a histogram, a gauge guardrail) with a 28-day error-budget gate, against
   a real Prometheus holding 29 days of backfilled history (``tests.fixtures.backfill``)
   and the real local sandbox as the platform (targets chosen as a run would). Timed as
   the user runs it: the whole ``gameday day plan --json`` process, and the plan alone
   in-process (the part gameday itself spends). Target: ≤ 2 s for 20 experiments.
2. ``gameday stop`` reaching a live run: real engine runs with the real local platform
   and Chaos Toolkit activities (a latency injection on the sandbox's proxy), the real
   stop file and its sentinel, the real clock and an fsynced journal; only the metrics are
   scripted (healthy), so every run sits in its fault window until stopped. The stop is
   pressed at a random moment of the window; the delay to the run's ``abort`` event and
   to its last ``revert-result`` is measured, in ticks. Target: ≤ 1 tick.

    python -m benchmarks.day_bench [--experiments 20] [--repeat 5] [--stops 20] [--tick 1]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from runner import ports
from runner.adapters import chaos, local, stop
from runner.engine import clock as clock_mod
from runner.engine import run as run_mod
from runner.journal import reader, writer
from runner.model import experiment as model
from runner.sandbox import manager
from tests.fixtures import backfill

DAY = backfill.DAY
ROOT = Path(__file__).resolve().parents[1]


def history() -> list[backfill.Series]:
    """29 days of a service at 100 req/s: requests by code, a latency histogram, a gauge."""
    now = time.time()
    span = {"start": now - 29 * DAY, "end": now + 3600, "step": 300.0, "recent": 3 * 3600,
            "recent_step": 15.0}
    series = [backfill.counter("bench_requests_total", {"code": "200"}, rate=lambda t: 99.9,
                               **span),
              backfill.counter("bench_requests_total", {"code": "500"}, rate=lambda t: 0.02,
                               **span)]
    for le, share in (("0.1", 0.9), ("0.3", 0.995), ("+Inf", 1.0)):
        series.append(backfill.counter("bench_duration_seconds_bucket", {"le": le},
                                       rate=lambda t, s=share: 100.0 * s, **span))
    series.append(backfill.counter("bench_duration_seconds_count", {},
                                   rate=lambda t: 100.0, **span))
    points = [(t, 3.0) for t in range(int(now - 3 * 3600), int(now + 3600), 15)]
    series.append(backfill.Series("bench_ready_replicas", {}, points, kind="gauge"))
    return series


def day_file(folder: Path, url: str, count: int) -> Path:
    entries = []
    for i in range(count):
        entries.append(f"""  - id: e{i:02d}
    inline:
      title: benchmark experiment {i}
      target: {{platform: local, selector: app=demo}}
      blast_radius: {{max_pods: 1}}
      steady_state:
        baseline: 60s
        probes:
          - name: error ratio
            ratio: {{errors: 'bench_requests_total{{code="500"}}', total: bench_requests_total}}
            max: 1%
          - name: p99
            latency: {{histogram: bench_duration_seconds}}
            quantile: 0.99
            max: 300ms
          - name: ready
            gauge: bench_ready_replicas
            min: 2
      faults: [{{pod-kill: {{selector: app=demo, count: 1}}}}]
      duration: 2m
""")
    path = folder / "bench-day.yaml"
    path.write_text(f"""kind: gameday
title: plan benchmark
defaults:
  prometheus: {{url: "{url}", tick: 15s}}
gates:
  - error-budget: {{slo: 99.9%, window: 28d, bad: 'bench_requests_total{{code="500"}}',
                   total: bench_requests_total}}
experiments:
{"".join(entries)}""")
    return path


def bench_plan(count: int, repeat: int, sandbox: Path, work: Path) -> None:
    from runner.cli import compose, day_plan
    from runner.day import loader

    served = backfill.serve(history(), work / "history")
    try:
        path = day_file(work, served.url, count)
        day = loader.load(path)
        options = compose.Options(sandbox_dir=sandbox)
        inner = []
        for _ in range(repeat):
            started = time.perf_counter()
            doc = day_plan.build(day, options)
            inner.append(time.perf_counter() - started)
        closed = [e["id"] for e in doc["experiments"] if not e["plan_ok"]
                  or not all(g["ok"] for g in e["gates"])]
        env = {**os.environ, "CI": "true"}
        whole = []
        cpu = []
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "runner.cli.main", "day", "plan",
                                   str(path), "--sandbox", str(sandbox), "--json"],
                                  capture_output=True, text=True, cwd=ROOT, env=env,
                                  check=False, timeout=120)
            whole.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if done.returncode != 0:
                print(f"day plan exited {done.returncode}: {done.stderr[-500:]}")
        print(f"day plan of {count} experiments x 3 probes, 28-day error-budget gate, "
              f"{repeat} repeats:")
        print(f"  gameday day plan --json (whole process): median {statistics.median(whole):.2f}"
              f" s, max {max(whole):.2f} s wall  (target <= 2 s); CPU time of the process "
              f"median {statistics.median(cpu):.2f} s; load average now "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"  the plan in-process (gameday's own part): median "
              f"{statistics.median(inner):.2f} s, max {max(inner):.2f} s")
        print(f"  every gate and plan open: {'yes' if not closed else 'NO: ' + str(closed)}")
    finally:
        served.stop()


def _experiment(tick: float) -> model.Experiment:
    return model.Experiment(
        title="stop benchmark", target=model.Target(platform="local", selector="app=demo"),
        prometheus=model.PrometheusConfig(tick=tick),
        steady_state=model.SteadyState(alpha=0.05, baseline=3 * tick, probes=(
            model.RatioProbe(name="errors", errors="e", total="t", max=0.01),)),
        faults=(model.LatencyFault(delay=0.05, name="latency"),), duration=600.0)


def _healthy(call: int, probe: model.Probe) -> ports.Sample:
    return ports.Counts(n=2000, e=0)


def bench_stops(stops: int, tick: float, sandbox: Path, work: Path) -> None:
    from runner import testing

    switch = work / "stop"
    rng = random.Random(11)
    to_abort: list[float] = []
    to_reverted: list[float] = []
    for i in range(stops):
        journal = work / f"stop-{i}" / "journal.jsonl"
        pressed: list[float] = []

        def press(path: Path = journal, when: list[float] = pressed) -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # wait for the fault window, bounded
                if any(e.get("type") == "phase" and e.get("phase") == "watch"
                       for e in _events(path)):
                    break
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 3 * tick))
            when.append(time.time())
            stop.engage("benchmark", by="bench", path=switch)

        presser = threading.Thread(target=press, daemon=True)
        presser.start()
        cancel = clock_mod.Cancel()
        with writer.JournalWriter(journal, now=time.time) as jw:
            run_ports = run_mod.RunPorts(testing.ScriptedMetrics(_healthy),
                                         local.LocalPlatform(sandbox),
                                         chaos.ChaosToolkitActivities(),
                                         clock_mod.SystemClock(cancel), jw, cancel,
                                         sentinels=(stop.StopSentinel(switch),))
            outcome = run_mod.Run(_experiment(tick), run_ports, run_id=f"stop-{i}",
                                  seed=i).execute()
        presser.join(5)
        stop.clear(switch)
        read = reader.read(journal)
        abort = read.last("abort")
        reverted = read.of_type("revert-result")
        if outcome.verdict != "stopped" or abort is None or not reverted or not pressed:
            print(f"  run {i}: unexpected {outcome.verdict}: {outcome.reason}")
            continue
        to_abort.append((float(abort["ts"]) - pressed[0]) / tick)
        to_reverted.append((float(reverted[-1]["ts"]) - pressed[0]) / tick)
    if not to_abort:
        print("no stop measured")
        return
    print(f"gameday stop reaching a live run ({len(to_abort)} stops, tick {tick:g} s, "
          "pressed at a random moment of the fault window):")
    for name, values in (("stop -> abort", to_abort), ("stop -> all reverted", to_reverted)):
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
        print(f"  {name}: min {ordered[0]:.2f}, median {statistics.median(ordered):.2f}, "
              f"p90 {p90:.2f}, max {ordered[-1]:.2f} ticks  (target <= 1 tick)")


def _events(path: Path) -> list[dict[str, object]]:
    import json

    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    found = []
    for line in lines:
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stops", type=int, default=20)
    parser.add_argument("--tick", type=float, default=1.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gameday-day-bench-"))
    os.environ["GAMEDAY_HOME"] = str(work / "home")
    sandbox = work / "sandbox"
    manager.up(sandbox)
    try:
        bench_plan(args.experiments, args.repeat, sandbox, work)
        bench_stops(args.stops, args.tick, sandbox, work)
    finally:
        manager.down(sandbox)
    return 0


if __name__ == "__main__":
    sys.exit(main())
