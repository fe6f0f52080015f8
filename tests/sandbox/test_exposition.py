"""The sandbox's exporters (prometheus_client): the series experiments query, from the start.

The names and labels are docs/CONTRACTS.md "Sandbox": each exporter's real object renders
its registry, and the text is parsed back with prometheus_client's own parser.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import parser

from runner.sandbox import exposition, proxy, service, supervisor


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in parser.text_string_to_metric_families(text.decode())
            for s in family.samples}


def test_the_proxy_exports_codes_at_zero_and_a_histogram_with_a_bucket_at_the_slo() -> None:
    p = proxy.Proxy([("127.0.0.1", 9)])
    for value in (0.001, 0.3, 0.31, 7.0):
        p.duration.observe(value)
    p.requests.labels("200").inc()
    got = samples(exposition.render(p.registry))
    assert {code for (name, labels) in got if name == "gameday_proxy_requests_total"
            for _k, code in labels} == {"200", "500", "502", "503"}
    assert got[("gameday_proxy_requests_total", (("code", "500"),))] == 0
    assert got[("gameday_proxy_requests_total", (("code", "200"),))] == 1
    hist = "gameday_proxy_request_duration_seconds"
    assert got[(f"{hist}_bucket", (("le", "0.005"),))] == 1
    assert got[(f"{hist}_bucket", (("le", "0.3"),))] == 2  # le is inclusive
    assert got[(f"{hist}_bucket", (("le", "5.0"),))] == 3
    assert got[(f"{hist}_bucket", (("le", "+Inf"),))] == 4
    assert got[(f"{hist}_count", ())] == 4
    assert got[("gameday_proxy_latency_injections", ())] == 0
    assert not any(name.endswith("_created") for name, _ in got)  # the contract, unchanged


def test_a_replica_and_the_supervisor_export_what_the_contract_names(tmp_path: Path) -> None:
    replica = service.Replica("demo-0", 0.0, 0.0, seed=1)
    got = samples(exposition.render(replica.registry))
    assert got[("demo_http_requests_total", (("code", "500"),))] == 0
    assert ("demo_request_duration_seconds_bucket", (("le", "0.3"),)) in got
    sup = supervisor.Supervisor([], service="demo", restart_delay=1.0, log_dir=tmp_path)
    sup.ready_gauge.set(2)
    sup.restarts_total.inc()
    got = samples(exposition.render(sup.registry))
    assert got == {("gameday_sandbox_ready_replicas", (("service", "demo"),)): 2,
                   ("gameday_sandbox_restarts_total", ()): 1}


def test_two_exporters_in_one_process_do_not_share_series() -> None:
    first, second = proxy.Proxy([]), proxy.Proxy([])
    first.requests.labels("200").inc(5)
    assert samples(exposition.render(second.registry))[
        ("gameday_proxy_requests_total", (("code", "200"),))] == 0
