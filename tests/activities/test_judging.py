"""Activity outcomes are judged through real chaoslib runs: real processes, real HTTP."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from runner import errors
from runner.adapters import chaos


def process(path: str, arguments: Any = None) -> dict[str, Any]:
    provider: dict[str, Any] = {"type": "process", "path": path}
    if arguments is not None:
        provider["arguments"] = arguments
    return {"type": "action", "name": f"run {path}", "provider": provider}


def http_action(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "action", "name": f"call {url}",
            "provider": {"type": "http", "url": url, "timeout": 5, **extra}}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = int(self.path.strip("/") or 200)
        body = f"answer {code}".encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_a_process_that_exits_non_zero_is_a_failed_activity() -> None:
    with pytest.raises(errors.ActivityError) as caught:
        chaos.ChaosToolkitActivities().run(process("false"))
    assert "exited with status 1" in caught.value.message
    assert caught.value.evidence["status"] == 1


def test_a_process_killed_by_a_signal_is_a_failed_activity() -> None:
    with pytest.raises(errors.ActivityError) as caught:
        chaos.ChaosToolkitActivities().run(process("sh", ["-c", "echo dying >&2; kill -9 $$"]))
    assert "killed by signal 9" in caught.value.message
    assert "dying" in caught.value.evidence["stderr"]


def test_a_process_that_exits_zero_succeeds_with_its_output() -> None:
    result = chaos.ChaosToolkitActivities().run(process("echo", ["hello"]))
    assert result["status"] == 0 and result["stdout"].strip() == "hello"


def test_an_http_404_is_a_failed_activity(server: str) -> None:
    with pytest.raises(errors.ActivityError) as caught:
        chaos.ChaosToolkitActivities().run(http_action(f"{server}/404"))
    assert "HTTP answer was 404" in caught.value.message
    assert caught.value.evidence["status"] == 404


def test_an_http_status_the_activity_expects_is_success(server: str) -> None:
    result = chaos.ChaosToolkitActivities().run(
        http_action(f"{server}/404", expected_status=[404, 410]))
    assert result["status"] == 404


def test_an_expected_status_that_does_not_come_is_a_failure(server: str) -> None:
    with pytest.raises(errors.ActivityError, match="expected 201"):
        chaos.ChaosToolkitActivities().run(http_action(f"{server}/200", expected_status=201))


def test_an_http_200_succeeds(server: str) -> None:
    assert chaos.ChaosToolkitActivities().run(http_action(f"{server}/200"))["status"] == 200


def test_an_unreachable_http_endpoint_is_a_failure() -> None:
    with pytest.raises(errors.ActivityError, match="failed"):
        chaos.ChaosToolkitActivities().run(http_action("http://127.0.0.1:9/"))


def test_a_python_activity_that_raises_is_a_failure() -> None:
    activity = {"type": "action", "name": "bad",
                "provider": {"type": "python", "module": "json", "func": "loads",
                             "arguments": {"s": "{not json"}}}
    with pytest.raises(errors.ActivityError) as caught:
        chaos.ChaosToolkitActivities().run(activity)
    assert caught.value.evidence["exception"]
