"""The demo HTTP service: one replica of the workload the sandbox's faults hit.

Run as ``python -m runner.sandbox.service --port P --name demo-0``. ``/`` answers 200
after a small service time (or 500 at a configurable background error rate), ``/healthz``
answers when the replica is up, and ``/metrics`` exports the server-side view:
``demo_http_requests_total{code}`` and the ``demo_request_duration_seconds`` histogram.

Decisions: the service is deliberately plain and fast (a few ms), so what a game day
measures is the fault, not the service. A replica watches its parent (the supervisor)
and exits when it is orphaned, so a SIGKILLed supervisor never leaves replicas behind.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Sequence

from runner.sandbox import exposition, httpbase


class Replica:
    """The state of one replica: its name, behaviour and metrics."""

    def __init__(self, name: str, service_time: float, error_rate: float, seed: int) -> None:
        self.name = name
        self.service_time = service_time
        self.error_rate = error_rate
        self.random = random.Random(seed)  # noqa: S311 - simulated errors, not security
        self.registry = exposition.registry()
        self.requests = exposition.codes_counter(
            self.registry, "demo_http_requests_total",
            "Requests answered by this replica, by status code.", ("200", "500"))
        self.duration = exposition.latency_histogram(
            self.registry, "demo_request_duration_seconds",
            "Server-side request duration in seconds.")


class ServiceHandler(httpbase.Handler):
    """``/`` (the work), ``/healthz``, ``/metrics``."""

    replica: Replica  # set on a subclass by ``make_server``

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self.send_body(200, b"ok\n")
        elif path == "/metrics":
            self.send_metrics(self.replica.registry)
        else:
            self._work()

    def do_POST(self) -> None:
        self.read_body()
        self._work()

    def _work(self) -> None:
        replica = self.replica
        started = time.perf_counter()
        pause = replica.service_time * replica.random.uniform(0.5, 1.5)
        if pause > 0:
            time.sleep(pause)
        failed = replica.error_rate > 0 and replica.random.random() < replica.error_rate
        code = 500 if failed else 200
        body = f"{replica.name} {'error' if failed else 'ok'}\n".encode()
        self.send_body(code, body)
        replica.duration.observe(time.perf_counter() - started)
        replica.requests.labels(str(code)).inc()


def make_server(port: int, replica: Replica, host: str = "127.0.0.1") -> httpbase.Server:
    """A server for ``replica`` bound to ``host:port`` (not yet serving)."""
    handler = type("BoundServiceHandler", (ServiceHandler,), {"replica": replica})
    return httpbase.Server((host, port), handler)


def watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Exit (SIGTERM to self) once ``parent_pid`` is no longer our parent."""

    def _watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=_watch, name="parent-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One replica of the sandbox's demo service.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="demo-0")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--service-time", type=float, default=0.005,
                        help="mean seconds spent per request (uniform 0.5x-1.5x)")
    parser.add_argument("--error-rate", type=float, default=0.0,
                        help="fraction of requests answered 500 (background errors)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="exit when this process stops being our parent")
    args = parser.parse_args(argv)
    if not 0.0 <= args.error_rate <= 1.0:
        parser.error("--error-rate must be within [0, 1]")
    seed = args.seed if args.seed is not None else args.port
    replica = Replica(args.name, max(0.0, args.service_time), args.error_rate, seed)
    server = make_server(args.port, replica, args.host)
    if args.parent_pid is not None:
        watch_parent(args.parent_pid)
    print(f"{args.name}: serving on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    httpbase.serve_until_signal(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
