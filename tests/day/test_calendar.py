"""The window, on a fake clock: weekdays and hours in an IANA zone, freeze dates, the
time an experiment needs, daylight saving, and when the next window opens."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from runner.day import calendar
from runner.day import model as day_model

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
WINDOW = day_model.Window(timezone="Europe/Berlin", days=frozenset({1, 2}),  # tue, wed
                          hours=(day_model.Hours(14 * 60, 17 * 60),),
                          freeze=((datetime.date(2026, 12, 23), datetime.date(2026, 12, 23)),))


def at(year: int, month: int, day: int, hour: int, minute: int = 0,
       zone: datetime.tzinfo = BERLIN) -> float:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def test_inside_the_hours_of_an_allowed_day_the_window_is_open_until_it_closes() -> None:
    answer = calendar.check(WINDOW, at(2026, 11, 3, 15, 30))  # a Tuesday
    assert answer.open and answer.closes_at is not None
    assert answer.closes_at == datetime.datetime(2026, 11, 3, 17, 0, tzinfo=BERLIN)
    assert "until Tue 2026-11-03 17:00 Europe/Berlin (16:00 UTC)" in answer.reason


def test_the_hours_are_the_zones_not_utc() -> None:
    # 13:30 UTC is 14:30 in Berlin in November (UTC+1): open; 16:30 UTC is 17:30: closed
    assert calendar.check(WINDOW, at(2026, 11, 3, 13, 30, datetime.UTC)).open
    late = calendar.check(WINDOW, at(2026, 11, 3, 16, 30, datetime.UTC))
    assert not late.open
    assert late.next_open == datetime.datetime(2026, 11, 4, 14, 0, tzinfo=BERLIN)
    assert "the next window opens Wed 2026-11-04 14:00 Europe/Berlin" in late.reason


def test_daylight_saving_moves_the_utc_instants_not_the_rule() -> None:
    summer = calendar.check(WINDOW, at(2026, 7, 7, 12, 30, datetime.UTC))  # 14:30 CEST
    winter = calendar.check(WINDOW, at(2026, 12, 1, 12, 30, datetime.UTC))  # 13:30 CET
    assert summer.open and not winter.open
    assert winter.next_open == datetime.datetime(2026, 12, 1, 14, 0, tzinfo=BERLIN)


def test_a_freeze_date_refuses_the_whole_day_and_names_the_next_opening() -> None:
    answer = calendar.check(WINDOW, at(2026, 12, 23, 15, 0))  # a Wednesday, frozen
    assert not answer.open
    assert "2026-12-23 is a freeze date" in answer.reason
    assert answer.next_open == datetime.datetime(2026, 12, 29, 14, 0, tzinfo=BERLIN)


def test_an_experiment_that_would_not_end_before_the_close_is_refused() -> None:
    answer = calendar.check(WINDOW, at(2026, 11, 3, 16, 40), needs=30 * 60)
    assert not answer.open
    assert "would not end before the window closes at Tue 2026-11-03 17:00" in answer.reason
    assert answer.next_open == datetime.datetime(2026, 11, 4, 14, 0, tzinfo=BERLIN)
    assert calendar.check(WINDOW, at(2026, 11, 3, 16, 20), needs=30 * 60).open


def test_an_overnight_range_belongs_to_the_day_it_starts_and_a_freeze_cuts_it() -> None:
    night = day_model.Window(timezone="America/New_York", days=frozenset({4}),  # fri
                             hours=(day_model.Hours(22 * 60, 2 * 60),),
                             freeze=((datetime.date(2026, 11, 14),) * 2,))
    ny = zoneinfo.ZoneInfo("America/New_York")
    assert calendar.check(night, at(2026, 11, 6, 23, 0, ny)).open  # Friday night
    assert calendar.check(night, at(2026, 11, 7, 1, 30, ny)).open  # still Friday's range
    assert not calendar.check(night, at(2026, 11, 8, 1, 30, ny)).open  # Saturday's is not
    assert calendar.check(night, at(2026, 11, 13, 23, 0, ny)).open
    assert not calendar.check(night, at(2026, 11, 14, 1, 0, ny)).open  # the frozen morning


def test_a_window_that_never_opens_says_so_instead_of_searching_forever() -> None:
    never = day_model.Window(days=frozenset({0}), hours=(day_model.Hours(600, 630),))
    answer = calendar.check(never, at(2026, 11, 3, 12), needs=3600)
    assert not answer.open and answer.next_open is None
    assert "no window long enough opens within 400 days" in answer.reason


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Pacific/Chatham", "UTC"])
def test_the_next_opening_is_always_an_open_moment(zone: str) -> None:
    window = day_model.Window(timezone=zone, days=frozenset({0, 3}),
                              hours=(day_model.Hours(9 * 60 + 30, 11 * 60),))
    moment = at(2026, 3, 1, 0, 0, datetime.UTC)
    for _ in range(20):
        answer = calendar.check(window, moment)
        assert not answer.open and answer.next_open is not None
        opened = answer.next_open.timestamp()
        assert opened > moment and calendar.check(window, opened).open
        assert not calendar.check(window, opened - 1).open
        moment = opened + 2 * 3600  # past this range
