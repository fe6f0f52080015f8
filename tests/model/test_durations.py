"""Durations, ratios and percentages as SREs write them, table-driven."""

from __future__ import annotations

import pytest

from runner import errors
from runner.model import durations, loader

SECONDS = [
    ("15s", 15.0), ("5m", 300.0), ("300ms", 0.3), ("1h", 3600.0), ("1m30s", 90.0),
    ("1h30m", 5400.0), ("1.5s", 1.5), (".5s", 0.5), ("2d", 172_800.0), ("1s500ms", 1.5),
    (" 15s ", 15.0), (20, 20.0), (0.25, 0.25), ("20", 20.0), ("1e3", 1000.0), ("0s", 0.0),
    (0, 0.0),
]
REFUSED = [
    ("5 min", "expected a duration"), ("5min", "expected a duration"),
    ("fast", "expected a duration"), ("", "expected a duration"),
    ("1s1m", "out of order"), ("1m1m", "repeats a unit"), ("-5s", "cannot be negative"),
    (-1, "cannot be negative"), (True, "found true"), (None, "found nothing"),
    (float("inf"), "finite"), (float("nan"), "finite"), ("15", None), ([1], "found a list"),
]


@pytest.mark.parametrize(("written", "seconds"), SECONDS, ids=[repr(s[0]) for s in SECONDS])
def test_a_duration_is_read_as_seconds(written: object, seconds: float) -> None:
    assert durations.parse_duration(written, field="f") == pytest.approx(seconds)


@pytest.mark.parametrize(("written", "fragment"), [r for r in REFUSED if r[1] is not None],
                         ids=[repr(r[0]) for r in REFUSED if r[1] is not None])
def test_a_malformed_duration_is_an_input_error_that_names_the_field(
    written: object, fragment: str
) -> None:
    with pytest.raises(errors.InputError) as caught:
        durations.parse_duration(written, field="faults[0].latency.delay")
    assert caught.value.exit_code == errors.ExitCode.INVALID
    assert caught.value.message.startswith("faults[0].latency.delay: ")
    assert fragment in caught.value.message


def test_the_loader_reexports_parse_duration() -> None:
    assert loader.parse_duration("1m30s", field="x") == 90.0


RATIOS = [(0.01, 0.01), ("1%", 0.01), ("0.5%", 0.005), ("100%", 1.0), (0, 0.0), ("0.2", 0.2)]


@pytest.mark.parametrize(("written", "ratio"), RATIOS, ids=[repr(r[0]) for r in RATIOS])
def test_a_ratio_is_a_fraction_or_a_percentage(written: object, ratio: float) -> None:
    assert durations.parse_ratio(written, field="max") == pytest.approx(ratio)


@pytest.mark.parametrize("written", [1.5, "150%", "-1%", "%", "one", True, "1 %%"])
def test_a_ratio_outside_zero_to_one_or_not_a_number_is_refused(written: object) -> None:
    with pytest.raises(durations.DurationError):
        durations.parse_ratio(written, field="max")


@pytest.mark.parametrize(("written", "percent"), [(25, 25.0), ("25%", 25.0), ("0.5", 0.5),
                                                  (100, 100.0)])
def test_a_correlation_is_a_percentage(written: object, percent: float) -> None:
    assert durations.parse_percent(written, field="c") == percent


@pytest.mark.parametrize("written", [101, -1, "x", True])
def test_a_correlation_outside_zero_to_a_hundred_is_refused(written: object) -> None:
    with pytest.raises(durations.DurationError, match="percentage from 0 to 100"):
        durations.parse_percent(written, field="c")
