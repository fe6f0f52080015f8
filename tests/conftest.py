"""Shared test set-up: the Prometheus and sandbox fixtures, a private gameday home per
session, and the groups that keep costly session fixtures on one xdist worker.

``GAMEDAY_HOME`` (locks, run records, the stop switch) points into a temporary directory
for the whole session, so tests never touch the developer's ``~/.gameday`` and the
subprocesses they start (which inherit the environment) share that private home.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.fixtures.prometheus", "tests.fixtures.sandbox"]


@pytest.fixture(scope="session", autouse=True)
def private_gameday_home() -> Iterator[str]:
    saved = {k: os.environ.get(k) for k in ("GAMEDAY_HOME", "GAMEDAY_LOCKS")}
    home = tempfile.mkdtemp(prefix="gameday-home-")
    os.environ["GAMEDAY_HOME"] = home
    os.environ.pop("GAMEDAY_LOCKS", None)
    try:
        yield home
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(home, ignore_errors=True)


#: Test folders whose session fixtures are costly (a backfilled week of history, a slow
#: sandbox): under ``pytest -n`` their tests stay on one worker (``--dist loadgroup``), so
#: each fixture is built once, not once per worker.
GROUPED = ("replay", "day", "guard")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.parts
        if "tests" in parts:
            top = parts[parts.index("tests") + 1] if len(parts) > parts.index("tests") + 1 \
                else ""
            if top in GROUPED:
                item.add_marker(pytest.mark.xdist_group(top))
