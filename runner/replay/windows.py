"""Where replay looks: the range, the incidents, and the grid of windows on the tick grid.

Decisions:
- Times are ISO 8601 (``2026-05-04T12:00:00Z``; a time without a zone is UTC, said in
  the help) or ``now`` / ``now-2h``; ``--last 7d`` means ``[now − 7d, now]``. Anything
  else, an empty or reversed range, or a range and ``--last`` together, is bad input
  (``errors.InputError``: exit 2, one sentence naming the option and what to write).
- A window is one replayed run: a baseline of B ticks ending where the window starts,
  then the fault window of W ticks (the experiment's own durations, as the engine
  counts them). Windows start every W ticks by default (disjoint fault windows) or every
  ``--every`` ticks. Step ``s`` is the baseline's priming read; the fault window covers
  steps ``s+B+1 .. s+B+W``.
- A window is *healthy* when neither its baseline nor its fault window touches an
  incident; a window whose fault window overlaps an incident belongs to that incident.
  For each incident one more window is replayed whose fault window starts exactly where
  the incident starts ("as if the fault had been injected then"): how fast it aborts.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

from runner import errors
from runner.engine import schedule
from runner.model import durations
from runner.model import experiment as model

_NOW = re.compile(r"\s*now\s*(?:-\s*(\S+))?\s*")


@dataclasses.dataclass(frozen=True)
class Span:
    """A time range in Unix seconds, ``start < end``."""

    start: float
    end: float

    def overlaps(self, start: float, end: float) -> bool:
        return start < self.end and end > self.start

    def label(self) -> str:
        return f"{iso(self.start)}..{iso(self.end)}"


def iso(t: float) -> str:
    stamp = datetime.datetime.fromtimestamp(t, datetime.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, *, now: float, option: str) -> float:
    """``text`` as Unix seconds: ISO 8601 (UTC unless it says), ``now`` or ``now-<duration>``."""
    found = _NOW.fullmatch(text)
    if found is not None:
        if found.group(1) is None:
            return now
        return now - durations.parse_duration(found.group(1), field=option)
    try:
        stamp = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise errors.InputError(
            f"{option}: {text!r} is not a time. Write an ISO 8601 time such as "
            "2026-05-04T12:00:00Z (UTC unless a zone is given), now, or now-2h.") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.UTC)
    return stamp.timestamp()


def parse_range(start: str | None, end: str | None, last: str | None, *, now: float) -> Span:
    """The replayed range from ``--from/--to`` or ``--last``."""
    if last is not None and (start is not None or end is not None):
        raise errors.InputError("gameday replay: give either --last or --from/--to, not both.")
    if last is not None:
        seconds = durations.parse_duration(last, field="--last")
        if seconds <= 0:
            raise errors.InputError("--last: give a positive duration such as 7d or 12h.")
        return Span(now - seconds, now)
    if start is None:
        raise errors.InputError("gameday replay: say which history to replay: --last 7d, or "
                                "--from TIME [--to TIME].")
    first = parse_time(start, now=now, option="--from")
    second = now if end is None else parse_time(end, now=now, option="--to")
    if second <= first:
        raise errors.InputError(f"--from/--to: the range {iso(first)}..{iso(second)} is empty "
                                "or reversed; --from must come before --to.")
    if second > now + 60:
        raise errors.InputError(f"--to: {iso(second)} is in the future; history ends now.")
    return Span(first, second)


def parse_incident(text: str, *, now: float) -> Span:
    """``FROM..TO`` (two times as for ``--from``) as a span."""
    if text.count("..") != 1:
        raise errors.InputError(f"--incident: {text!r} is not a range. Write FROM..TO, e.g. "
                                "2026-05-04T12:00:00Z..2026-05-04T12:30:00Z.")
    first_text, second_text = text.split("..")
    first = parse_time(first_text, now=now, option="--incident")
    second = parse_time(second_text, now=now, option="--incident")
    if second <= first:
        raise errors.InputError(f"--incident: {text!r} is empty or reversed; its start must "
                                "come before its end.")
    return Span(first, second)


@dataclasses.dataclass(frozen=True)
class Layout:
    """Ticks of a replayed run: baseline B, fault window W, a new window every E."""

    tick: float
    baseline: int
    window: int
    every: int

    @classmethod
    def of(cls, exp: model.Experiment, every: int | None = None) -> Layout:
        tick = exp.prometheus.tick
        baseline = schedule.slots(max(exp.steady_state.baseline, 3 * tick), tick, 3)
        window = schedule.slots(exp.duration, tick)
        if every is not None and every < 1:
            raise errors.InputError("--every: give a whole number of ticks, at least 1.")
        return cls(tick, baseline, window, every or window)

    @property
    def span(self) -> int:
        """Steps a window occupies after its priming read."""
        return self.baseline + self.window

    def starts(self, steps: int) -> list[int]:
        """Priming steps of the grid windows that fit in ``steps`` fetched steps."""
        return list(range(0, max(0, steps - self.span), self.every))

    def aligned(self, window_start: int) -> int:
        """The priming step of a window whose fault window starts at ``window_start``."""
        return window_start - self.baseline
