"""The NetworkChaos body and its names: valid for the API server, bounded, attributable."""

from __future__ import annotations

import re

import pytest

from gameday_k8s import chaosmesh

DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@pytest.mark.parametrize(("seconds", "text"), [
    (0.2, "200ms"), (0.0, "0s"), (330.0, "330s"), (1.5, "1500ms"), (0.0005, "500us")])
def test_durations_are_written_as_go_durations(seconds: float, text: str) -> None:
    assert chaosmesh.go_duration(seconds) == text


def test_names_are_dns_labels_even_for_long_odd_run_ids() -> None:
    long_id = "2024-06-11T10:00:00Z/" + "x" * 80
    name = chaosmesh.object_name(long_id, 3, "Cart Latency")
    assert DNS_1123.match(name)
    assert len(name) <= 63
    assert chaosmesh.object_name(long_id, 4, "Cart Latency") != name


def test_run_ids_become_valid_label_values_and_stay_whole_in_the_annotation() -> None:
    run_id = "2024-06-11T10:00:00Z/" + "y" * 80
    body = chaosmesh.network_delay(
        name="n", namespace="shop", run_id=run_id, labels={"app": "cart"}, expressions=None,
        delay=0.1, jitter=0.0, correlation=0.0, direction="to", duration=61.2)
    value = body["metadata"]["labels"][chaosmesh.RUN_ID_LABEL]
    assert LABEL_VALUE.match(value)
    assert len(value) <= 63
    assert body["metadata"]["annotations"][chaosmesh.RUN_ID_LABEL] == run_id
    assert body["spec"]["duration"] == "62s"  # rounded up, never shorter than asked


def test_a_network_chaos_without_a_selector_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a label selector"):
        chaosmesh.network_delay(
            name="n", namespace="shop", run_id="r", labels={}, expressions=[], delay=0.1,
            jitter=0.0, correlation=0.0, direction="to", duration=60.0)
