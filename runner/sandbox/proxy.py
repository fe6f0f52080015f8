"""The sandbox's load-balancing proxy: where clients meet the replicas, and where latency is added.

Run as ``python -m runner.sandbox.proxy --port P --upstream 127.0.0.1:P1 --upstream ...``.
Every path outside ``/-/`` and ``/metrics`` is forwarded to a replica, round robin.
Control API: ``GET|POST|DELETE /-/latency`` and ``DELETE /-/latency/<id>`` (see
``runner.sandbox.latency``), ``GET /-/healthz``. ``GET /metrics`` exports what clients
see: ``gameday_proxy_requests_total{code}`` (200/500/502/503 created at 0) and the
``gameday_proxy_request_duration_seconds`` histogram (a bucket at 0.3 s, the demo SLO).

Decisions:
- The SLO is what clients see, and latency added here never shows in a replica's own
  histogram: so the proxy measures each request from its arrival to its answer.
- A replica that refuses the connection (killed, restarting) is skipped and the next one
  tried; a reused keep-alive connection that turns out dead is retried once on a fresh
  connection. 502 only when every replica failed; a timeout answers 504 and is not
  retried (the request may have been processed).
- Upstream connections are kept alive, one per replica per handler thread.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import re
import sys
import threading
import time
from collections.abc import Sequence

import prometheus_client

from runner.sandbox import exposition, httpbase, latency

UPSTREAM_TIMEOUT = 10.0
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                         "te", "trailers", "transfer-encoding", "upgrade", "host",
                         "content-length"})
_INJECTION_PATH = re.compile(r"^/-/latency/([^/]+)$")
_REFUSED = (ConnectionRefusedError, ConnectionAbortedError)
_STALE = (http.client.RemoteDisconnected, http.client.BadStatusLine, BrokenPipeError,
          ConnectionResetError)


class Proxy:
    """Upstreams, round-robin position, latency table and metrics; thread-safe."""

    def __init__(self, upstreams: Sequence[tuple[str, int]], seed: int | None = None) -> None:
        self.upstreams = tuple(upstreams)
        self._next = itertools.count()
        self._lock = threading.Lock()
        self._local = threading.local()
        self.latency = latency.LatencyTable(seed=seed)
        self.registry = exposition.registry()
        self.requests = exposition.codes_counter(
            self.registry, "gameday_proxy_requests_total",
            "Requests answered to clients, by status code.", ("200", "500", "502", "503"))
        self.duration = exposition.latency_histogram(
            self.registry, "gameday_proxy_request_duration_seconds",
            "Client-side request duration in seconds, injected latency included.")
        self.injections = prometheus_client.Gauge(
            "gameday_proxy_latency_injections", "Latency injections live right now.",
            registry=self.registry)
        self.injections.set_function(lambda: len(self.latency.active()))

    def order(self) -> list[tuple[str, int]]:
        """The upstreams in the order this request should try them (round robin)."""
        with self._lock:
            start = next(self._next) % len(self.upstreams)
        return [*self.upstreams[start:], *self.upstreams[:start]]

    def _connection(self, upstream: tuple[str, int], fresh: bool) -> tuple[
            http.client.HTTPConnection, bool]:
        pool: dict[tuple[str, int], http.client.HTTPConnection] = getattr(
            self._local, "pool", None) or {}
        self._local.pool = pool
        conn = pool.get(upstream)
        if conn is not None and not fresh:
            return conn, True
        if conn is not None:
            conn.close()
        conn = http.client.HTTPConnection(*upstream, timeout=UPSTREAM_TIMEOUT)
        pool[upstream] = conn
        return conn, False

    def _drop(self, upstream: tuple[str, int]) -> None:
        pool = getattr(self._local, "pool", {})
        conn = pool.pop(upstream, None)
        if conn is not None:
            conn.close()

    def forward(self, method: str, path: str, headers: dict[str, str],
                body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one request upstream; (status, headers, body), 502/504 when it cannot."""
        if not self.upstreams:
            return 503, [], b"no upstream replicas configured\n"
        for upstream in self.order():
            for fresh in (False, True):
                conn, reused = self._connection(upstream, fresh)
                try:
                    conn.request(method, path, body=body or None, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except _REFUSED:
                    self._drop(upstream)
                    break  # this replica is down: try the next one
                except _STALE:
                    self._drop(upstream)
                    if reused:
                        continue  # a dead keep-alive connection: once more, fresh
                    break
                except TimeoutError:
                    self._drop(upstream)
                    return 504, [], b"upstream timed out\n"
                except OSError:
                    self._drop(upstream)
                    break
                if resp.getheader("Connection", "").lower() == "close":
                    self._drop(upstream)
                kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
                return resp.status, kept, data
        return 502, [], b"no replica answered\n"


class ProxyHandler(httpbase.Handler):
    proxy: Proxy  # set on a subclass by ``make_server``

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self.send_metrics(self.proxy.registry)
        elif path == "/-/healthz":
            self.send_body(200, b"ok\n")
        elif path == "/-/latency":
            self.send_json(200, self.proxy.latency.active())
        elif path.startswith("/-/"):
            self.send_json(404, {"error": f"no such path {path}"})
        else:
            self._proxy()

    def do_HEAD(self) -> None:
        self._proxy()

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/-/latency":
            self._proxy()
            return
        try:
            injection_id, delay, jitter, ttl = latency.parse_request(self.read_json())
        except ValueError as exc:
            self.send_json(400, {"error": str(exc)})
            return
        self.send_json(201, self.proxy.latency.add(injection_id, delay, jitter, ttl))

    def do_DELETE(self) -> None:
        path = self.path.split("?", 1)[0]
        self.read_body()
        if path == "/-/latency":
            self.send_json(200, {"removed": self.proxy.latency.clear()})
            return
        match = _INJECTION_PATH.match(path)
        if match is None:
            self._proxy()
        elif self.proxy.latency.remove(match.group(1)):
            self.send_json(200, {"removed": 1, "id": match.group(1)})
        else:
            self.send_json(404, {"removed": 0, "id": match.group(1),
                                 "error": "no such live injection (removed or expired)"})

    def do_PUT(self) -> None:
        self._proxy()

    def _proxy(self) -> None:
        started = time.perf_counter()
        body = self.read_body()
        if self.path.startswith("/-/"):
            self.send_json(404, {"error": f"no such control path {self.path}"})
            return
        pause = self.proxy.latency.delay()
        if pause > 0:
            time.sleep(pause)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        status, out_headers, data = self.proxy.forward(self.command, self.path, headers, body)
        self.send_response(status)
        for key, value in out_headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()
        self.proxy.duration.observe(time.perf_counter() - started)
        self.proxy.requests.labels(str(status)).inc()


def parse_upstream(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return (host or "127.0.0.1"), int(port)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load-balancing proxy with latency injection.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", default=[], type=parse_upstream,
                        help="HOST:PORT of a replica; repeat per replica")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    proxy = Proxy(args.upstream, seed=args.seed)
    handler = type("BoundProxyHandler", (ProxyHandler,), {"proxy": proxy})
    server = httpbase.Server(("127.0.0.1", args.port), handler)
    print(f"proxy: http://127.0.0.1:{args.port} -> {len(args.upstream)} upstream(s)", flush=True)
    httpbase.serve_until_signal(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
