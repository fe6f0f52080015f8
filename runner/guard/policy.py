"""What the guard decides, as pure functions of what it sees: due, why, and what it says.

Decisions:
- A lease is due when its run is still open (live, or an earlier revert failed), its
  lease expired, and its holder is not seen alive: locally the PID is gone (``alive``
  False); in a cluster there is no PID to ask, so ``alive`` is None and the lease alone
  decides. A holder seen alive is never taken over, however late its lease: a slow
  runner reverting by itself must not race the guard.
- ``grace`` (default 0) delays a takeover past the expiry, for clocks that disagree.
- The journal note names the guard and the expiry in UTC, the words a reviewer searches
  for: "reverted by the guard after the lease expired at 2026-12-02T03:00:07Z".
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Final

#: The journal event a guard writes before it reverts (read by humans and reports).
TAKEOVER_EVENT: Final = "guard-takeover"
#: States whose faults may still be live; "reverting" carries the reverting guard's own
#: lease (a guard that died mid-way is taken over when it runs out).
OPEN_STATES: Final = frozenset({"live", "revert-failed", "reverting"})


@dataclasses.dataclass(frozen=True)
class Watched:
    """One run's lease as the guard sees it (from a run record or a Kubernetes Lease)."""

    run_id: str
    where: str  # the record file or the Lease (namespace/name), for messages
    state: str
    expires_at: float  # wall-clock seconds
    alive: bool | None  # the holder process: True/False when it can be asked, else None
    journal: str | None = None


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one takeover did: ``code`` is the exit code of the revert session."""

    run_id: str
    code: int
    detail: str


def iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def due(watched: Watched, now: float, *, grace: float = 0.0) -> bool:
    """Whether the guard should revert this run now."""
    return (watched.state in OPEN_STATES and now >= watched.expires_at + grace
            and watched.alive is not True)


def reason(watched: Watched) -> str:
    return f"reverted by the guard after the lease expired at {iso(watched.expires_at)}"


def wait_for(leases: list[Watched], now: float, poll: float) -> float:
    """Seconds to sleep before the next look: ``poll``, or less if a lease expires sooner."""
    soon = [w.expires_at - now for w in leases if w.state in OPEN_STATES and w.alive is not True]
    upcoming = [s for s in soon if s > 0]
    return max(0.05, min([poll, *upcoming]))
