"""Per-tick delta extraction from raw counter samples (pure, no Prometheus)."""

from __future__ import annotations

import math

from runner.adapters import prometheus as adapter

A: adapter.SeriesKey = (("__name__", "req_total"), ("code", "200"))
B: adapter.SeriesKey = (("__name__", "req_total"), ("code", "500"))


def test_priming_only_remembers_the_last_point_of_each_series() -> None:
    step = adapter.advance({}, [(A, [(1.0, 5.0), (2.0, 7.0)])], primed=False)
    assert step.state == {A: (2.0, 7.0)}
    assert step.delta == 0.0


def test_increments_newer_than_the_last_seen_sample_are_summed_once() -> None:
    state: dict[adapter.SeriesKey, adapter.Point] = {A: (2.0, 7.0)}
    step = adapter.advance(state, [(A, [(1.0, 5.0), (2.0, 7.0), (3.0, 9.0), (4.0, 12.0)])],
                           primed=True)
    assert step.delta == 5.0
    assert step.advanced
    again = adapter.advance(step.state, [(A, [(3.0, 9.0), (4.0, 12.0)])], primed=True)
    assert again.delta == 0.0
    assert not again.advanced


def test_a_counter_reset_counts_the_new_value_as_the_increase() -> None:
    step = adapter.advance({A: (1.0, 100.0)}, [(A, [(2.0, 104.0), (3.0, 3.0), (4.0, 6.0)])],
                           primed=True)
    assert step.delta == 4.0 + 3.0 + 3.0


def test_a_series_appearing_after_priming_counts_from_zero() -> None:
    step = adapter.advance({A: (1.0, 10.0)}, [(A, [(2.0, 10.0)]), (B, [(2.0, 3.0)])],
                           primed=True)
    assert step.delta == 3.0
    assert step.state[B] == (2.0, 3.0)


def test_a_series_missing_from_one_fetch_keeps_its_state_and_loses_nothing() -> None:
    state: dict[adapter.SeriesKey, adapter.Point] = {A: (1.0, 10.0), B: (1.0, 2.0)}
    missed = adapter.advance(state, [(A, [(2.0, 11.0)])], primed=True)
    assert missed.state[B] == (1.0, 2.0)
    back = adapter.advance(missed.state, [(B, [(3.0, 5.0)])], primed=True)
    assert back.delta == 3.0


def test_nan_samples_are_ignored() -> None:
    step = adapter.advance({A: (1.0, 1.0)}, [(A, [(2.0, math.nan), (3.0, 2.0)])], primed=True)
    assert step.delta == 1.0


def test_urls_lose_their_credentials_in_messages() -> None:
    assert adapter.safe_url("http://u:secret@prom:9090/x") == "http://prom:9090/x"
    assert adapter.safe_url("http://prom:9090") == "http://prom:9090"
