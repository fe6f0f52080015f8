"""Benchmark: planning a pod kill over 10 000 pods, and validation without the client.

1. ``KubernetesPlatform.plan`` over 10 000 pods matching the selector, in the emulated
   API server over real HTTP: list (paged), re-check the selector, keep Running+Ready,
   resolve owners, seeded choice, read the owning Deployment. Target: <= 1 s.
   Baseline in the same run: the same list deserialised the common way, into the
   client's ``V1Pod`` models (what chaosk8s and most tools do), so the ratio shows
   what reading raw JSON buys.
2. ``gameday validate`` on the Kubernetes examples in a fresh interpreter: the
   kubernetes client must not be in ``sys.modules``. Baselines in the same run: a bare
   ``python -c pass`` and ``import kubernetes.client`` (what validation would pay if it
   imported the client).

    python -m benchmarks.k8s_bench [--pods 10000] [--runs 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "extensions") not in sys.path:  # gameday_k8s when not pip-installed
    sys.path.insert(0, str(ROOT / "extensions"))

from gameday_k8s import client as kclient  # noqa: E402
from gameday_k8s import workloads  # noqa: E402
from runner.adapters.k8s import platform  # noqa: E402
from tests.k8s import builders  # noqa: E402
from tests.k8s.emulator import EmulatedCluster  # noqa: E402

TARGET_SECONDS = 1.0
VALIDATE = """
import sys
from runner.cli import main
try:
    main.main(["validate", *sys.argv[1:]])
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("kubernetes", "chaosk8s"))
print("HEAVY", len(heavy))
"""


def _timed(fn: object, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return times


def bench_plan(pods: int, runs: int) -> dict[str, float]:
    cluster = EmulatedCluster(controller=False).start()
    try:
        cluster.add_deployment("shop", "checkout", pods, {"app": "checkout"})
        cluster.add_deployment("shop", "cart", 50, {"app": "cart"})  # must be filtered out
        with tempfile.TemporaryDirectory() as tmp:
            config = str(cluster.kubeconfig(Path(tmp) / "kubeconfig"))
            experiment = builders.experiment(builders.kill(count=3))
            built = platform.build_platform(experiment, kubeconfig=config)
            built.plan(experiment, "warm-up", 0)  # client, connection pool, imports
            plan_times = _timed(lambda: built.plan(experiment, "bench", 7), runs)
            [fault] = built.plan(experiment, "bench", 7)
            assert len(fault.targets) == 3
            api = kclient.api_client(config, None)
            raw_times = _timed(lambda: workloads.list_pods(api, "shop", "app=checkout"), runs)

            from kubernetes import client

            core = client.CoreV1Api(api)
            typed_times = _timed(lambda: core.list_namespaced_pod(
                "shop", label_selector="app=checkout", _request_timeout=kclient.TIMEOUT),
                max(1, runs // 2))
            kclient.forget()
    finally:
        cluster.stop()
    return {"plan": statistics.median(plan_times), "list_raw": statistics.median(raw_times),
            "list_typed": statistics.median(typed_times)}


def _run_python(code: str, *args: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "extensions")])}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120, check=True)
    return time.perf_counter() - start, done.stdout


def bench_validate(runs: int) -> dict[str, float]:
    files = [str(ROOT / "experiments" / n) for n in ("k8s-pod-kill.yaml", "k8s-latency.yaml")]
    validate, heavy = [], -1
    for _ in range(runs):
        seconds, out = _run_python(VALIDATE, *files)
        validate.append(seconds)
        heavy = int(out.split("HEAVY")[-1])
    bare = [_run_python("pass")[0] for _ in range(runs)]
    client = [_run_python("import kubernetes.client")[0] for _ in range(runs)]
    return {"validate": statistics.median(validate), "bare": statistics.median(bare),
            "import_client": statistics.median(client), "heavy_modules": float(heavy)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    plan = bench_plan(args.pods, runs)
    verdict = "ok" if plan["plan"] <= TARGET_SECONDS else "MISSED"
    print(f"pod-kill plan over {args.pods} pods (median of {runs}): {plan['plan']:.3f} s "
          f"(target <= {TARGET_SECONDS:g} s: {verdict})")
    print(f"  list as raw JSON (ours):        {plan['list_raw']:.3f} s")
    print(f"  list as V1Pod models (baseline): {plan['list_typed']:.3f} s")
    print(f"  ratio raw/typed list: {plan['list_raw'] / plan['list_typed']:.2f}; "
          f"plan/typed list: {plan['plan'] / plan['list_typed']:.2f}")
    valid = bench_validate(runs)
    print(f"gameday validate (2 Kubernetes experiments): {valid['validate']:.3f} s; "
          f"kubernetes/chaosk8s modules imported: {int(valid['heavy_modules'])}")
    print(f"  python -c pass (baseline):        {valid['bare']:.3f} s")
    print(f"  python -c 'import kubernetes.client': {valid['import_client']:.3f} s")
    print(f"  ratio validate/bare: {valid['validate'] / valid['bare']:.2f}; "
          f"import-client/bare: {valid['import_client'] / valid['bare']:.2f}")
    print(json.dumps({"plan": plan, "validate": valid}))
    ok = plan["plan"] <= TARGET_SECONDS and valid["heavy_modules"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
