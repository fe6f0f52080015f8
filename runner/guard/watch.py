"""The guard's loop: look at every lease, hand the due ones to a takeover, sleep, repeat.

Decisions:
- Bounded in time (``max_seconds``) and in looks (``max_looks``), like every loop here;
  ``stop`` ends it early (``gameday guard --run`` stops when its run ended cleanly).
- A takeover that raises is reported and retried on a later look, never the end of the
  guard: one bad lease (an API hiccup, a journal another process holds) must not leave
  the others unguarded. A run whose takeover failed stays open and is tried again.
- Time and sleep are injected (``ports.Clock``), so tests drive it without waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from runner import ports
from runner.guard import policy


class Store(Protocol):
    """Where the leases are: the local run records, or Leases in some namespaces."""

    def scan(self) -> Sequence[policy.Watched]: ...


Takeover = Callable[[policy.Watched], policy.Outcome | None]
Say = Callable[[str], None]


def watch(store: Store, takeover: Takeover, clock: ports.Clock, *, poll: float = 0.5,
          grace: float = 0.0, max_seconds: float = 7 * 24 * 3600.0,
          max_looks: int = 10_000_000, once: bool = False,
          stop: Callable[[Sequence[policy.Watched]], bool] | None = None,
          say: Say = print) -> list[policy.Outcome]:
    """Revert every due lease until ``stop`` says so, ``once`` is done, or the bounds end."""
    outcomes: list[policy.Outcome] = []
    started = clock.monotonic()
    for _look in range(max_looks):
        try:
            leases = list(store.scan())
        except Exception as exc:  # noqa: BLE001 - a failed look is retried, never fatal
            say(f"gameday guard: could not read the leases ({_text(exc)}); will look again "
                f"in {poll:g} s.")
            leases = []
        now = clock.time()
        for watched in leases:
            if not policy.due(watched, now, grace=grace):
                continue
            try:
                done = takeover(watched)
            except Exception as exc:  # noqa: BLE001 - retried on the next look
                say(f"gameday guard: taking over run {watched.run_id} ({watched.where}) failed: "
                    f"{_text(exc)}; will try again in {poll:g} s.")
                continue
            if done is not None:
                outcomes.append(done)
                say(f"gameday guard: run {done.run_id}: {done.detail}")
        if once or (stop is not None and stop(leases)):
            return outcomes
        if clock.monotonic() - started >= max_seconds:
            say(f"gameday guard: stopping after {max_seconds:g} s (--for).")
            return outcomes
        clock.sleep(policy.wait_for(leases, clock.time(), poll))
    return outcomes


def _text(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    return str(message) if message else f"{type(exc).__name__}: {exc}"
