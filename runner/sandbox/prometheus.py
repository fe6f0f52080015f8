"""Start, wait for and stop a real Prometheus server as a plain loopback process.

The local sandbox and the test suite both need a real Prometheus (DESIGN §7): Debian's
``prometheus`` binary, started with a generated config and a fresh data directory
inside a run directory, listening on 127.0.0.1 only, scraping and evaluating every
second by default.

Decisions:
- A plain child process in its own session (``start_new_session=True``), so Ctrl-C on
  the terminal does not reach it and the sandbox decides when it stops. It is known by
  its PID alone, so a later process (``gameday sandbox down``) can stop it.
- Readiness is polled (``/-/ready``, then ``up{job=...} == 1``), never a fixed sleep:
  with a 1 s scrape the first sample lands after ~6 s because targets are applied
  every ~5 s, and that varies.
- ``stop`` is idempotent: a process already gone is success. It reaps its own children
  (no zombie Prometheus) and treats another owner's zombie as gone without reaping it.
- A secured server (``web_config``: Prometheus' ``--web.config.file`` with TLS and/or
  basic auth) is waited for and queried with its ``Access`` (the CA to trust, the user
  to log in as), so the same readiness polls work against it.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runner import errors
from runner.sandbox import net, promaccess

BINARY = "prometheus"
INSTALL_HINT = (
    "Install it with `apt-get install -y --no-install-recommends prometheus` (Debian/Ubuntu), "
    "or download a release from https://prometheus.io/download/ and put the `prometheus` "
    "binary on PATH."
)


#: Our own live children by PID, so ``stop`` can reap them (no zombies, no ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}


class PrometheusMissing(errors.PlatformError):
    """The ``prometheus`` binary is not on PATH; the message says how to install it."""


Access = promaccess.Access
OPEN = promaccess.OPEN
wait_until_up = promaccess.wait_until_up


@dataclasses.dataclass(frozen=True)
class PrometheusServer:
    """A running Prometheus started by ``start``. ``pid`` is all ``stop`` needs."""

    url: str
    port: int
    pid: int
    run_dir: Path
    config_file: Path | None = None
    data_dir: Path | None = None
    log_file: Path | None = None
    access: Access = OPEN


def find_binary() -> str:
    """The absolute path of ``prometheus`` on PATH, or ``PrometheusMissing``."""
    found = shutil.which(BINARY)
    if found is None:
        raise PrometheusMissing(
            f"The `{BINARY}` binary was not found on PATH "
            f"({os.environ.get('PATH', '') or 'PATH is empty'}). {INSTALL_HINT}"
        )
    return found


def _duration(seconds: float) -> str:
    """Seconds as a Prometheus duration in milliseconds (``1.5`` -> ``1500ms``)."""
    return f"{max(1, round(seconds * 1000))}ms"


def render_config(jobs: Mapping[str, Sequence[str]], scrape_interval: float = 1.0) -> str:
    """The Prometheus config for ``jobs`` (job name -> ``host:port`` targets), as YAML.

    JSON is valid YAML, so the config is written with ``json`` and stays exact.
    """
    interval = _duration(scrape_interval)
    config = {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": interval,
        },
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": list(targets)}]}
            for job, targets in jobs.items()
        ],
    }
    return json.dumps(config, indent=2) + "\n"


def start(
    run_dir: Path,
    jobs: Mapping[str, Sequence[str]],
    *,
    scrape_interval: float = 1.0,
    port: int | None = None,
    extra_args: Sequence[str] = (),
    ready_timeout: float = 30.0,
    data_dir: Path | None = None,
    web_config: Mapping[str, Any] | None = None,
    access: Access = OPEN,
) -> PrometheusServer:
    """Start Prometheus scraping ``jobs`` and wait until it answers ``/-/ready``.

    Writes ``prometheus.yml`` and a fresh ``prometheus-data-*`` directory inside
    ``run_dir`` and logs to ``run_dir/prometheus.log``. When ``port`` is None a free
    loopback port is chosen (and chosen again once if another process took it first).
    ``data_dir`` reuses an existing TSDB instead (e.g. one backfilled with promtool).
    ``web_config`` is written as ``web.yml`` for ``--web.config.file`` (``https://`` when
    it has ``tls_server_config``); ``access`` is how to reach the server then.
    """
    binary = find_binary()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    config_file = run_dir / "prometheus.yml"
    config_file.write_text(render_config(jobs, scrape_interval), encoding="utf-8")
    log_file = run_dir / "prometheus.log"
    scheme, web_args = "http", []
    if web_config is not None:
        web_file = run_dir / "web.yml"
        web_file.write_text(json.dumps(dict(web_config), indent=2) + "\n", encoding="utf-8")
        web_args = [f"--web.config.file={web_file}"]
        scheme = "https" if "tls_server_config" in web_config else "http"
    attempts = 1 if port is not None else 2
    for attempt in range(attempts):
        chosen = port if port is not None else net.free_port()
        tsdb = data_dir or Path(tempfile.mkdtemp(prefix="prometheus-data-", dir=run_dir))
        url = f"{scheme}://{net.LOOPBACK}:{chosen}"
        with log_file.open("ab") as log:
            proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={tsdb}",
                    f"--web.listen-address={net.LOOPBACK}:{chosen}",
                    *web_args,
                    *extra_args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=run_dir,
                start_new_session=True,
            )
        _children[proc.pid] = proc
        server = PrometheusServer(url, chosen, proc.pid, run_dir, config_file, tsdb, log_file,
                                  access)
        try:
            _wait_ready(proc, url, ready_timeout, log_file, access)
        except errors.PlatformError:
            stop(proc.pid)
            if attempt + 1 < attempts and proc.returncode is not None:
                continue  # most likely the free port was taken meanwhile: try another
            raise
        return server
    raise AssertionError("unreachable")  # pragma: no cover


def _wait_ready(proc: subprocess.Popen[bytes], url: str, timeout: float, log: Path,
                access: Access = OPEN) -> None:
    deadline = time.monotonic() + timeout
    while True:
        code = proc.poll()
        if code is not None:
            raise errors.PlatformError(
                f"Prometheus exited with code {code} before it was ready at {url}. "
                f"Its log says: {_tail(log)}"
            )
        remaining = deadline - time.monotonic()
        if access == OPEN:
            try:
                net.wait_http(f"{url}/-/ready", timeout=min(0.5, max(0.05, remaining)))
                return
            except errors.PlatformError:
                pass
        elif promaccess.ready(url, access, timeout=min(1.0, max(0.1, remaining))):
            return
        else:
            time.sleep(0.05)
        if time.monotonic() >= deadline:
            stop(proc.pid)
            raise errors.PlatformError(
                f"Prometheus did not become ready at {url} within {timeout:g} s; "
                f"it was stopped. Its log says: {_tail(log)}"
            )


def _tail(log: Path, lines: int = 5) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def reload(server: PrometheusServer, jobs: Mapping[str, Sequence[str]], *,
           scrape_interval: float = 1.0) -> None:
    """Rewrite the config with new ``jobs`` and make Prometheus reload it (SIGHUP)."""
    if server.config_file is None:
        raise errors.PlatformError(f"Prometheus at {server.url} has no known config file.")
    server.config_file.write_text(render_config(jobs, scrape_interval), encoding="utf-8")
    try:
        os.kill(server.pid, signal.SIGHUP)
    except ProcessLookupError as exc:
        raise errors.PlatformError(
            f"Prometheus at {server.url} (pid {server.pid}) is not running; start it again."
        ) from exc


def reap(pid: int) -> None:
    """Collect the exit status of a Prometheus we started that died by other hands."""
    _gone(pid)


@atexit.register
def _reap_all() -> None:
    """Reap children that exited unnoticed, while the interpreter can still do it."""
    for pid in list(_children):
        _gone(pid)


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited. Our own children are reaped; others' zombies count as gone
    (their owner reaps them: stealing its exit status would lie to it)."""
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return False
        del _children[pid]
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def stop(pid: int, *, timeout: float = 5.0) -> None:
    """SIGTERM ``pid``, wait up to ``timeout`` s, then SIGKILL. Already gone is fine."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        _gone(pid)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    kill_deadline = time.monotonic() + 5.0
    while time.monotonic() < kill_deadline:
        if _gone(pid):
            return
        time.sleep(0.05)
    raise errors.PlatformError(f"Process {pid} survived SIGKILL for 5 s; check it by hand.")
