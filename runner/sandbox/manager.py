"""Start, inspect and stop the whole local sandbox: ``up``, ``status``, ``down``.

``up`` starts, on free loopback ports: the supervisor (and through it the replicas), the
proxy in front of them, the traffic generator, and a real Prometheus scraping the
supervisor, the proxy and every replica; it waits until all of it is ready (Prometheus
sees ``up == 1`` for every job) and records it in ``<dir>/sandbox.json``. All logs go to
the state dir. Decisions:
- All or nothing: if anything fails during ``up``, what was started is stopped and a
  ``PlatformError`` says what failed and where the logs are. The state file is written
  after each start, so even an ``up`` killed midway leaves ``down`` enough to clean up.
- ``down`` is idempotent and stops by process group (replicas die with the supervisor,
  even a SIGKILLed one); a process already gone is fine.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path

from runner import errors
from runner.sandbox import client, latency, net, procs, prometheus, state, supervisor
from runner.sandbox.state import SandboxState, default_dir, load_state

__all__ = ["SandboxState", "SandboxStatus", "default_dir", "down", "load_state", "status", "up"]

SERVICE = "demo"
OWN_MARKER = "runner.sandbox."


@dataclasses.dataclass(frozen=True)
class SandboxStatus:
    """What runs of a sandbox right now (``None`` where the control API did not answer)."""

    dir: Path
    state: SandboxState
    processes: Mapping[str, bool]  # role -> alive
    replicas: tuple[supervisor.ReplicaInfo, ...] | None
    latency: tuple[latency.InjectionInfo, ...] | None

    @property
    def ready_replicas(self) -> int | None:
        return None if self.replicas is None else sum(1 for r in self.replicas if r["ready"])

    @property
    def healthy(self) -> bool:
        return all(self.processes.values()) and self.ready_replicas == len(self.state["replicas"])


def _record(pid: int, port: int | None, log: Path, marker: str = OWN_MARKER) -> state.ProcessRecord:
    url = None if port is None else f"http://{net.LOOPBACK}:{port}"
    return {"pid": pid, "port": port, "url": url, "log": str(log), "marker": marker}


def _start(st: SandboxState, role: str, module: str, args: list[str], *, port: int | None,
           state_dir: Path) -> None:
    log = state_dir / f"{role}.log"
    pid = procs.spawn_module(module, args, log=log, cwd=state_dir)
    st["processes"][role] = _record(pid, port, log)
    state.save_state(state_dir, st)


def _check_running(st: SandboxState, role: str) -> None:
    record = st["processes"][role]
    if not procs.alive(record["pid"], record["marker"]):
        code = procs.exit_code(record["pid"])
        raise errors.PlatformError(
            f"The sandbox {role} (pid {record['pid']}) exited"
            f"{'' if code is None else f' with code {code}'}; read {record['log']}."
        )


def _wait_replicas(st: SandboxState, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    seen: list[supervisor.ReplicaInfo] = []
    while time.monotonic() < deadline:
        _check_running(st, state.SUPERVISOR)
        try:
            seen = client.replicas(st)
        except errors.PlatformError:
            seen = []
        if seen and all(r["ready"] for r in seen):
            return
        time.sleep(0.1)
    names = [r["name"] for r in seen if not r["ready"]] or ["(no answer from the supervisor)"]
    raise errors.PlatformError(
        f"Replicas not ready after {timeout:g} s: {', '.join(names)}; read their logs in "
        f"{st['dir']}."
    )


def up(state_dir: Path, *, replicas: int = 3, rps: float = 40.0, restart_delay: float = 1.0,
       seed: int = 0, error_rate: float = 0.0, timeout: float = 60.0) -> SandboxState:
    """Start a sandbox in ``state_dir`` and wait until all of it is ready; its state."""
    if replicas < 1 or rps <= 0:
        raise errors.InputError("The sandbox needs at least 1 replica and a positive rate.")
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    _refuse_if_running(state_dir)
    ports = [net.free_port() for _ in range(replicas)]
    st: SandboxState = {
        "version": state.VERSION, "status": "starting", "dir": str(state_dir),
        "started_at": time.time(), "service": SERVICE,
        "replicas": [{"name": f"{SERVICE}-{i}", "port": p} for i, p in enumerate(ports)],
        "processes": {},
    }
    state.save_state(state_dir, st)
    try:
        sup_port, proxy_port = net.free_port(), net.free_port()
        _start(st, state.SUPERVISOR, "runner.sandbox.supervisor", [
            "--port", str(sup_port), "--service", SERVICE, "--restart-delay", str(restart_delay),
            "--error-rate", str(error_rate), "--log-dir", str(state_dir),
            *(arg for p in ports for arg in ("--replica-port", str(p)))],
            port=sup_port, state_dir=state_dir)
        _start(st, state.PROXY, "runner.sandbox.proxy", [
            "--port", str(proxy_port), "--seed", str(seed),
            *(arg for p in ports for arg in ("--upstream", f"{net.LOOPBACK}:{p}"))],
            port=proxy_port, state_dir=state_dir)
        _wait_replicas(st, timeout=min(timeout, 30.0))
        net.wait_http(f"{state.url_of(st, state.PROXY)}/-/healthz", timeout=10.0)
        _start(st, state.TRAFFIC, "runner.sandbox.traffic", [
            "--url", f"{state.url_of(st, state.PROXY)}/", "--rps", str(rps)], port=None,
               state_dir=state_dir)
        jobs = {state.SUPERVISOR: [f"{net.LOOPBACK}:{sup_port}"],
                state.PROXY: [f"{net.LOOPBACK}:{proxy_port}"],
                SERVICE: [f"{net.LOOPBACK}:{p}" for p in ports]}
        server = prometheus.start(state_dir / "prometheus", jobs, scrape_interval=1.0)
        st["processes"][state.PROMETHEUS] = _record(
            server.pid, server.port, server.log_file or state_dir / "prometheus", "prometheus")
        state.save_state(state_dir, st)
        prometheus.wait_until_up(server.url, list(jobs), timeout=timeout)
        for role in (state.SUPERVISOR, state.PROXY, state.TRAFFIC):
            _check_running(st, role)
    except BaseException as exc:
        _stop_all(st)
        state.remove_state(state_dir)
        if isinstance(exc, errors.GamedayError):
            raise errors.PlatformError(
                f"The sandbox did not start: {exc.message} Everything it had started was "
                f"stopped; logs are in {state_dir}.") from exc
        if not isinstance(exc, Exception):
            raise  # KeyboardInterrupt, SystemExit: cleaned up, now let it through
        raise errors.PlatformError(
            f"The sandbox did not start ({type(exc).__name__}: {exc}). Everything it had "
            f"started was stopped; logs are in {state_dir}.") from exc
    st["status"] = "ready"
    state.save_state(state_dir, st)
    return st


def _refuse_if_running(state_dir: Path) -> None:
    if not state.state_path(state_dir).exists():
        return
    try:
        old = load_state(state_dir)
    except errors.PlatformError:
        state.remove_state(state_dir)  # unreadable leftovers: nothing we can stop by it
        return
    running = [role for role, rec in old["processes"].items()
               if procs.alive(rec["pid"], rec["marker"])]
    if running:
        raise errors.PlatformError(
            f"A sandbox already runs in {state_dir} ({', '.join(running)} alive). "
            "Use it, or stop it first with `gameday sandbox down`."
        )
    down(state_dir)  # stale state of a dead sandbox: clear it (and any orphaned replicas)


def _stop_all(st: SandboxState) -> list[str]:
    stopped: list[str] = []
    failures: list[str] = []
    for role in state.STOP_ORDER:
        record = st["processes"].get(role)
        if record is None:
            continue
        try:
            if role == state.PROMETHEUS:
                if procs.alive(record["pid"], record["marker"]):
                    prometheus.stop(record["pid"])
                    stopped.append(role)
                else:
                    prometheus.reap(record["pid"])  # died already: collect our zombie
            elif procs.stop_group(record["pid"], record["marker"]):
                stopped.append(role)
        except errors.PlatformError as exc:
            failures.append(f"{role}: {exc.message}")
    if failures:
        raise errors.PlatformError("Some sandbox processes did not stop: " + " ".join(failures))
    return stopped


def down(state_dir: Path) -> list[str]:
    """Stop the sandbox in ``state_dir``; the roles that were still running. Idempotent."""
    if not state.state_path(state_dir).exists():
        return []
    st = load_state(state_dir)
    stopped = _stop_all(st)
    state.remove_state(state_dir)
    return stopped


def status(state_dir: Path) -> SandboxStatus:
    """Which processes of the sandbox in ``state_dir`` are alive, replicas, latency."""
    st = load_state(state_dir)
    alive = {role: procs.alive(rec["pid"], rec["marker"])
             for role, rec in st["processes"].items()}
    try:
        replicas: tuple[supervisor.ReplicaInfo, ...] | None = tuple(client.replicas(st))
    except errors.PlatformError:
        replicas = None
    try:
        injections: tuple[latency.InjectionInfo, ...] | None = tuple(client.active_latency(st))
    except errors.PlatformError:
        injections = None
    return SandboxStatus(Path(st["dir"]), st, alive, replicas, injections)
