"""Clocks and cooperative cancellation.

Signals never raise inside the engine: the CLI's handler sets a ``Cancel`` token and the
engine checks it at safe points (between ticks, between faults). The real clock sleeps
on the token's event, so a signal wakes a sleeping run at once. Reverts ignore the token:
they always run to the end.
"""

from __future__ import annotations

import threading
import time


class Cancel:
    """A cancellation token set from a signal handler; remembers why."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(max(0.0, seconds))


class SystemClock:
    """Real time. ``sleep`` returns early when the cancel token is set."""

    def __init__(self, cancel: Cancel | None = None) -> None:
        self._cancel = cancel

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._cancel is None:
            time.sleep(seconds)
        else:
            self._cancel.wait(seconds)
