"""Is chaos allowed now, until when, and when is the next chance? (``model.Window``)

Pure: the time is a Unix timestamp handed in (a fake clock in tests), the zone an IANA
name read by ``zoneinfo``. Decisions:

- A moment is inside the window when its local date is not frozen and it falls in one of
  the hour ranges that started on an allowed weekday (a ``22:00-02:00`` range started on
  Tuesday covers Wednesday 01:00). A freeze date closes the whole local date, also the
  part of an overnight range that reaches into it.
- ``needs`` seconds: an experiment is only started when it can end inside the range it
  starts in; otherwise the answer is closed, with the closing time, and the next opening
  is the first range long enough for it.
- Local times are built in the zone (``datetime(..., tzinfo=zone)``) and compared as
  aware datetimes, so daylight-saving changes shift the UTC instants, not the rules. A
  range start that falls in a spring-forward gap opens at the first instant after it.
- The search for the next opening is bounded (``HORIZON_DAYS``); "no window opens within
  a year" is an answer, not a hang.
"""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo

from runner.day import model as day_model

HORIZON_DAYS = 400
UTC = datetime.UTC


@dataclasses.dataclass(frozen=True)
class Answer:
    """The window's answer at one moment."""

    open: bool
    reason: str
    closes_at: datetime.datetime | None = None  # when the current range ends (open only)
    next_open: datetime.datetime | None = None  # the next range start that fits (closed)


def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def show(moment: datetime.datetime, window: day_model.Window) -> str:
    """``Tue 2026-11-03 14:00 Europe/Berlin (13:00 UTC)``."""
    local = moment.astimezone(zone(window.timezone))
    utc = moment.astimezone(UTC)
    day = day_model.WEEKDAYS[local.weekday()].capitalize()
    text = f"{day} {local:%Y-%m-%d %H:%M} {window.timezone}"
    return text if window.timezone == "UTC" else f"{text} ({utc:%H:%M} UTC)"


def _at(day: datetime.date, minutes: int, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    base = datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=tz)
    if minutes >= day_model.MINUTES_PER_DAY:
        return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0, 0),
                                         tzinfo=tz)
    local = base.replace(hour=minutes // 60, minute=minutes % 60)
    # A time in a spring-forward gap does not exist: take the instant it maps to in UTC.
    return local.astimezone(UTC).astimezone(tz)


def _ranges(window: day_model.Window, day: datetime.date, tz: zoneinfo.ZoneInfo,
            ) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The ranges that start on local ``day`` (empty when it is not an allowed weekday),
    each cut at the first frozen midnight it reaches."""
    if day.weekday() not in window.days or window.frozen(day):
        return []
    found = []
    for hours in window.hours:
        start = _at(day, hours.start, tz)
        end_day = day + datetime.timedelta(days=1) if hours.overnight else day
        end = _at(end_day, hours.end, tz)
        if hours.overnight and window.frozen(end_day):
            end = _at(end_day, 0, tz)
        if end > start:
            found.append((start, end))
    return sorted(found)


def check(window: day_model.Window, now: float, *, needs: float = 0.0) -> Answer:
    """Whether an experiment needing ``needs`` seconds may start at Unix time ``now``."""
    tz = zone(window.timezone)
    moment = datetime.datetime.fromtimestamp(now, tz=UTC)
    local = moment.astimezone(tz)
    if window.frozen(local.date()):
        return Answer(False, f"{local:%Y-%m-%d} is a freeze date ({window.timezone}): no "
                      f"chaos today; {_next_text(window, moment, needs)}",
                      next_open=next_open(window, moment, needs))
    for day in (local.date() - datetime.timedelta(days=1), local.date()):
        for start, end in _ranges(window, day, tz):
            if not start <= moment < end:
                continue
            if moment + datetime.timedelta(seconds=needs) <= end:
                return Answer(True, f"inside the window until {show(end, window)}",
                              closes_at=end)
            return Answer(False, f"it would not end before the window closes at "
                          f"{show(end, window)} (it needs about {_minutes(needs)}); "
                          f"{_next_text(window, moment, needs)}",
                          next_open=next_open(window, moment, needs))
    return Answer(False, f"{show(moment, window)} is outside the window ({describe(window)}); "
                  f"{_next_text(window, moment, needs)}",
                  next_open=next_open(window, moment, needs))


def next_open(window: day_model.Window, after: datetime.datetime,
              needs: float = 0.0) -> datetime.datetime | None:
    """The first range start after ``after`` whose range is long enough for ``needs``."""
    tz = zone(window.timezone)
    first = after.astimezone(tz).date()
    for offset in range(HORIZON_DAYS + 1):
        for start, end in _ranges(window, first + datetime.timedelta(days=offset), tz):
            if start > after and (end - start).total_seconds() >= needs:
                return start
    return None


def _next_text(window: day_model.Window, after: datetime.datetime, needs: float) -> str:
    found = next_open(window, after, needs)
    if found is None:
        return (f"no window long enough opens within {HORIZON_DAYS} days; check the "
                "days, hours and freeze dates of 'when'")
    return f"the next window opens {show(found, window)}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def describe(window: day_model.Window) -> str:
    """``tue, wed 14:00-17:00 Europe/Berlin; freeze 2026-12-24``."""
    if window.days == frozenset(range(7)):
        days = "every day"
    else:
        days = ", ".join(day_model.WEEKDAYS[d] for d in sorted(window.days))
    hours = ", ".join(str(h) for h in window.hours)
    text = f"{days} {hours} {window.timezone}"
    if window.freeze:
        text += "; freeze " + ", ".join(
            str(a) if a == b else f"{a}..{b}" for a, b in window.freeze)
    return text
