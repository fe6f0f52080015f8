"""``proxy_url`` and ``authorization`` are honoured on the wire, against real loopback servers.

A forwarding HTTP proxy (stdlib, absolute-URI requests, counted) stands between gameday
and the session's real Prometheus; a tiny API stand-in checks the ``Authorization``
header that a ``credentials_file`` produces (Prometheus' own web config has no bearer
tokens, so a reverse proxy in front of it is where they are checked in real life).
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from runner import ports
from runner.adapters import prometheus as adapter
from runner.model import experiment as model
from runner.sandbox import net
from tests.fixtures.prometheus import PrometheusHandle

pytestmark = pytest.mark.prometheus

ANSWER = model.GaugeProbe(name="answer", query="vector(7)")


class Forwarder(http.server.BaseHTTPRequestHandler):
    """A forward proxy for plain HTTP: relays ``GET http://host/path`` and counts it."""

    seen: ClassVar[list[str]] = []
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.seen.append(self.path)
        with urllib.request.urlopen(self.path, timeout=5) as upstream:
            body, status = upstream.read(), upstream.status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class TokenChecker(http.server.BaseHTTPRequestHandler):
    """Answers a one-value vector when the bearer token is right, 401 otherwise."""

    headers_seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        got = self.headers.get("Authorization", "")
        self.headers_seen.append(got)
        if got == "Bearer s3cret-token":
            body, status = json.dumps({"status": "success", "data": {
                "resultType": "vector", "result": [{"metric": {}, "value": [1.0, "7"]}]}}), 200
        else:
            body, status = json.dumps({"status": "error", "error": "bad token"}), 401
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[list[http.server.ThreadingHTTPServer]]:
    servers: list[http.server.ThreadingHTTPServer] = []
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def start(servers: list[http.server.ThreadingHTTPServer],
          handler: type[http.server.BaseHTTPRequestHandler]) -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    servers.append(server)
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_queries_go_through_the_proxy_and_a_dead_proxy_is_named(
    prometheus: PrometheusHandle, serve: list[http.server.ThreadingHTTPServer]
) -> None:
    proxy = start(serve, Forwarder)
    Forwarder.seen.clear()
    source = adapter.PrometheusSource(
        model.PrometheusConfig(url=prometheus.url, proxy_url=proxy), 1.0)
    try:
        assert source.sample([ANSWER]) == {"answer": ports.Value(7.0)}
    finally:
        source.close()
    assert len(Forwarder.seen) == 1
    assert Forwarder.seen[0].startswith(f"{prometheus.url}/api/v1/query?")
    dead = f"http://127.0.0.1:{net.free_port()}"
    blocked = adapter.PrometheusSource(
        model.PrometheusConfig(url=prometheus.url, proxy_url=dead, retries=0), 1.0)
    try:
        (problem,) = blocked.preflight([ANSWER])
    finally:
        blocked.close()
    assert f"The proxy {dead} did not pass the query" in problem
    assert "proxy_url" in problem


def test_a_credentials_file_becomes_the_authorization_header(
    tmp_path: Path, serve: list[http.server.ThreadingHTTPServer]
) -> None:
    url = start(serve, TokenChecker)
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    good = model.PrometheusConfig(url=url, authorization=model.Authorization(
        credentials_file=str(token)))
    source = adapter.PrometheusSource(good, 1.0)
    try:
        assert source.sample([ANSWER]) == {"answer": ports.Value(7.0)}
    finally:
        source.close()
    assert TokenChecker.headers_seen[-1] == "Bearer s3cret-token"
    wrong = model.PrometheusConfig(url=url, authorization=model.Authorization(
        credentials="wrong-token"))
    refused = adapter.PrometheusSource(wrong, 1.0)
    try:
        (problem,) = refused.preflight([ANSWER])
    finally:
        refused.close()
    assert "refused the credentials (bad token (HTTP 401))" in problem
    assert "an Authorization Bearer header (its credentials)" in problem
    assert "wrong-token" not in problem
