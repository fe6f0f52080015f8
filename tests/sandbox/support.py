"""Helpers for the sandbox tests: bounded waiting, Prometheus queries, metric scraping."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T = check()
    while not last:
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what} (last: {last!r})")
        time.sleep(interval)
        last = check()
    return last


def query(prometheus_url: str, promql: str) -> list[tuple[dict[str, str], float]]:
    """An instant query: (labels, value) per series."""
    url = f"{prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = json.load(resp)
    return [(s["metric"], float(s["value"][1])) for s in body["data"]["result"]]


def scrape(url: str) -> dict[str, float]:
    """The samples of a /metrics page, keyed by ``name{labels}`` as written."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return samples


def slow_requests(proxy_url: str) -> float:
    """Requests the proxy answered in more than 0.3 s so far (from its histogram)."""
    samples = scrape(f"{proxy_url}/metrics")
    return (samples["gameday_proxy_request_duration_seconds_count"]
            - samples['gameday_proxy_request_duration_seconds_bucket{le="0.3"}'])


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def code_count(samples: dict[str, float], name: str, code: str) -> float:
    return samples[f'{name}{{code="{code}"}}']


__all__ = ["code_count", "pid_alive", "query", "scrape", "slow_requests", "wait_until"]
