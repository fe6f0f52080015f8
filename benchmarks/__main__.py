"""Run every gameday benchmark, one after another: ``python -m benchmarks [--quick]``.

Each benchmark is its own module (run as its own process so imports and caches do not
leak between them) and prints its own ratios against a baseline measured in that run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

BENCHMARKS: tuple[tuple[str, list[str], list[str]], ...] = (
    # module, full-run args, --quick args
    ("benchmarks.validate_bench", ["--runs", "15"], ["--runs", "5"]),
    ("benchmarks.revert_bench", ["--runs", "20"], ["--runs", "20"]),
    ("benchmarks.guard_bench", ["--kills", "20"], ["--kills", "5"]),
    ("benchmarks.journal_bench", ["--events", "2000"], ["--events", "500"]),
    ("benchmarks.k8s_bench", [], ["--quick"]),
    ("benchmarks.stats_bench", [], ["--quick"]),
    ("benchmarks.overhead_bench", ["--ticks", "300", "--repeat", "3"],
     ["--ticks", "60", "--repeat", "1"]),
    ("benchmarks.report_bench", [], ["--quick"]),
    ("benchmarks.replay_bench", [], ["--quick"]),
    ("benchmarks.tick_bench", [], ["--quick"]),
    ("benchmarks.ctk_bench", ["--runs", "7"], ["--runs", "3"]),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (minutes, not tens)")
    parser.add_argument("only", nargs="*", help="run only these (e.g. revert_bench)")
    args = parser.parse_args()
    failed = 0
    for module, full, quick in BENCHMARKS:
        if args.only and module.split(".")[-1] not in args.only:
            continue
        print(f"\n# {module}\n", flush=True)
        done = subprocess.run([sys.executable, "-m", module, *(quick if args.quick else full)],
                              check=False)
        failed += done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
