"""A loopback HTTP service for Chaos Toolkit experiments under test (real HTTP, stdlib).

Each run gets its own namespace (the first path segment), so ``chaos run`` and
``gameday run`` of the same experiment, in parallel, never see each other's state:

- ``GET /<ns>/health``: 200 ``{"status": "ok", "healthy": true, "version": "1.2.3"}``, or
  500 ``{"status": "broken"...}`` after ``POST /<ns>/break`` (until ``POST /<ns>/fix``);
- ``GET /<ns>/missing``: 404; ``GET /<ns>/text``: 200 ``service is up (v1.2.3)``;
- ``GET /<ns>/calls``: every call made to the namespace, in order (what ran).
Also ``python`` providers for the corpus: ``breaks``/``fixes``/``is_healthy`` below
call the same service, so an experiment can use http, process and python providers.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_STATE: dict[str, dict[str, Any]] = {}
_LOCK = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _ns(self) -> tuple[str, str, dict[str, Any]]:
        parts = self.path.split("?")[0].strip("/").split("/", 1)
        ns, rest = parts[0], (parts[1] if len(parts) > 1 else "")
        with _LOCK:
            state = _STATE.setdefault(ns, {"broken": False, "calls": []})
            state["calls"].append(f"{self.command} /{rest}")
        return ns, rest, state

    def _send(self, status: int, body: Any) -> None:
        data = (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(body, str)
                         else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        _ns, rest, state = self._ns()
        if rest == "health":
            if state["broken"]:
                self._send(500, {"status": "broken", "healthy": False, "version": "1.2.3"})
            else:
                self._send(200, {"status": "ok", "healthy": True, "version": "1.2.3"})
        elif rest == "text":
            self._send(200, "service is up (v1.2.3)")
        elif rest == "calls":
            self._send(200, state["calls"][:-1])
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        _ns, rest, state = self._ns()
        if rest == "break":
            state["broken"] = True
        elif rest == "fix":
            state["broken"] = False
        elif rest != "noop":
            self._send(404, {"error": "not found"})
            return
        self._send(200, {"broken": state["broken"]})


def serve() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="ctk-stub").start()
    return server


def _call(base: str, method: str, path: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{base.rstrip('/')}/{path}", method=method,
                                     data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return dict(json.loads(answer.read() or b"{}"))
    except urllib.error.HTTPError as error:
        return dict(json.loads(error.read() or b"{}"))


def breaks(base: str) -> dict[str, Any]:
    """A python action: break the service."""
    return _call(base, "POST", "break")


def fixes(base: str) -> dict[str, Any]:
    """A python action: fix the service."""
    return _call(base, "POST", "fix")


def is_healthy(base: str) -> bool:
    """A python probe: whether the service says it is healthy."""
    return bool(_call(base, "GET", "health").get("healthy"))


def explode(base: str) -> None:
    """A python action that raises."""
    raise RuntimeError(f"the disk of {base} is on fire")


def calls(base: str) -> list[str]:
    with urllib.request.urlopen(f"{base.rstrip('/')}/calls", timeout=5) as answer:
        return list(json.loads(answer.read()))


def healthy_body(value: dict[str, Any] | None = None) -> bool:
    """A probe tolerance: the HTTP answer's JSON body says healthy."""
    body = value.get("body") if isinstance(value, dict) else None
    return isinstance(body, dict) and body.get("healthy") is True


def same(value: str) -> str:
    """A configuration probe: returns its argument (the service's base URL)."""
    return value
