"""gameday's own metrics: a run's journal events become series on /metrics, a Pushgateway
and a node_exporter textfile, all read back with prometheus_client's own parser."""

from __future__ import annotations

import io
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import parser

from runner import errors, ports
from runner.adapters import telemetry, telemetry_outputs
from runner.model import experiment as model
from runner.sandbox import net
from tests.engine.conftest import Harness

ROOT = Path(__file__).resolve().parents[2]
Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Series:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in parser.text_string_to_metric_families(text) for s in family.samples}


def scrape(url: str) -> Series:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return parse(resp.read().decode())


def value(series: Series, name: str, **labels: str) -> float:
    found = [v for (n, ls), v in series.items()
             if n == name and set(labels.items()) <= set(ls)]
    assert len(found) == 1, f"{name}{labels}: {len(found)} series"
    return found[0]


def broken_after(call_threshold: int) -> Callable[[int, model.Probe], ports.Sample]:
    def script(call: int, probe: model.Probe) -> ports.Sample:
        if isinstance(probe, model.GaugeProbe):
            return ports.Value(3.0)
        return ports.Counts(n=200, e=100 if call >= call_threshold else 0)
    return script


def events_of(h: Harness) -> list[Mapping[str, Any]]:
    h.run()
    return list(h.sink.events)


def first(events: Sequence[Mapping[str, Any]], type_: str, **match: Any) -> Mapping[str, Any]:
    return next(e for e in events
                if e["type"] == type_ and all(e.get(k) == v for k, v in match.items()))


def test_a_live_run_is_on_metrics_while_it_runs_and_its_end_after(
        harness: Callable[..., Harness]) -> None:
    events = events_of(harness(script=broken_after(16)))
    second_watch_tick = events.index(first(events, "tick", phase="watch", tick=2))
    cfg = telemetry_outputs.Config(listen=("127.0.0.1", 0))
    with telemetry_outputs.open_telemetry(cfg, err=io.StringIO()) as tel:
        assert tel.url is not None
        for event in events[: second_watch_tick + 1]:
            tel.sink.emit(event)
        mid = scrape(tel.url)
        for event in events[second_watch_tick + 1:]:
            tel.sink.emit(event)
        end = scrape(tel.url)
    run = {"run_id": "test-run", "experiment": "engine test"}
    assert value(mid, "gameday_run_phase", phase="watch", **run) == 1
    assert value(mid, "gameday_run_phase", phase="baseline", **run) == 0
    assert value(mid, "gameday_run_tick", phase="watch") == 2
    assert value(mid, "gameday_run_ticks", phase="watch") == 30
    assert value(mid, "gameday_faults_live") == 2
    assert value(mid, "gameday_run_live") == 1
    tick = events[second_watch_tick]
    [stats] = tick["stats"]["probes"]
    assert math.isclose(value(mid, "gameday_probe_e_value", probe="errors"),
                        math.exp(stats["log_e"]))
    assert value(mid, "gameday_probe_p_value", probe="errors") == stats["p_value"]
    assert value(mid, "gameday_guardrail_value", guardrail="ready") == 3

    abort = first(events, "abort")
    reverts = [e for e in events if e["type"] == "revert-result"]
    watch = first(events, "phase", phase="watch")
    assert value(end, "gameday_run_phase", phase="done") == 1
    assert value(end, "gameday_run_live") == 0
    assert value(end, "gameday_run_exit_code", verdict="broken") == 1
    assert value(end, "gameday_runs_total", verdict="broken") == 1
    assert value(end, "gameday_aborts_total", kind="steady-state") == 1
    assert value(end, "gameday_abort_timestamp_seconds", kind="steady-state") == abort["ts"]
    assert value(end, "gameday_abort_detection_seconds") == abort["ts"] - watch["ts"]
    assert value(end, "gameday_abort_to_reverted_seconds") == reverts[-1]["ts"] - abort["ts"]
    assert value(end, "gameday_faults_live") == 0
    assert value(end, "gameday_reverts_total", outcome="ok", by="run") == 2
    assert value(end, "gameday_revert_duration_seconds_count", outcome="ok") == 2
    assert value(end, "gameday_steady_state_rejected") == 1
    assert value(end, "gameday_journal_events_total", type="tick") == sum(
        e["type"] == "tick" for e in events)


def test_a_failed_revert_leaves_the_fault_live_and_claims_no_abort_to_reverted_time(
        harness: Callable[..., Harness]) -> None:
    events = events_of(harness(script=broken_after(16), failures={"revert-1": 99}))
    sink = telemetry.TelemetrySink()
    for event in events:
        sink.emit(event)
    got = parse(_render(sink))
    assert value(got, "gameday_faults_live") == 1
    assert value(got, "gameday_reverts_total", outcome="failed") == 1
    assert value(got, "gameday_run_exit_code", verdict="revert-failed") == 5
    assert not any(name == "gameday_abort_to_reverted_seconds" for name, _ in got)


