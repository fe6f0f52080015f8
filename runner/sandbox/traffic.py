"""The sandbox's traffic generator: a steady stream of requests through the proxy.

Run as ``python -m runner.sandbox.traffic --url http://127.0.0.1:P/ --rps 40``.
A few worker threads share one schedule of send times, ``1/rps`` apart, each with its own
keep-alive connection. Decisions:
- Open loop with a bounded backlog: a slow answer (injected latency) delays one worker,
  the others keep the rate; when every worker is busy and the schedule falls more than a
  second behind, the missed slots are dropped instead of sent in a burst later.
- Bounded: at most ``MAX_WORKERS`` threads, a per-request timeout, an optional
  ``--duration``, and SIGTERM/SIGINT stop it within one request timeout.
- The traffic only ever goes to the loopback URL it is given.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Sequence
from types import FrameType

MAX_WORKERS = 64
REQUEST_TIMEOUT = 5.0
MAX_BACKLOG = 1.0  # seconds behind schedule before missed slots are dropped


class Schedule:
    """Send times ``interval`` apart, shared by the workers; drops a backlog over MAX_BACKLOG."""

    def __init__(self, rps: float) -> None:
        self.interval = 1.0 / rps
        self._next = time.monotonic()
        self._lock = threading.Lock()
        self.dropped = 0

    def take(self) -> float:
        with self._lock:
            now = time.monotonic()
            if now - self._next > MAX_BACKLOG:
                self.dropped += int((now - self._next) / self.interval)
                self._next = now
            slot = self._next
            self._next += self.interval
            return slot


class Generator:
    def __init__(self, url: str, rps: float, workers: int) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"only plain http URLs are supported, not {url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.schedule = Schedule(rps)
        self.workers = max(1, min(MAX_WORKERS, workers))
        self.stop = threading.Event()
        self.results: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def _record(self, outcome: str) -> None:
        with self._lock:
            self.results[outcome] += 1

    def _work(self) -> None:
        conn: http.client.HTTPConnection | None = None
        while not self.stop.is_set():
            slot = self.schedule.take()
            if self.stop.wait(max(0.0, slot - time.monotonic())):
                break
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
            try:
                conn.request("GET", self.path)
                resp = conn.getresponse()
                resp.read()
                self._record(str(resp.status))
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                self._record(type(exc).__name__)
                if conn is not None:
                    conn.close()
                conn = None
                self.stop.wait(0.05)  # do not spin when the proxy itself is gone
        if conn is not None:
            conn.close()

    def run(self, duration: float | None) -> None:
        threads = [threading.Thread(target=self._work, name=f"worker-{i}", daemon=True)
                   for i in range(self.workers)]
        for thread in threads:
            thread.start()
        deadline = None if duration is None else time.monotonic() + duration
        while not self.stop.wait(0.2):  # short waits keep signal handlers prompt
            if deadline is not None and time.monotonic() >= deadline:
                break
        self.stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 1.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Steady HTTP traffic to the sandbox proxy.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--rps", type=float, default=40.0)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds to run; default: until SIGTERM")
    args = parser.parse_args(argv)
    if args.rps <= 0:
        parser.error("--rps must be positive")
    generator = Generator(args.url, args.rps, args.workers)

    def _stop(signum: int, frame: FrameType | None) -> None:
        generator.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"traffic: {args.rps:g} req/s to {args.url} with {generator.workers} workers",
          flush=True)
    generator.run(args.duration)
    print(f"traffic: stopped; results {dict(generator.results)}, "
          f"dropped {generator.schedule.dropped} slots", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
