"""Latency through the proxy: clients see it, the histogram shows it, and it expires itself."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from chaoslib.exceptions import ActivityFailed

import gameday_local.actions as actions
import gameday_local.probes as probes
from runner.sandbox import latency, manager, state
from tests.sandbox.support import slow_requests, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_injected_latency_shows_in_the_proxy_histogram_and_expires_by_its_ttl(
        sandbox_dir: Path) -> None:
    proxy_url = state.url_of(manager.load_state(sandbox_dir), state.PROXY)
    slow_before = slow_requests(proxy_url)
    try:
        injection = actions.add_latency(str(sandbox_dir), delay=0.4, jitter=0.05, ttl=3.0,
                                        injection_id="ttl-test")
        assert injection == "ttl-test"
        assert [i["id"] for i in probes.active_latency(str(sandbox_dir))] == ["ttl-test"]
        wait_until(lambda: slow_requests(proxy_url) >= slow_before + 10, timeout=10,
                   what="10 requests above 0.3 s in the proxy histogram")

        wait_until(lambda: probes.active_latency(str(sandbox_dir)) == [], timeout=10,
                   what="the injection expires by its TTL")
        # In-flight slow requests finish within delay + jitter; after that none are slow.
        assert wait_until(lambda: _stable(proxy_url), timeout=10, what="no new slow requests")
    finally:
        actions.remove_latency(str(sandbox_dir))


def _stable(proxy_url: str) -> bool:
    """No request above 0.3 s during one second (40 requests at the sandbox's rate)."""
    first = slow_requests(proxy_url)
    time.sleep(1.0)
    return slow_requests(proxy_url) == first


def test_removing_latency_is_idempotent(sandbox_dir: Path) -> None:
    sandbox = str(sandbox_dir)
    actions.add_latency(sandbox, delay=0.01, ttl=30.0, injection_id="idem")
    assert actions.remove_latency(sandbox, "idem") == 1
    assert actions.remove_latency(sandbox, "idem") == 0
    assert actions.remove_latency(sandbox, "never-existed") == 0
    assert probes.active_latency(sandbox) == []


def test_removing_all_latency_clears_every_injection(sandbox_dir: Path) -> None:
    sandbox = str(sandbox_dir)
    actions.add_latency(sandbox, delay=0.01, ttl=30.0, injection_id="a")
    actions.add_latency(sandbox, delay=0.01, ttl=30.0, injection_id="b")
    assert actions.remove_latency(sandbox) == 2
    assert probes.active_latency(sandbox) == []


def test_a_bad_latency_request_is_refused_with_the_reason(sandbox_dir: Path) -> None:
    with pytest.raises(ActivityFailed, match="delay must be within"):
        actions.add_latency(str(sandbox_dir), delay=-1.0)
    assert probes.active_latency(str(sandbox_dir)) == []


def test_an_injection_lives_exactly_until_its_ttl() -> None:
    clock = FakeClock()
    table = latency.LatencyTable(monotonic=clock, wall=clock, seed=1)
    table.add("x", 0.2, 0.0, 5.0)
    clock.now += 4.999
    assert table.delay() == pytest.approx(0.2)
    clock.now += 0.001
    assert table.delay() == 0.0
    assert table.active() == []
    assert not table.remove("x")


def test_live_injections_add_up_and_an_id_is_replaced_not_doubled() -> None:
    clock = FakeClock()
    table = latency.LatencyTable(monotonic=clock, wall=clock, seed=1)
    table.add("a", 0.1, 0.0, 60.0)
    table.add("b", 0.2, 0.0, 60.0)
    table.add("a", 0.3, 0.0, 60.0)
    assert table.delay() == pytest.approx(0.5)
    assert sorted(i["id"] for i in table.active()) == ["a", "b"]


def test_jitter_stays_within_its_bounds_and_never_goes_below_zero() -> None:
    clock = FakeClock()
    table = latency.LatencyTable(monotonic=clock, wall=clock, seed=7)
    table.add("j", 0.05, 0.1, 60.0)
    delays = [table.delay() for _ in range(500)]
    assert min(delays) == 0.0
    assert max(delays) <= 0.15
    assert len(set(delays)) > 100


@pytest.mark.parametrize(("body", "reason"), [
    ({"delay": "1s"}, "delay must be a number"),
    ({"delay": 0.1, "ttl": 0}, "ttl must be within"),
    ({"delay": 0.1, "id": "bad id!"}, "id must be"),
    ({"delay": 0.1, "color": "red"}, "unknown field"),
    ([0.1], "JSON object"),
])
def test_an_invalid_injection_request_says_what_is_wrong(body: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        latency.parse_request(body)