def test_an_event_the_metrics_cannot_read_never_reaches_the_run() -> None:
    err = io.StringIO()
    sink = telemetry.TelemetrySink(err=err)
    sink.emit({"type": "run-started", "ts": 1.0, "run_id": "r", "title": "t"})
    sink.emit({"type": "tick", "ts": 2.0, "phase": "watch", "tick": 1,
               "stats": {"probes": [{"log_e": 0.5}]}})  # no probe name
    sink.emit({"type": "tick", "ts": 3.0, "phase": "watch", "tick": 2,
               "stats": {"probes": [{"log_e": 0.5}]}})
    got = parse(_render(sink))
    assert value(got, "gameday_telemetry_errors_total") == 2
    assert err.getvalue().count("metrics could not follow a tick event") == 1


def _render(sink: telemetry.TelemetrySink) -> str:
    from prometheus_client import generate_latest

    return generate_latest(sink.registry).decode()


def test_the_textfile_holds_the_final_state_and_is_replaced_whole(
        harness: Callable[..., Harness], tmp_path: Path) -> None:
    events = events_of(harness())
    (tmp_path / "textfiles").mkdir()
    path = tmp_path / "textfiles" / "gameday.prom"
    cfg = telemetry_outputs.Config(textfile=path, interval=0.05)
    with telemetry_outputs.open_telemetry(cfg, err=io.StringIO()) as tel:
        for event in events:
            tel.sink.emit(event)
    got = parse(path.read_text())
    assert value(got, "gameday_run_exit_code", verdict="held") == 0
    assert value(got, "gameday_faults_injected_total") == 2
    assert [p.name for p in path.parent.iterdir()] == ["gameday.prom"]  # no temp file left


def test_bad_metrics_options_are_refused_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match=r"ending in \.prom"):
        telemetry_outputs.config(None, None, tmp_path / "gameday.txt")
    with pytest.raises(errors.InputError, match="does not exist"):
        telemetry_outputs.config(None, None, tmp_path / "nowhere" / "gameday.prom")
    with pytest.raises(errors.InputError, match="not an http"):
        telemetry_outputs.config(None, "pushgateway:9091", None)
    with pytest.raises(errors.InputError, match="not a port"):
        telemetry_outputs.config("ninety", None, None)
    assert telemetry_outputs.config("0.0.0.0:9464", None, None).listen == ("0.0.0.0", 9464)
    port = net.free_port()
    cfg = telemetry_outputs.Config(listen=("127.0.0.1", port))
    with telemetry_outputs.open_telemetry(cfg, err=io.StringIO()), \
            pytest.raises(errors.InputError, match="choose a free port"), \
            telemetry_outputs.open_telemetry(cfg, err=io.StringIO()):
        pass


def test_gameday_run_refuses_a_bad_textfile_with_exit_2_and_starts_nothing(
        tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runner.cli.main", "run",
         str(ROOT / "experiments/local-replica-kill.yaml"), "--sandbox", str(tmp_path / "none"),
         "--metrics-textfile", str(tmp_path / "gameday.txt"), "--journal-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=60,
        env={**os.environ, "CI": "true"})
    assert done.returncode == 2
    assert "ending in .prom" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.glob("*/journal.jsonl"))


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    """Debian's prometheus-pushgateway on a loopback port (skips, saying how, if absent)."""
    binary = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    if binary is None:
        pytest.skip("prometheus-pushgateway is not installed: "
                    "apt-get install -y --no-install-recommends prometheus-pushgateway")
    port = net.free_port()
    proc = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("the Pushgateway did not become ready") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_a_real_pushgateway_keeps_the_final_state_of_the_run(
        harness: Callable[..., Harness], pushgateway: str) -> None:
    events = events_of(harness(script=broken_after(16)))
    cfg = telemetry_outputs.Config(pushgateway=pushgateway, interval=0.05)
    with telemetry_outputs.open_telemetry(cfg, err=io.StringIO()) as tel:
        for event in events:
            tel.sink.emit(event)
    got = scrape(f"{pushgateway}/metrics")
    assert value(got, "gameday_run_exit_code", verdict="broken", job="gameday") == 1
    assert value(got, "gameday_aborts_total", kind="steady-state", job="gameday") == 1
    assert value(got, "gameday_faults_live", job="gameday") == 0


def test_a_pushgateway_that_is_down_is_said_once_and_the_events_still_count(
        harness: Callable[..., Harness]) -> None:
    events = events_of(harness())
    err = io.StringIO()
    cfg = telemetry_outputs.Config(pushgateway=f"http://127.0.0.1:{net.free_port()}",
                                   interval=0.01)
    with telemetry_outputs.open_telemetry(cfg, err=err) as tel:
        for event in events:
            tel.sink.emit(event)
    assert err.getvalue().count("the push to") == 1
    assert value(parse(_render(tel.sink)), "gameday_runs_total", verdict="held") == 1
