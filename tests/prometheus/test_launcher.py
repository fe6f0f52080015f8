"""Starting and stopping a real Prometheus process on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from runner import errors
from runner.sandbox import net, promaccess
from runner.sandbox import prometheus as launcher
from tests.fixtures.prometheus import PrometheusHandle

pytestmark = pytest.mark.prometheus


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_find_binary_with_an_empty_path_says_how_to_install_prometheus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(launcher.PrometheusMissing) as caught:
        launcher.find_binary()
    assert "apt-get install -y --no-install-recommends prometheus" in caught.value.message
    assert "prometheus.io" in caught.value.message
    assert isinstance(caught.value, errors.PlatformError)


def test_stop_ends_the_process_and_a_second_stop_is_fine(
    prometheus_binary: str, tmp_path: Path
) -> None:
    server = launcher.start(tmp_path, {"nothing": []})
    assert _alive(server.pid)
    assert server.url == f"http://127.0.0.1:{server.port}"
    launcher.stop(server.pid)
    assert not _alive(server.pid)
    launcher.stop(server.pid)


def test_stop_also_ends_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        ["python3", "-c", "import signal,time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
         "print('ready', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        launcher.stop(proc.pid, timeout=0.3)
        assert proc.wait(timeout=5) == -9
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_port_already_taken_fails_the_start_with_the_log_in_the_message(
    prometheus_binary: str, tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(errors.PlatformError) as caught:
            launcher.start(tmp_path, {"x": []}, port=port)
    assert "address already in use" in caught.value.message
    assert (tmp_path / "prometheus.log").exists()


def test_the_generated_config_scrapes_each_job_every_second_on_loopback(
    prometheus: PrometheusHandle,
) -> None:
    config = prometheus.server.config_file
    assert config is not None
    text = config.read_text()
    assert '"scrape_interval": "1000ms"' in text
    assert prometheus.exporter.target in text
    assert prometheus.values(f'up{{job="{prometheus.job}"}}') == [1.0]


def test_waiting_for_a_job_that_never_comes_up_names_it(prometheus: PrometheusHandle) -> None:
    with pytest.raises(errors.PlatformError) as caught:
        launcher.wait_until_up(prometheus.url, ["no-such-job"], timeout=0.5)
    assert "no-such-job" in caught.value.message


def test_waiting_for_http_on_a_closed_port_gives_a_clear_error() -> None:
    url = f"http://127.0.0.1:{net.free_port()}/"
    with pytest.raises(errors.PlatformError) as caught:
        net.wait_http(url, timeout=0.3)
    assert url in caught.value.message


def test_wait_until_up_waits_for_every_target_of_a_job_not_only_the_first_scraped(
    prometheus_binary: str, tmp_path: Path
) -> None:
    from tests.fixtures import exporter as exporter_module

    exporters = [exporter_module.Exporter() for _ in range(3)]
    server = launcher.start(tmp_path, {"many": [e.target for e in exporters]},
                            scrape_interval=2.0)
    try:
        launcher.wait_until_up(server.url, ["many"], timeout=30.0)
        ups = promaccess.query(server.url, 'up{job="many"}', timeout=2.0)
        assert sorted(float(str(s["value"][1])) for s in ups) == [1.0, 1.0, 1.0]  # type: ignore[index]
    finally:
        launcher.stop(server.pid)
        for exp in exporters:
            exp.close()
