"""Reaching a Prometheus we started: its login and CA, readiness, and targets being up.

Split from the launcher (``runner.sandbox.prometheus``, which re-exports these names):
starting and stopping a process is one job, talking to the server it became another.
Decision: these polls use the stdlib's ``urllib`` with an explicit ``Access`` (the CA
that signed a test server's certificate, the basic-auth login), so the same readiness
and ``up == 1`` waits work against a Prometheus started with ``--web.config.file``.
Every poll is bounded in time; every request has its own short timeout.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runner import errors


@dataclasses.dataclass(frozen=True)
class Access:
    """How to reach a secured Prometheus: the CA that signed its certificate, a login."""

    ca_file: Path | None = None
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)

    def open(self, url: str, timeout: float) -> Any:
        """``urllib.request.urlopen`` with this CA and login (a loopback URL we started)."""
        request = urllib.request.Request(url)  # noqa: S310 - loopback URLs we built ourselves
        if self.username is not None:
            pair = f"{self.username}:{self.password or ''}".encode()
            request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
        context = None
        if url.startswith("https://"):
            context = ssl.create_default_context(
                cafile=str(self.ca_file) if self.ca_file else None)
        return urllib.request.urlopen(request, timeout=timeout, context=context)  # noqa: S310


OPEN = Access()


def ready(url: str, access: Access, timeout: float) -> bool:
    try:
        with access.open(f"{url}/-/ready", timeout) as resp:
            return 200 <= int(resp.status) < 300
    except (OSError, ValueError):
        return False


def query(url: str, promql: str, timeout: float,
           access: Access = OPEN) -> list[dict[str, object]]:
    full = f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with access.open(full, timeout) as resp:
        body = json.load(resp)
    result: list[dict[str, object]] = body.get("data", {}).get("result", [])
    return result


def target_errors(url: str, timeout: float, access: Access = OPEN) -> str:
    try:
        with access.open(f"{url}/api/v1/targets", timeout) as resp:
            body = json.load(resp)
    except (OSError, ValueError):
        return "(targets unavailable)"
    found = [
        f"{t.get('scrapeUrl')}: {t.get('health')} {t.get('lastError') or ''}".strip()
        for t in body.get("data", {}).get("activeTargets", [])
    ]
    return "; ".join(found) or "(no active targets yet)"


def _active_targets(url: str, access: Access) -> dict[str, int]:
    """How many active targets each job has (known from the config before any scrape)."""
    with access.open(f"{url}/api/v1/targets?state=active", 2.0) as resp:
        body = json.load(resp)
    counts: dict[str, int] = {}
    for target in body.get("data", {}).get("activeTargets", []):
        job = str(target.get("labels", {}).get("job", ""))
        counts[job] = counts.get(job, 0) + 1
    return counts


def wait_until_up(url: str, jobs: Sequence[str], *, timeout: float = 30.0,
                  access: Access = OPEN) -> None:
    """Poll until every target of each job in ``jobs`` has ``up == 1`` (bounded).

    Every target, not only those scraped so far: a job's targets get their first scrape
    at different moments of the interval, so ``up`` is compared with the job's active
    targets, not just checked on the series that exist.
    """
    deadline = time.monotonic() + timeout
    pending = list(jobs)
    while True:
        still: list[str] = []
        try:
            expected = _active_targets(url, access)
        except (OSError, ValueError):
            expected = {}
        for job in pending:
            try:
                series = query(url, f'up{{job="{job}"}}', timeout=2.0, access=access)
            except (OSError, ValueError):
                still.append(job)
                continue
            values = [float(str(s["value"][1])) for s in series]  # type: ignore[index]
            if not values or min(values) < 1 or len(values) < expected.get(job, 1):
                still.append(job)
        pending = still
        if not pending:
            return
        if time.monotonic() + 0.2 > deadline:
            break
        time.sleep(0.2)
    raise errors.PlatformError(
        f"Prometheus at {url} does not see job(s) {', '.join(pending)} up after {timeout:g} s. "
        f"Targets: {target_errors(url, 2.0, access)}. Check that the exporters listen where the "
        "config says."
    )
