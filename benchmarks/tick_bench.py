"""Benchmark: the per-tick read path against a real Prometheus, beside a bare HTTP client.

A real Prometheus (Debian's, 1 s scrape) scrapes a real exporter in its own process
(so its CPU is not counted as gameday's) that moves every probe's counters every 100 ms.
For 20 and 100 probes (half error ratios, half p99 latency probes) the benchmark runs
ticks on a 1 s schedule and measures, per probe per tick:

- gameday's CPU (this process, all threads: ``resource.getrusage``) reading through
  ``PrometheusSource.sample`` (prometheus-api-client, concurrent, keep-alive);
- the same queries issued by a bare client in the same run (``http.client``, one
  keep-alive connection, no gzip, ``json.loads``): the floor an HTTP reader can reach;
- Prometheus' CPU (``/proc/<pid>/stat``) during each of the two;
- late ticks (a read that starts more than 10 % of a tick after its due time) and
  overruns (a read longer than the tick).

Targets (issue 8): gameday ≤ 1.5 ms CPU per probe per tick at 20 and 100 probes;
Prometheus CPU under gameday within 1.5× of its CPU under the bare client; no late tick
at 100 probes. Then ``gameday plan`` start-up (a fresh process, minus the time spent in
Prometheus queries, which the child measures itself) against a target of 0.5 s.

    python -m benchmarks.tick_bench [--ticks 30] [--probes 20 100] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from runner.adapters import prometheus as adapter  # noqa: E402
from runner.model import experiment as model  # noqa: E402
from runner.sandbox import prometheus as launcher  # noqa: E402

TICK = 1.0
CPU_TARGET_MS = 1.5
PROM_RATIO_TARGET = 1.5
PLAN_TARGET_S = 0.5

EXPORTER = textwrap.dedent("""
    import sys, time
    from tests.fixtures import exporter as ex
    n, seconds = int(sys.argv[1]), float(sys.argv[2])
    e = ex.Exporter()
    def step():
        with e.atomically():
            for i in range(n):
                e.inc_counter("bench_total", {"probe": str(i), "code": "200"}, 99)
                e.inc_counter("bench_total", {"probe": str(i), "code": "500"}, 1)
                e.observe("bench_seconds", {"probe": str(i)}, 0.05, times=99)
                e.observe("bench_seconds", {"probe": str(i)}, 0.5, times=1)
    step()
    print(e.target, flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        step()
        time.sleep(0.1)
""")


def probes(n: int) -> list[model.Probe]:
    out: list[model.Probe] = []
    for i in range(n):
        if i % 2 == 0:
            out.append(model.RatioProbe(name=f"ratio-{i}", errors=f'bench_total{{probe="{i}",'
                                        'code=~"5.."}', total=f'bench_total{{probe="{i}"}}',
                                        max=0.05))
        else:
            out.append(model.LatencyProbe(name=f"p99-{i}", histogram="bench_seconds",
                                          match=f'{{probe="{i}"}}', max=0.3))
    return out


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_ticks(read: Callable[[], object], ticks: int, prom_pid: int) -> dict[str, float]:
    """``ticks`` reads on a 1 s schedule; CPU of both processes, lateness, read times."""
    late = overran = 0
    durations: list[float] = []
    cpu0, prom0 = own_cpu(), proc_cpu(prom_pid)
    start = time.monotonic() + 0.05
    for k in range(ticks):
        due = start + k * TICK
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        began = time.monotonic()
        late += began - due > 0.1 * TICK
        read()
        took = time.monotonic() - began
        durations.append(took)
        overran += took > TICK
    return {"cpu": own_cpu() - cpu0, "prom": proc_cpu(prom_pid) - prom0, "late": late,
            "overran": overran, "read_median": statistics.median(durations),
            "read_max": max(durations)}


def bare_reader(url: str, queries: Sequence[str]) -> Callable[[], object]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)

    def read() -> list[Any]:
        answers = []
        for promql in queries:
            conn.request("GET", "/api/v1/query?" + urllib.parse.urlencode({"query": promql}),
                         headers={"Accept-Encoding": "identity"})
            answers.append(json.loads(conn.getresponse().read())["data"]["result"])
        return answers

    return read


def steady_queries(source: adapter.PrometheusSource, probes_: Sequence[model.Probe]) -> list[str]:
    """The queries ``source`` issues on a steady tick (after priming), for the bare client."""
    from runner.adapters.prometheus import reads

    found: list[str] = []
    for probe in probes_:
        read = source._reads[probe.name]  # the benchmark may look inside
        assert isinstance(read, reads.RatioRead | reads.LatencyRead)
        found.extend(read.queries(3 * TICK))
    return found


def bench_ticks(url: str, pid: int, n: int, ticks: int,
                factory: Callable[[str], Any] | None = None) -> dict[str, Any]:
    chosen = probes(n)
    make = factory or (lambda u: adapter.PrometheusSource(
        model.PrometheusConfig(url=u, timeout=1.0), TICK))
    source = make(url)
    try:
        source.sample(chosen)  # primes
        time.sleep(1.0)
        source.sample(chosen)
        ours = run_ticks(lambda: source.sample(chosen), ticks, pid)
        bare = None
        if factory is None:
            bare = run_ticks(bare_reader(url, steady_queries(source, chosen)), ticks, pid)
    finally:
        source.close()
    return {"probes": n, "ticks": ticks, "gameday": ours, "bare": bare}


PLAN_CHILD = textwrap.dedent("""
    import sys, time
    from runner.adapters.prometheus import connection
    spent = [0.0]
    original = connection.Connection.query
    def timed(self, *args, **kwargs):
        began = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - began
    connection.Connection.query = timed
    from runner.cli import main
    try:
        main.main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {"pandas", "matplotlib", "scipy",
                   "numpy", "kubernetes", "chaoslib", "dateparser", "requests", "tenacity"})
    print("QUERIES", spent[0], "HEAVY", ",".join(heavy) or "-", "EXIT", code, file=sys.stderr)
