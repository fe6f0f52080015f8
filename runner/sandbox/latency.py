"""The proxy's table of latency injections, each one expiring by itself at its TTL.

An injection is ``{id, delay, jitter, ttl}`` (seconds). While it lives, every proxied
request waits ``delay ± jitter`` (uniform, never below 0) before it is forwarded; several
live injections add up. Decisions: the TTL is enforced by the table itself on every read
(monotonic clock), not by a timer thread, so an injection cannot outlive its TTL even
if nobody ever removes it — a dead runner cannot leave latency behind. Adding an id that
exists replaces it (idempotent retries); removing an unknown id is reported, not raised.
"""

from __future__ import annotations

import dataclasses
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TypedDict

MAX_DELAY = 30.0
MAX_TTL = 24 * 3600.0
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class InjectionInfo(TypedDict):
    """One live injection as the control API reports it (wire format)."""

    id: str
    delay: float
    jitter: float
    ttl: float
    remaining: float
    expires_at: float  # wall-clock seconds since the epoch


@dataclasses.dataclass(frozen=True)
class Injection:
    id: str
    delay: float
    jitter: float
    ttl: float
    deadline: float  # monotonic

    def info(self, now_mono: float, now_wall: float) -> InjectionInfo:
        remaining = max(0.0, self.deadline - now_mono)
        return {"id": self.id, "delay": self.delay, "jitter": self.jitter, "ttl": self.ttl,
                "remaining": round(remaining, 3), "expires_at": round(now_wall + remaining, 3)}


def parse_request(payload: object) -> tuple[str, float, float, float]:
    """Validate a ``POST /-/latency`` body into (id, delay, jitter, ttl); ``ValueError`` if bad."""
    if not isinstance(payload, Mapping):
        raise ValueError("the body must be a JSON object {id, delay, jitter, ttl}")
    unknown = set(payload) - {"id", "delay", "jitter", "ttl"}
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")

    def number(key: str, default: float | None, low: float, high: float) -> float:
        value = payload.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key} must be a number of seconds")
        if not low <= float(value) <= high:
            raise ValueError(f"{key} must be within [{low:g}, {high:g}] seconds, not {value}")
        return float(value)

    raw_id = payload.get("id")
    if raw_id is None:
        raw_id = uuid.uuid4().hex[:12]
    if not isinstance(raw_id, str) or not _ID.match(raw_id):
        raise ValueError("id must be 1-128 characters of letters, digits, '_', '.', ':', '-'")
    delay = number("delay", None, 0.0, MAX_DELAY)
    jitter = number("jitter", 0.0, 0.0, MAX_DELAY)
    ttl = number("ttl", 60.0, 0.001, MAX_TTL)
    return raw_id, delay, jitter, ttl


class LatencyTable:
    """Live injections by id; thread-safe; expired entries vanish on every read."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, seed: int | None = None) -> None:
        self._monotonic = monotonic
        self._wall = wall
        self._random = random.Random(seed)  # noqa: S311 - simulated jitter, not security
        self._lock = threading.Lock()
        self._live: dict[str, Injection] = {}

    def _purge(self, now: float) -> None:
        for key in [k for k, v in self._live.items() if v.deadline <= now]:
            del self._live[key]

    def add(self, injection_id: str, delay: float, jitter: float, ttl: float) -> InjectionInfo:
        now = self._monotonic()
        injection = Injection(injection_id, delay, jitter, ttl, now + ttl)
        with self._lock:
            self._purge(now)
            self._live[injection_id] = injection
        return injection.info(now, self._wall())

    def remove(self, injection_id: str) -> bool:
        """Remove one injection; False when it was not live (already removed or expired)."""
        with self._lock:
            self._purge(self._monotonic())
            return self._live.pop(injection_id, None) is not None

    def clear(self) -> int:
        """Remove every injection; how many were live."""
        with self._lock:
            self._purge(self._monotonic())
            count = len(self._live)
            self._live.clear()
        return count

    def active(self) -> list[InjectionInfo]:
        now, wall = self._monotonic(), self._wall()
        with self._lock:
            self._purge(now)
            return [inj.info(now, wall) for inj in self._live.values()]

    def delay(self) -> float:
        """The delay for one request now: the sum over live injections of delay ± jitter."""
        with self._lock:
            self._purge(self._monotonic())
            live = list(self._live.values())
            total = 0.0
            for inj in live:
                spread = self._random.uniform(-inj.jitter, inj.jitter) if inj.jitter else 0.0
                total += max(0.0, inj.delay + spread)
        return total
