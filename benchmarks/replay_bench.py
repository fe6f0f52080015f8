"""Replay benchmark: a week (and 1 and 14 days) at a 15 s tick, 3 probes, real Prometheus.

``python -m benchmarks.replay_bench [--days 1 7 14] [--quick]``

Generates a service's history (tests/replay/streams: diurnal traffic, retry storms, a
reset, an incident) for the longest range, backfills it with ``promtool tsdb
create-blocks-from openmetrics`` into a real Prometheus, then runs ``gameday replay
--json`` on the last 1, 7, 14 days, each in its own process, and reports per range:
wall time, CPU time and peak RSS of that process, and the split between fetching the
history and deciding the windows (both from the replay's own JSON). Targets (the issue):
7 days in <= 10 s wall and <= 500 MB RSS. The machine is shared: CPU time is given
beside wall time, as wall time on a loaded machine says more about the load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runner.replay import windows
from runner.sandbox import prometheus as launcher
from tests.replay import backfill, streams


def _replay(exp: Path, start: float, end: float, out: Path) -> dict[str, float]:
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "runner.cli.main", "replay", str(exp), "--from",
         windows.iso(start), "--to", windows.iso(end), "--json", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    stdout = proc.stdout.read()  # --json prints one document; stderr is not kept
    _pid, status, usage = os.wait4(proc.pid, 0)  # reaped here, for the child's own rusage
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"replay failed with exit code {proc.returncode}")
    data = json.loads(stdout)
    rss = usage.ru_maxrss / 1024
    return {"wall": wall, "rss_mb": rss, "cpu": usage.ru_utime + usage.ru_stime,
            "fetch": data["fetched"]["seconds"],
            "decide": data["decide_seconds"], "windows": len(data["windows"]),
            "points": data["fetched"]["points"], "queries": data["fetched"]["queries"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, nargs="*", default=[1.0, 7.0, 14.0])
    parser.add_argument("--quick", action="store_true", help="1 and 7 days only")
    args = parser.parse_args()
    days = [1.0, 7.0] if args.quick else sorted(args.days)
    root = Path(tempfile.mkdtemp(prefix="gameday-replay-bench-"))
    end = time.time() - 600
    began = time.perf_counter()
    week = streams.generate(end=end, days=max(days), incident_day=max(days) - 1.6)
    text = backfill.write_openmetrics(root / "history.om", week.streams)
    tsdb = backfill.create_blocks(text, root / "tsdb")
    text.unlink()
    print(f"backfilled {max(days):g} days ({week.truth.steps} ticks x 6 series) in "
          f"{time.perf_counter() - began:.1f} s", flush=True)
    server = backfill.serve(tsdb, root / "run")
    try:
        exp = root / "experiment.yaml"
        exp.write_text(streams.experiment(server.url), encoding="utf-8")
        print("| range | windows | points | wall s | fetch s | decide s | CPU-bound rest s "
              "| peak RSS MB |")
        print("|---|---|---|---|---|---|---|---|")
        last = week.truth.time(week.truth.steps - 1)
        for d in days:
            row = _replay(exp, last - d * 86_400, last, root / f"out-{d:g}")
            cpu = row["cpu"]
            rest = row["wall"] - row["fetch"] - row["decide"]
            print(f"| {d:g} d | {row['windows']:.0f} | {row['points']:.0f} | {row['wall']:.2f} "
                  f"(CPU {cpu:.2f}) | {row['fetch']:.2f} | {row['decide']:.2f} | {rest:.2f} "
                  f"| {row['rss_mb']:.0f} |", flush=True)
    finally:
        launcher.stop(server.pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
