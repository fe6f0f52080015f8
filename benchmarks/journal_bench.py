"""Benchmark: journal append with fsync, plain sha256 chain vs keyed HMAC chain, in one run.

Every mode appends the same realistic watch-tick event (three probes with samples and
test statistics, about 1.3 KB on disk) to a fresh journal in the same directory, and
the modes take turns in rounds so that disk and CPU noise fall on all of them alike:

- ``baseline``: the bare floor, ``os.write`` of a pre-serialised line plus ``os.fsync``
  (no envelope, no redaction, no chain): what any durable journal pays;
- ``sha256``: ``JournalWriter.append`` as a run uses it (plain chain);
- ``hmac-sha256``: the same with a journal key;
- ``hmac + scrub``: the keyed chain and three secret values scrubbed from every string;
- ``cpu only``: sha256 and HMAC appends with fsync stubbed out, so the chain's own cost
  shows instead of drowning in the disk's.

It prints events per second, p50/p99/max append latency, the ratio to the baseline, and
the cost of reading and verifying the written journal (``reader.read`` + ``verify``).

    python -m benchmarks.journal_bench [--events 2000] [--rounds 5] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner.journal import disk, reader, writer

KEY = bytes.fromhex("9f" * 32)
SECRETS = ("hunter2-password", "tok_live_0123456789", "AKIAEXAMPLEKEY123")


def _tick(k: int) -> dict[str, Any]:
    probes = ("checkout error ratio", "checkout p99", "cart ready replicas")
    return {
        "phase": "watch", "tick": k, "of": 40,
        "samples": {probes[0]: {"n": 1500.0 + k, "e": 3.0}, probes[1]: {"n": 1500.0, "e": 7.0},
                    probes[2]: {"value": 3.0}},
        "stats": {"reject": False, "max_log_e": 0.41, "leading": probes[0], "probes": [
            {"name": p, "log_e": 0.1 * i, "log_factor": 0.01, "p_value": 0.9, "weight": 0.5,
             "threshold": 2.99, "mode": "default"} for i, p in enumerate(probes[:2])]},
        "guardrails": {probes[2]: {"value": 3.0, "in_bounds": True, "fired": False}},
        "alerts": [], "read_errors": [],
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Baseline:
    """The floor: one write and one fsync per line, nothing else."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)

    def append(self, k: int) -> None:
        line = json.dumps({"seq": k, "type": "tick", **_tick(k)}, separators=(",", ":"))
        os.write(self.fd, line.encode() + b"\n")
        os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)


class Gameday:
    def __init__(self, path: Path, **options: Any) -> None:
        self.jw = writer.JournalWriter(path, now=time.time, **options)

    def append(self, k: int) -> None:
        self.jw.append("tick", **_tick(k))

    def close(self) -> None:
        self.jw.close(seal=True)


class NoFsync(disk.Ops):
    """For the CPU-only rows: the same appends without waiting for the disk."""

    def fsync(self, fd: int) -> None:
        return None


MODES: dict[str, Callable[[Path], Baseline | Gameday]] = {
    "baseline (write + fsync)": Baseline,
    "sha256 chain": Gameday,
    "hmac-sha256 chain": lambda p: Gameday(p, key=KEY),
    "hmac + scrub 3 secrets": lambda p: Gameday(p, key=KEY, scrub=SECRETS),
    "cpu only: sha256 (no fsync)": lambda p: Gameday(p, ops=NoFsync()),
    "cpu only: hmac-sha256 (no fsync)": lambda p: Gameday(p, key=KEY, ops=NoFsync()),
}


def measure(work: Path, events: int, rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    per_round = max(1, events // rounds)
    for r in range(rounds):
        for mode, build in MODES.items():
            target = build(work / f"{mode.split()[0].strip(':')}-{r}-{len(samples[mode])}.jsonl")
            try:
                for k in range(per_round):
                    started = time.perf_counter()
                    target.append(k)
                    samples[mode].append(time.perf_counter() - started)
            finally:
                target.close()
    return samples


def verify_cost(work: Path) -> list[tuple[str, int, float]]:
    rows = []
    for name, key in (("sha256", None), ("hmac-sha256", KEY)):
        path = next(work.glob(f"{name}-0-*.jsonl"))
        started = time.perf_counter()
        read = reader.read(path, key=key)
        problems = reader.verify(read)
        elapsed = time.perf_counter() - started
        if problems:
            raise SystemExit(f"{path}: {problems}")
        rows.append((name, len(read.events), elapsed))
    return rows


def _filesystem(path: Path) -> str:
    done = subprocess.run(["df", "--output=fstype", str(path)], capture_output=True,
                          text=True, check=False, timeout=10)
    lines = done.stdout.split()
    return lines[-1] if done.returncode == 0 and len(lines) > 1 else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="appends per mode")
    parser.add_argument("--rounds", type=int, default=5, help="turns the modes take")
    parser.add_argument("--dir", type=Path, default=None, help="where the journals go "
                        "(default: a temporary directory; choose the disk your runs use)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gameday-journal-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        samples = measure(work, args.events, args.rounds)
        data = next(work.glob("sha256-0-*.jsonl")).read_bytes()
        size = len(data) / max(1, data.count(b"\n"))
        verified = verify_cost(work)
        fstype = _filesystem(work)
    base = statistics.median(samples["baseline (write + fsync)"])
    count = len(samples["sha256 chain"])
    print(f"## journal append with fsync ({count} appends per mode in {args.rounds} rounds, "
          f"{fstype}, ~{size:.0f} bytes per line)\n")
    print("| mode | events/s | p50 | p99 | max | p50 / baseline |\n|---|---|---|---|---|---|")
    for mode, values in samples.items():
        p50 = statistics.median(values)
        print(f"| {mode} | {len(values) / sum(values):,.0f} | {p50 * 1e3:.3f} ms | "
              f"{_percentile(values, 0.99) * 1e3:.3f} ms | {max(values) * 1e3:.3f} ms | "
              f"{p50 / base:.2f}x |")
    keyed = statistics.median(samples["cpu only: hmac-sha256 (no fsync)"])
    plain = statistics.median(samples["cpu only: sha256 (no fsync)"])
    print(f"\nkeyed chain vs plain sha256, CPU only (p50): {keyed / plain:.2f}x "
          f"({(keyed - plain) * 1e6:+.1f} us per append); with fsync the disk dominates")
    print("\n| read + verify | events | time | events/s |\n|---|---|---|---|")
    for name, events, elapsed in verified:
        print(f"| {name} | {events} | {elapsed * 1e3:.1f} ms | {events / elapsed:,.0f} |")


if __name__ == "__main__":
    main()
