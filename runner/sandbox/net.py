"""Loopback networking helpers for the sandbox and its tests: free ports, waiting for HTTP.

Decision: everything the sandbox starts listens on 127.0.0.1 only, on a port the kernel
hands out (bind to port 0), so parallel runs and test sessions never collide. Waiting
for a process to come up is bounded polling with a clear error naming the URL, never a
fixed sleep.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

from runner import errors

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, timeout: float, *, interval: float = 0.05) -> None:
    """Poll ``url`` until it answers 2xx, for at most ``timeout`` seconds.

    Raises ``errors.PlatformError`` naming the URL and the last failure when the time
    is up. Each request has its own short timeout, so a hung server cannot stall us.
    """
    deadline = time.monotonic() + timeout
    last = "no attempt made"
    while True:
        remaining = deadline - time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=max(0.1, min(1.0, remaining))) as resp:  # noqa: S310 - loopback URLs we built ourselves
                if 200 <= resp.status < 300:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() + interval > deadline:
            break
        time.sleep(interval)
    raise errors.PlatformError(
        f"{url} did not answer within {timeout:g} s (last attempt: {last}). "
        "The process behind it may have failed to start: read its log in the run directory."
    )
