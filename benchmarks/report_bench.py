"""Benchmark: ``gameday report`` on big journals (10 000 ticks × 20 and × 100 probes).

The journals are written by the real ``JournalWriter`` (hash chain, one event per line)
in the shapes the engine journals: a run-started event with the experiment document, a
baseline, a calibration, two faults, a long fault window that ends in an abort, the
reverts, a recovery watch and the verdict. Ratio, latency and guardrail probes are mixed
(one in five is a guardrail); the numbers come from a seeded generator and a plain-math
betting e-process (the report does not care whether the statistics are the shipped ones,
only about the shapes and the volume).

Each measurement runs ``gameday report`` as a fresh process and takes its wall time and
its peak RSS from ``os.wait4`` (the kernel's own figure for that child). In the same run,
two baselines on the same journal: a bare ``json.loads`` of every line kept in a list
(what any reader that holds the events pays), and the same read without keeping them.

    python -m benchmarks.report_bench [--quick] [--ticks 10000] [--probes 20 100]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.journal import events, writer

TARGETS = {20: (3.0, 300.0), 100: (10.0, 1000.0)}  # probes -> (seconds, MB RSS)
_GAMEDAY = "import sys; from runner.cli import entry; sys.argv[0] = 'gameday'; entry.main()"
_BARE_KEPT = ("import json,sys\n"
              "with open(sys.argv[1], 'rb') as fh:\n"
              "    kept = [json.loads(line) for line in fh]\n")
_BARE_STREAM = ("import json,sys\n"
                "with open(sys.argv[1], 'rb') as fh:\n"
                "    for line in fh: json.loads(line)\n")


def _kind(index: int) -> str:
    return "guardrail" if index % 5 == 4 else ("latency" if index % 5 in {1, 3} else "ratio")


def _name(index: int) -> str:
    kind = _kind(index)
    label = {"guardrail": "ready replicas", "latency": "p99 latency", "ratio": "error ratio"}
    return f"svc-{index:03d} {label[kind]}"


def _document(probes: int) -> dict[str, Any]:
    specs: list[dict[str, Any]] = []
    for i in range(probes):
        kind = _kind(i)
        if kind == "guardrail":
            specs.append({"name": _name(i), "gauge": f"ready{{svc=\"{i}\"}}", "min": 2})
        elif kind == "latency":
            specs.append({"name": _name(i), "latency": {"histogram": "req_seconds"},
                          "quantile": 0.99, "max": "300ms"})
        else:
            specs.append({"name": _name(i), "ratio": {"errors": "e", "total": "t"}, "max": "1%"})
    return {"version": 1, "title": f"report benchmark, {probes} probes",
            "steady_state": {"alpha": 0.05, "probes": specs}}


class _Bets:
    """A plain-math betting e-process per probe (c = 0.5), enough for realistic shapes."""

    def __init__(self, names: list[str]) -> None:
        self.log_e = dict.fromkeys(names, 0.0)
        self.max_log_e = dict.fromkeys(names, 0.0)

    def step(self, name: str, n: float, e: float, p0: float) -> dict[str, Any]:
        factor = math.log(max(1e-12, 1 + (0.5 / p0) * (e / n - p0))) if n else 0.0
        self.log_e[name] = max(-10.0, self.log_e[name] + factor)  # floored: shapes only
        self.max_log_e[name] = max(self.max_log_e[name], self.log_e[name])
        return {"name": name, "n": n, "e": e, "log_factor": factor, "log_e": self.log_e[name],
                "p_value": min(1.0, math.exp(-self.max_log_e[name])),
                "significant": self.max_log_e[name] >= math.log(20 * len(self.log_e))}


def _tick_payload(rng: random.Random, names: list[str], bets: _Bets | None, k: int,
                  bad: bool) -> dict[str, Any]:
    samples: dict[str, Any] = {}
    guards: dict[str, Any] = {}
    steps: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        if _kind(i) == "guardrail":
            value = 3.0 if rng.random() > 0.01 else 2.0
            samples[name] = {"value": value}
            guards[name] = {"value": value, "in_bounds": value >= 2, "fired": False}
            continue
        n = float(rng.randint(150, 250))
        rate = 0.04 if bad and i == 0 else 0.003
        e = float(max(0, round(rng.gauss(n * rate, math.sqrt(n * rate)))))
        samples[name] = {"n": n, "e": e}
        if bets is not None:
            steps.append(bets.step(name, n, e, 0.01))
    out: dict[str, Any] = {"samples": samples, "guardrails": guards, "read_errors": []}
    if bets is not None:
        top = max(s["log_e"] for s in steps)
        total = top + math.log(sum(math.exp(s["log_e"] - top) for s in steps) / len(steps))
        out["stats"] = {"tick": k, "probes": steps, "log_e": total, "max_log_e": total,
                        "threshold_log": math.log(20), "reject": total >= math.log(20),
                        "attribution": [s["name"] for s in steps if s["significant"]],
                        "leading": max(steps, key=lambda s: s["log_e"])["name"]}
    return out


def generate(path: Path, *, ticks: int, probes: int, seed: int = 1) -> int:
    """Write a journal of ``ticks`` ticks × ``probes`` probes; return its size in bytes."""
    rng = random.Random(seed)
    now = [1_790_000_000.0]
    names = [_name(i) for i in range(probes)]
    stat = [n for i, n in enumerate(names) if _kind(i) != "guardrail"]
    baseline, recovery = max(3, ticks // 10), max(3, ticks // 10)
    watch = ticks - baseline - recovery
    with writer.JournalWriter(path, now=lambda: now[0]) as jw:
        jw.append(events.RUN_STARTED, run_id="bench-run", title=f"report benchmark, {probes}",
                  owner="bench", source="bench.yaml", experiment=_document(probes),
                  experiment_sha256="ab" * 32, platform="local", seed=seed,
                  versions={"gameday": "bench"}, tick=1.0, duration=float(watch), alpha=0.05)
        jw.append(events.PHASE, phase="preflight")
        jw.append(events.PREFLIGHT, problems=[], warnings=[])
        jw.append(events.PHASE, phase="baseline", ticks=baseline)
        for k in range(1, baseline + 1):
            now[0] += 1.0
            jw.append(events.TICK, phase="baseline", tick=k,
                      **_tick_payload(rng, names, None, k, bad=False))
        jw.append(events.CALIBRATION, alpha=0.05, alpha_test=0.05, threshold_log=math.log(20),
                  probes=[{"name": n, "weight": 1 / len(stat), "p0": 0.01, "mode_used": "default",
                           "fallback_reason": None, "upper_bound": 0.004, "baseline_ticks":
                           baseline, "earliest_abort_ticks": 9} for n in stat],
                  baseline_holds=True, problems=[], warnings=[])
        jw.append(events.PHASE, phase="inject", faults=2)
        for index, fault in enumerate(("kill one replica", "latency 400ms")):
            jw.append(events.FAULT_INTENT, fault=index, name=fault, kind="LatencyFault",
                      targets=[f"replica-{index}"], action={"name": f"inject-{index}"},
                      revert={"name": f"revert-{index}"}, expires_at=None)
            jw.append(events.FAULT_RESULT, fault=index, name=fault, ok=True, seconds=0.01,
                      result=None)
        jw.append(events.PHASE, phase="watch", ticks=watch, duration=float(watch))
        bets = _Bets(stat)
        for k in range(1, watch + 1):
            now[0] += 1.0
            jw.append(events.TICK, phase="watch", tick=k, of=watch, alerts=[],
                      **_tick_payload(rng, names, bets, k, bad=k > watch - 40))
        jw.append(events.ABORT, kind="steady-state", reason="the sequential test rejected",
                  evidence={}, tick=watch)
        jw.append(events.PHASE, phase="revert")
        for index, fault in ((1, "latency 400ms"), (0, "kill one replica")):
            jw.append(events.REVERT_RESULT, fault=index, name=fault, ok=True, attempts=1,
                      seconds=0.004, error=None, by="run")
        jw.append(events.PHASE, phase="recovery", within=float(recovery))
        bets = _Bets(stat)
        for k in range(1, recovery + 1):
            now[0] += 1.0
            jw.append(events.TICK, phase="recovery", tick=k, guardrails_ok=True, settled=k,
                      **_tick_payload(rng, names, bets, k, bad=False))
        jw.append(events.RECOVERY, recovered=True, seconds=float(recovery))
        jw.append(events.VERDICT, verdict="broken", exit_code=1, reason="aborted",
                  faults_injected=2, reverts_failed=0)
    return path.stat().st_size


def measure(cmd: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB, CPU seconds) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode() if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({child.returncode}):\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None  # fsync is free there
    path = Path(tempfile.mkdtemp(prefix="gameday-report-bench-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10_000)
    parser.add_argument("--probes", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--runs", type=int, default=3, help="report runs per size (best kept)")
    parser.add_argument("--quick", action="store_true", help="one run per size")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    rows: list[str] = []
    missed = 0
    with _scratch() as scratch:
        for probes in args.probes:
            journal = scratch / f"p{probes}" / "journal.jsonl"
            started = time.perf_counter()
            size = generate(journal, ticks=args.ticks, probes=probes)
            print(f"generated {args.ticks} ticks × {probes} probes: {size / 1e6:.0f} MB "
                  f"in {time.perf_counter() - started:.1f} s", flush=True)
            out = journal.parent / "out"
            cmd = [sys.executable, "-c", _GAMEDAY, "report", str(journal), "--out", str(out)]
            ours = min(measure(cmd) for _ in range(runs))
            if not (out / "report.html").is_file():
                raise SystemExit(f"gameday report wrote no report.html into {out}")
            kept = measure([sys.executable, "-c", _BARE_KEPT, str(journal)])
            stream = measure([sys.executable, "-c", _BARE_STREAM, str(journal)])
            target = TARGETS.get(probes)
            met = target is not None and ours[0] <= target[0] and ours[1] <= target[1]
            missed += target is not None and not met
            verdict = ("-" if target is None else
                       f"≤ {target[0]:g} s, ≤ {target[1]:g} MB — "
                       + ("**met**" if met else "**not met**"))
            rows.append(f"| {args.ticks} × {probes} ({size / 1e6:.0f} MB) | {ours[0]:.2f} s "
                        f"(CPU {ours[2]:.2f} s), {ours[1]:.0f} MB | json.loads kept: "
                        f"{kept[0]:.2f} s, {kept[1]:.0f} MB; streamed: {stream[0]:.2f} s, "
                        f"{stream[1]:.0f} MB | {verdict} |")
            shutil.rmtree(journal.parent)
    print("\n## gameday report on big journals (best of "
          f"{runs}; wall time, CPU time and peak RSS of the process)\n")
    print("| ticks × probes | gameday report | bare json read of the same journal | target |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
