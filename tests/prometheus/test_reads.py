"""One probe's read on recorded answers: the consistency cut, selectors, the one-bucket query."""

from __future__ import annotations

from typing import Any

from runner import ports
from runner.adapters.prometheus import deltas, reads, selectors
from runner.model import experiment as model

A = {"__name__": "req_total", "job": "shop", "instance": "a:80", "code": "200"}
A_ERR = {"__name__": "err_total", "job": "shop", "instance": "a:80"}


def matrix(labels: dict[str, str], *points: tuple[float, float]) -> dict[str, Any]:
    return {"metric": labels, "values": [[t, str(v)] for t, v in points]}


def test_a_side_one_scrape_ahead_is_cut_back_to_the_scrape_both_saw() -> None:
    total = deltas.parse_matrix([matrix(A, (1, 100), (2, 200))])
    errs = deltas.parse_matrix([matrix(A_ERR, (1, 1), (2, 2), (3, 3))])
    kept_total, kept_errs, cut = deltas.cut(total, errs)
    assert cut == 1
    assert kept_total == total
    assert kept_errs[0][1] == [(1.0, 1.0), (2.0, 2.0)]


def test_a_side_several_scrapes_ahead_is_a_series_that_stopped_and_is_not_cut() -> None:
    total = deltas.parse_matrix([matrix(A, (1, 100), (2, 200), (3, 300))])
    errs = deltas.parse_matrix([matrix(A_ERR, (1, 1))])
    assert deltas.cut(total, errs) == (total, errs, 0)


def test_targets_are_cut_independently() -> None:
    b = {**A, "instance": "b:80"}
    total = deltas.parse_matrix([matrix(A, (1, 1), (2, 2)), matrix(b, (1, 1), (2, 2))])
    errs = deltas.parse_matrix([matrix({**A_ERR, "instance": "b:80"}, (1, 1))])
    kept_total, _, cut = deltas.cut(total, errs)
    assert cut == 1
    assert kept_total[0][1] == [(1.0, 1.0), (2.0, 2.0)]  # target a: no errors series to match
    assert kept_total[1][1] == [(1.0, 1.0)]


def test_a_ratio_over_two_metrics_counts_a_held_back_scrape_on_the_next_tick() -> None:
    probe = model.RatioProbe(name="r", errors='err_total{job="shop"}',
                             total='req_total{job="shop"}')
    read = reads.RatioRead(probe)
    assert len(read.queries(300)) == 2 and read.pinned
    assert read.take([[matrix(A, (1, 100))], [matrix(A_ERR, (1, 1))]]) is None  # primes
    raced = read.take([[matrix(A, (1, 100), (2, 200))], [matrix(A_ERR, (1, 1), (2, 2), (3, 4))]])
    assert raced == ports.Counts(100, 1)
    later = read.take([[matrix(A, (2, 200), (3, 300))], [matrix(A_ERR, (2, 2), (3, 4))]])
    assert later == ports.Counts(100, 2)
    assert read.cuts == 1


def test_a_ratio_whose_errors_are_a_subset_of_its_total_needs_one_query() -> None:
    probe = model.RatioProbe(name="r", errors='req_total{job="shop",code=~"5.."}',
                             total='req_total{job="shop"}')
    read = reads.RatioRead(probe)
    err = {**A, "code": "503"}
    assert read.take([[matrix(A, (1, 100)), matrix(err, (1, 1))], [matrix(err, (1, 1))]]) is None
    assert read.queries(3) == ['req_total{job="shop"}[3000ms]']
    assert read.take([[matrix(A, (1, 100), (2, 190)), matrix(err, (1, 1), (2, 11))]]) == \
        ports.Counts(100, 10)


def test_a_local_pick_that_disagrees_with_prometheus_falls_back_to_two_queries() -> None:
    probe = model.RatioProbe(name="r", errors='req_total{code=~"5.."}', total="req_total")
    read = reads.RatioRead(probe)
    read.take([[matrix(A, (1, 100))], [matrix({**A, "code": "200"}, (1, 1))]])
    assert len(read.queries(3)) == 2


