"""Which replicas a pod-kill hits: a count from count/fraction, and a seeded choice.

Shared by the ``gameday_local`` extension (choosing at run time when no names are given)
and the local platform adapter (choosing at plan time, so the targets are journaled
before anything is touched). Decisions: names are sorted before sampling, so the same
seed and the same replica names always give the same victims; a fraction rounds down
(never more than asked) but kills at least one replica.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from runner import errors


def resolve_count(total: int, count: int | None = None, fraction: float | None = None) -> int:
    """How many of ``total`` replicas to kill: ``count``, else ``fraction`` (floor, >= 1), or 1."""
    if count is not None and fraction is not None:
        raise errors.InputError("Give either a count or a fraction of replicas, not both.")
    if count is not None:
        if count < 1:
            raise errors.InputError(f"A replica count must be at least 1, not {count}.")
        return count
    if fraction is not None:
        if not 0.0 < fraction <= 1.0:
            raise errors.InputError(f"A replica fraction must be within (0, 1], not {fraction}.")
        return max(1, math.floor(fraction * total + 1e-9))
    return 1


def choose(names: Sequence[str], k: int, seed: int | str | None) -> list[str]:
    """``k`` of ``names`` chosen with ``seed`` (the same seed, the same choice), sorted."""
    if k > len(names):
        raise errors.InputError(
            f"Cannot choose {k} replica(s): only {len(names)} exist ({', '.join(names)})."
        )
    rng = random.Random(seed)  # noqa: S311 - a reproducible choice, not security
    return sorted(rng.sample(sorted(names), k))
