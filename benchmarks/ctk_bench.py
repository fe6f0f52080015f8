"""Benchmark: gameday on Chaos Toolkit files beside ``chaos`` itself, measured in one run.

1. ``gameday validate`` vs ``chaos validate`` on the same Chaos Toolkit file
   (tests/ctk/corpus/03-break-and-fix.json, and the sandbox example), fresh processes,
   alternating (paired), so machine noise hits both alike: gameday must stay faster.
2. The overhead gameday adds around the same activities: ``gameday run`` vs ``chaos run``
   on the same file without Prometheus (a loopback stub service; a pause-free copy of
   corpus 01 and 09), paired, wall and CPU time (children's user+system) per run.
   gameday's extra work: the journal (fsynced per event), the lock and lease, the
   tolerance checks during the method, the reports (Markdown, HTML, JUnit, CTK journal).

    python -m benchmarks.ctk_bench [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ctk import stub  # noqa: E402 - the loopback stub the parity suite uses

VALIDATE = ("tests/ctk/corpus/03-break-and-fix.json", "experiments/ctk/sandbox-replica-kill.json")
RUN = ("tests/ctk/corpus/01-http-health.json", "tests/ctk/corpus/09-ref.json")


def _script(name: str) -> str:
    beside = Path(sysconfig.get_path("scripts")) / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "extensions")])
    env.update(extra)
    return env


def _measure(cmd: list[str], env: dict[str, str], cwd: Path, ok: tuple[int, ...] = (0,)
             ) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, cwd=cwd, env=env, check=False,
                          timeout=300, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n"
                         f"{done.stdout.decode()[-2000:]}\n{done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _row(name: str, values: list[tuple[float, float]]) -> tuple[float, float]:
    wall = statistics.median(v[0] for v in values)
    cpu = statistics.median(v[1] for v in values)
    print(f"| {name} | {wall * 1000:.0f} ms | {min(v[0] for v in values) * 1000:.0f} ms | "
          f"{cpu * 1000:.0f} ms |")
    return wall, cpu


def validate(runs: int) -> bool:
    print(f"## validate a Chaos Toolkit file ({runs} paired runs each, median)\n")
    print("| command | median wall | min wall | median CPU |\n|---|---|---|---|")
    passed = True
    env = _env({"CTK_BASE": "http://127.0.0.1:9/x"})
    for path in VALIDATE:
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(_measure([_script("gameday"), "validate", path], env, ROOT))
            theirs.append(_measure([_script("chaos"), "--no-version-check", "--no-log-file",
                                    "validate", path], env, ROOT))
        g = _row(f"gameday validate {Path(path).name}", ours)
        c = _row(f"chaos validate {Path(path).name} (baseline)", theirs)
        faster = g[0] < c[0]
        passed = passed and faster
        print(f"| ratio chaos/gameday | {c[0] / g[0]:.1f}x wall | | {c[1] / g[1]:.1f}x CPU |")
    print(f"\ngameday validate faster than chaos validate: {'PASS' if passed else 'FAIL'}\n")
    return passed


def overhead(runs: int) -> None:
    server = stub.serve()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"## run overhead around the same activities ({runs} paired runs each, median)\n")
    print("| command | median wall | min wall | median CPU |\n|---|---|---|---|")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for path in RUN:
                ours, theirs = [], []
                for i in range(runs):
                    env = _env({"CTK_BASE": f"{base}/bench{i}", "GAMEDAY_HOME": str(root / "h")})
                    ours.append(_measure([_script("gameday"), "run", str(ROOT / path),
                                          "--journal-dir", str(root / "r")], env, root))
                    theirs.append(_measure([_script("chaos"), "--no-version-check",
                                            "--no-log-file", "run", str(ROOT / path),
                                            "--journal-path", str(root / "j.json")], env, root))
                g = _row(f"gameday run {Path(path).name}", ours)
                c = _row(f"chaos run {Path(path).name} (baseline)", theirs)
                print(f"| overhead gameday - chaos | {(g[0] - c[0]) * 1000:+.0f} ms wall | | "
                      f"{(g[1] - c[1]) * 1000:+.0f} ms CPU |")
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ok = validate(args.runs)
    overhead(args.runs)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
