"""Validating a Kubernetes experiment never imports the kubernetes client.

``gameday validate`` must start fast and work without a cluster library being loaded;
the Kubernetes adapter and extension import ``kubernetes`` only inside the functions
that talk to a cluster. Checked in a fresh interpreter, through the real CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import json, sys
from runner.cli import main
try:
    main.main(["validate", *sys.argv[1:]])
except SystemExit as exit:
    code = exit.code
import runner.adapters.k8s.platform, runner.adapters.k8s.manifests, runner.cli.k8s
import gameday_k8s.chaosmesh, gameday_k8s.selectors, gameday_k8s.workloads
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("kubernetes", "chaosk8s"))
print(json.dumps({"code": code, "heavy": heavy}))
"""


def test_validate_on_kubernetes_experiments_imports_no_kubernetes_client() -> None:
    files = [str(ROOT / "experiments" / n) for n in ("k8s-pod-kill.yaml", "k8s-latency.yaml")]
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "extensions")])}
    done = subprocess.run([sys.executable, "-c", PROGRAM, *files], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "heavy": []}