""")


def bench_plan(runs: int) -> dict[str, Any]:
    """``gameday plan`` on the demo experiment against a real local sandbox, fresh processes.

    Start-up is the child's wall time minus the time it spent inside Prometheus queries
    (measured in the child itself); CPU is the child's user + system time.
    """
    from runner.sandbox import manager

    experiment = ROOT / "experiments" / "local-latency-p99.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp) / "sandbox"
        manager.up(box)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "extensions")])}
        walls, queries, cpus, heavy, code = [], [], [], "", ""
        try:
            time.sleep(3.0)  # a few scrapes of the sandbox's traffic
            for _ in range(runs):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                began = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-c", PLAN_CHILD, "plan", str(experiment), "--sandbox",
                     str(box)], cwd=ROOT, env=env, capture_output=True, text=True,
                    timeout=120, check=False)
                walls.append(time.perf_counter() - began)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
                line = done.stderr.strip().splitlines()[-1].split()
                queries.append(float(line[1]))
                heavy, code = line[3], line[5]
        finally:
            manager.down(box)
        bare = [_bare_python(env) for _ in range(runs)]
    startup = [w - q for w, q in zip(walls, queries, strict=True)]
    return {"wall": statistics.median(walls), "queries": statistics.median(queries),
            "startup": statistics.median(startup), "cpu": statistics.median(cpus),
            "python": statistics.median(bare), "heavy": heavy, "exit": code}


def _bare_python(env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True, timeout=60)
    return time.perf_counter() - began


def start(n: int, seconds: float, run_dir: Path) -> tuple[subprocess.Popen[str],
                                                           launcher.PrometheusServer]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    exporter = subprocess.Popen([sys.executable, "-c", EXPORTER, str(n), str(seconds)],
                                stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    assert exporter.stdout is not None
    target = exporter.stdout.readline().strip()
    server = launcher.start(run_dir, {"bench": [target]}, scrape_interval=1.0)
    launcher.wait_until_up(server.url, ["bench"], timeout=30.0)
    time.sleep(2.0)  # a few scrapes, so the first read has history to prime on
    return exporter, server


def per_probe_tick(seconds: float, n: int, ticks: int) -> float:
    return 1000.0 * seconds / (n * ticks)


def report(result: dict[str, Any]) -> bool:
    n, ticks, ours, bare = result["probes"], result["ticks"], result["gameday"], result["bare"]
    g = per_probe_tick(ours["cpu"], n, ticks)
    gp = per_probe_tick(ours["prom"], n, ticks)
    b = per_probe_tick(bare["cpu"], n, ticks)
    bp = per_probe_tick(bare["prom"], n, ticks)
    ok_cpu, ok_prom = g <= CPU_TARGET_MS, gp <= PROM_RATIO_TARGET * max(bp, 1e-9)
    ok_late = n < 100 or ours["late"] == 0
    print(f"| {n} | gameday | {g:.2f} ms | {gp:.2f} ms | {ours['late']} | {ours['overran']} | "
          f"{ours['read_median'] * 1000:.0f} ms | {ours['read_max'] * 1000:.0f} ms |")
    print(f"| {n} | bare http.client | {b:.2f} ms | {bp:.2f} ms | {bare['late']} | "
          f"{bare['overran']} | {bare['read_median'] * 1000:.0f} ms | "
          f"{bare['read_max'] * 1000:.0f} ms |")
    print(f"|   | ratio gameday/bare | {g / max(b, 1e-9):.2f}x | "
          f"{gp / max(bp, 1e-9):.2f}x | | | | |")
    print(f"  targets at {n} probes: gameday CPU <= {CPU_TARGET_MS} ms: "
          f"{'ok' if ok_cpu else 'MISSED'}; Prometheus CPU <= {PROM_RATIO_TARGET}x bare: "
          f"{'ok' if ok_prom else 'MISSED'}"
          + (f"; no late tick: {'ok' if ok_late else 'MISSED'}" if n >= 100 else ""))
    return ok_cpu and ok_prom and ok_late


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=30)
    parser.add_argument("--probes", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--runs", type=int, default=5, help="gameday plan runs")
    parser.add_argument("--quick", action="store_true", help="10 ticks, 3 plan runs")
    args = parser.parse_args()
    ticks, runs = (10, 3) if args.quick else (args.ticks, args.runs)
    most = max(args.probes)
    seconds = 60 + len(args.probes) * 2.5 * ticks + 15 * runs
    ok = True
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        exporter, server = start(most, seconds, Path(tmp))
        try:
            print(f"## per-tick reads, 1 s tick, {ticks} ticks each (CPU per probe per tick)\n")
            print("| probes | reader | own CPU | Prometheus CPU | late | overran | read median "
                  "| read max |\n|---|---|---|---|---|---|---|---|")
            for n in args.probes:
                result = bench_ticks(server.url, server.pid, n, ticks)
                results.append(result)
                ok = report(result) and ok
        finally:
            launcher.stop(server.pid)
            exporter.kill()
            exporter.wait(timeout=10)
    plan = bench_plan(runs)
    ok_plan = plan["startup"] <= PLAN_TARGET_S
    print(f"\n## gameday plan experiments/local-latency-p99.yaml on a live sandbox "
          f"(median of {runs} fresh processes; exit {plan['exit']})\n")
    print(f"wall {plan['wall']:.3f} s = queries {plan['queries']:.3f} s + start-up "
          f"{plan['startup']:.3f} s (target <= {PLAN_TARGET_S} s: "
          f"{'ok' if ok_plan else 'MISSED'}); CPU {plan['cpu']:.3f} s; python -c pass: "
          f"{plan['python']:.3f} s; heavy modules loaded: {plan['heavy']}")
    print(json.dumps({"ticks": results, "plan": plan}))
    return 0 if ok and ok_plan else 1


if __name__ == "__main__":
    sys.exit(main())
