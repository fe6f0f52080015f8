"""Seeing the sandbox's faults take effect and go away (for the local platform's checks).

Decisions:
- Latency is *measured*, not assumed: a few concurrent timed requests through the proxy
  against the same number straight to a replica; the added delay is the difference of
  the medians. Peers' users report 2–5× the requested latency; gameday journals what it
  saw beside what it asked for.
- A pod kill took effect when the supervisor no longer runs the killed replicas under
  their old PIDs; it is reverted when every replica runs again (readiness is the
  recovery watch's business).
- Every request has a timeout; every wait is bounded in time and count.
"""

from __future__ import annotations

import concurrent.futures
import statistics
import time
import urllib.request
from collections.abc import Callable

from runner import errors
from runner.sandbox import client, state

SAMPLES = 4


def _timed_get(url: str, timeout: float) -> float | None:
    """Seconds for one successful GET, or None when it failed (a replica down, a 502)."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback
            resp.read()
    except OSError:
        return None
    return time.perf_counter() - started


def added_latency(st: state.SandboxState, expected: float) -> tuple[float, float]:
    """``(median through the proxy, median straight to a ready replica)`` in seconds.

    Only successful requests count (a replica killed by another fault answers nothing);
    with fewer than half of either side answering, the delay cannot be measured and a
    ``PlatformError`` says so.
    """
    proxy = state.url_of(st, "proxy").rstrip("/") + "/"
    ready = [r for r in client.replicas(st) if r["ready"]]
    if not ready:
        raise errors.PlatformError("no replica is ready to time requests against")
    direct = f"http://127.0.0.1:{ready[0]['port']}/"
    timeout = expected + 5.0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2 * SAMPLES) as pool:
        via = [pool.submit(_timed_get, proxy, timeout) for _ in range(SAMPLES)]
        raw = [pool.submit(_timed_get, direct, timeout) for _ in range(SAMPLES)]
        through = [t for f in via if (t := f.result()) is not None]
        straight = [t for f in raw if (t := f.result()) is not None]
    if 2 * len(through) < SAMPLES or 2 * len(straight) < SAMPLES:
        raise errors.PlatformError(
            f"only {len(through)} of {SAMPLES} requests through the proxy and "
            f"{len(straight)} of {SAMPLES} straight to a replica answered")
    return statistics.median(through), statistics.median(straight)


def running(st: state.SandboxState) -> tuple[int, int]:
    """``(replicas running, replicas in all)`` per the supervisor."""
    seen = client.replicas(st)
    return sum(1 for r in seen if r["pid"] is not None), len(seen)


def wait_running(st: state.SandboxState, within: float, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> tuple[int, int]:
    """Poll until every replica runs or ``within`` seconds pass; the last count."""
    deadline = monotonic() + within
    up, total = running(st)
    for _ in range(10_000):
        if up >= total or monotonic() >= deadline:
            break
        sleep(0.1)
        up, total = running(st)
    return up, total