def test_the_latency_probe_asks_for_the_threshold_bucket_and_inf_only() -> None:
    probe = model.LatencyProbe(name="p99", histogram="lat_seconds", match='{job="shop"}', max=0.3)
    read = reads.LatencyRead(probe, "http://prom")
    assert read.queries(300) == ['lat_seconds_bucket{job="shop"}[300000ms]']
    bucket = {"__name__": "lat_seconds_bucket", "job": "shop"}
    first = [matrix({**bucket, "le": le}, (1, v))
             for le, v in (("0.1", 5), ("0.3", 8), ("1.0", 9), ("+Inf", 10))]
    assert read.take([first]) is None
    assert read.queries(3) == ['lat_seconds_bucket{job="shop",le=~"\\\\+Inf|0\\\\.3"}[3000ms]']
    after = [matrix({**bucket, "le": "0.3"}, (1, 8), (2, 16)),
             matrix({**bucket, "le": "+Inf"}, (1, 10), (2, 20))]
    assert read.take([after]) == ports.Counts(10, 2)


def test_selectors_compare_by_their_matchers() -> None:
    total = selectors.parse('req_total{app="x"}')
    errors = selectors.parse("req_total{ app = 'x', code=~`5..` }")
    assert total is not None and errors is not None
    assert total.covers(errors) and not errors.covers(total)
    assert errors.matches({"__name__": "req_total", "app": "x", "code": "503"})
    assert not errors.matches({"__name__": "req_total", "app": "x", "code": "200"})
    assert not errors.matches({"__name__": "req_total", "app": "x"})
    assert selectors.parse('{__name__="req_total",app="x"}') == total
    assert selectors.parse('req_total{code!~"2..",}') is not None
    assert selectors.parse("sum(req_total)") is None
    assert selectors.parse('req_total{code=~"[[:alpha:]]"}') is None  # RE2-only syntax
    assert selectors.with_matcher("", "le", "=", "+Inf") == '{le="+Inf"}'


def test_a_pod_spelling_le_differently_is_learnt_not_counted_as_slow() -> None:
    probe = model.LatencyProbe(name="p99", histogram="lat_seconds", max=0.3)
    read = reads.LatencyRead(probe, "http://prom")
    a = {"__name__": "lat_seconds_bucket", "pod": "a"}
    b = {"__name__": "lat_seconds_bucket", "pod": "b"}
    read.take([[matrix({**a, "le": "0.3"}, (1, 8)), matrix({**a, "le": "+Inf"}, (1, 10))]])
    # pod b appears; the narrow query only returns its +Inf bucket (it spells 0.30)
    narrow = [matrix({**a, "le": "0.3"}, (1, 8), (2, 9)), matrix({**a, "le": "+Inf"}, (1, 10),
              (2, 11)), matrix({**b, "le": "+Inf"}, (2, 50))]
    assert read.take([narrow]) == ports.Counts(1, 0)  # b left out, not 50 slow requests
    assert read.queries(3) == ["lat_seconds_bucket[3000ms]"]  # every bucket, once
    full = [matrix({**a, "le": "0.3"}, (2, 9), (3, 10)), matrix({**a, "le": "+Inf"}, (2, 11),
            (3, 12)), matrix({**b, "le": "0.30"}, (2, 50), (3, 60)),
            matrix({**b, "le": "1.0"}, (2, 50), (3, 60)), matrix({**b, "le": "+Inf"}, (2, 50),
            (3, 61))]
    assert read.take([full]) == ports.Counts(62, 1)  # b counted from 0 on both sides
    assert "0\\\\.30" in read.queries(3)[0]


def test_a_series_without_the_threshold_bucket_is_left_out_for_good() -> None:
    probe = model.LatencyProbe(name="p99", histogram="lat_seconds", max=0.3)
    read = reads.LatencyRead(probe, "http://prom")
    a = {"__name__": "lat_seconds_bucket", "pod": "a"}
    odd = {"__name__": "lat_seconds_bucket", "pod": "odd"}
    read.take([[matrix({**a, "le": "0.3"}, (1, 8)), matrix({**a, "le": "+Inf"}, (1, 10)),
                matrix({**odd, "le": "5"}, (1, 3)), matrix({**odd, "le": "+Inf"}, (1, 3))]])
    assert read.bucketless == {(("pod", "odd"),)}
    later = [matrix({**a, "le": "0.3"}, (1, 8), (2, 9)), matrix({**a, "le": "+Inf"}, (1, 10),
             (2, 12)), matrix({**odd, "le": "+Inf"}, (1, 3), (2, 30))]
    assert read.take([later]) == ports.Counts(2, 1)
    assert read.queries(3)[0] != "lat_seconds_bucket[3000ms]"  # no full read every tick
