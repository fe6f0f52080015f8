"""Benchmark: ``gameday validate`` start-up beside ``chaos validate``, measured in one run.

Both validate the same experiment (experiments/local-latency-p99.yaml and its Chaos
Toolkit equivalent benchmarks/data/ctk-latency.json) as fresh processes, alternating, so
machine noise hits both alike. Reports the median wall time of each and the ratio, and
also checks that validating a Kubernetes experiment does not import the kubernetes
client (lazy imports).

    python -m benchmarks.validate_bench [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _time(cmd: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, cwd=ROOT, check=False, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr.decode()}")
    return elapsed


def _script(name: str) -> str:
    """The console script installed beside this interpreter (not a shim on PATH)."""
    beside = Path(sysconfig.get_path("scripts")) / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    gameday = [_script("gameday"), "validate",
               "experiments/local-latency-p99.yaml"]
    chaos = [_script("chaos"), "--no-version-check", "--no-log-file",
             "validate", "benchmarks/data/ctk-latency.json"]
    bare = [sys.executable, "-c", "pass"]
    ours: list[float] = []
    theirs: list[float] = []
    interp: list[float] = []
    for _ in range(args.runs):
        ours.append(_time(gameday))
        theirs.append(_time(chaos))
        interp.append(_time(bare))
    g, c, p = statistics.median(ours), statistics.median(theirs), statistics.median(interp)
    print(f"## validate start-up ({args.runs} alternating runs each, median wall time)\n")
    print("| command | median | min |\n|---|---|---|")
    print(f"| gameday validate | {g * 1000:.0f} ms | {min(ours) * 1000:.0f} ms |")
    print(f"| chaos validate (baseline) | {c * 1000:.0f} ms | {min(theirs) * 1000:.0f} ms |")
    print(f"| python -c pass (the interpreter alone) | {p * 1000:.0f} ms | "
          f"{min(interp) * 1000:.0f} ms |")
    print(f"\nratio chaos/gameday, wall time: {c / g:.1f}x")
    net = (c - p) / max(g - p, 1e-3)
    print(f"ratio chaos/gameday, net of the interpreter's own start-up: {net:.1f}x")
    print(f"target >= 5x (wall time): {'PASS' if c / g >= 5 else 'FAIL'}")
    k8s = ROOT / "experiments" / "k8s-latency.yaml"
    if k8s.exists():
        probe = ("import sys; from runner.model import loader; loader.load(sys.argv[1]); "
                 "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                 "('kubernetes','chaoslib','chaosk8s','numpy','scipy','prometheus_api_client')))")
        out = subprocess.run([sys.executable, "-c", probe, str(k8s)], capture_output=True,
                             text=True, cwd=ROOT, check=True, env=dict(os.environ))
        heavy = out.stdout.strip()
        print(f"\nheavy modules imported while validating {k8s.name}: {heavy}")
        print(f"lazy imports: {'PASS' if heavy == '[]' else 'FAIL'}")


if __name__ == "__main__":
    main()
