"""A small client of the sandbox's control APIs (supervisor and proxy), over urllib.

Used by ``manager.status``, the ``gameday_local`` extension and the local platform
adapter. Decisions: stdlib ``urllib`` with a timeout on every call (no new dependency,
and a hung sandbox can never stall a run); every failure becomes an
``errors.PlatformError`` that names the URL and says what to do next; a 404 on removing
a latency injection means "already gone" and is success (reverts are idempotent);
``supervisor`` is named for its types only (not imported: it loads prometheus_client
and the HTTP server, which a client never needs).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, cast

from runner import errors
from runner.sandbox import latency, state

if TYPE_CHECKING:
    from runner.sandbox import supervisor

TIMEOUT = 5.0


def _call(method: str, url: str, payload: object | None = None, *,
          ok_404: bool = False, timeout: float = TIMEOUT) -> object:
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - loopback
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - loopback
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace").strip()
        if ok_404 and exc.code == 404:
            return json.loads(body or "null")
        raise errors.PlatformError(
            f"The sandbox answered {method} {url} with HTTP {exc.code}: {body}"
        ) from exc
    except (OSError, ValueError) as exc:
        raise errors.PlatformError(
            f"The sandbox did not answer {method} {url} ({exc}). Is it running? "
            "Check with `gameday sandbox status`; start it with `gameday sandbox up`."
        ) from exc


def replicas(st: state.SandboxState) -> list[supervisor.ReplicaInfo]:
    """Every replica slot: name, pid (None while restarting), port, ready, restarts."""
    answer = _call("GET", f"{state.url_of(st, state.SUPERVISOR)}/replicas")
    return cast("list[supervisor.ReplicaInfo]", answer)


def kill(st: state.SandboxState, name: str) -> bool:
    """SIGKILL replica ``name``; False if it was not running (already restarting)."""
    quoted = urllib.parse.quote(name, safe="")
    answer = _call("POST", f"{state.url_of(st, state.SUPERVISOR)}/replicas/{quoted}/kill", {})
    return bool(cast(dict[str, object], answer).get("killed"))


def start(st: state.SandboxState, name: str) -> supervisor.ReplicaInfo:
    """Start replica ``name`` now if it is down (no restart delay); idempotent."""
    quoted = urllib.parse.quote(name, safe="")
    answer = _call("POST", f"{state.url_of(st, state.SUPERVISOR)}/replicas/{quoted}/start", {})
    return cast("supervisor.ReplicaInfo", cast(dict[str, object], answer)["replica"])


def add_latency(st: state.SandboxState, injection_id: str | None, delay: float, jitter: float,
                ttl: float) -> latency.InjectionInfo:
    """Add (or replace) an injection on the proxy; it expires by itself after ``ttl`` s."""
    payload: dict[str, object] = {"delay": delay, "jitter": jitter, "ttl": ttl}
    if injection_id is not None:
        payload["id"] = injection_id
    answer = _call("POST", f"{state.url_of(st, state.PROXY)}/-/latency", payload)
    return cast(latency.InjectionInfo, answer)


def remove_latency(st: state.SandboxState, injection_id: str | None) -> int:
    """Remove one injection (or all when None); how many were live. Idempotent."""
    base = f"{state.url_of(st, state.PROXY)}/-/latency"
    url = base if injection_id is None else f"{base}/{urllib.parse.quote(injection_id, safe='')}"
    answer = _call("DELETE", url, ok_404=True)
    removed = cast(dict[str, object], answer or {}).get("removed", 0)
    return int(removed) if isinstance(removed, int | float) else 0


def active_latency(st: state.SandboxState) -> list[latency.InjectionInfo]:
    """The live injections with their remaining TTL."""
    answer = _call("GET", f"{state.url_of(st, state.PROXY)}/-/latency")
    return cast(list[latency.InjectionInfo], answer)
