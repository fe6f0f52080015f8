"""The sandbox's supervisor: N demo replicas that come back when killed (a ReplicaSet in miniature).

Run as ``python -m runner.sandbox.supervisor --port P --replica-port P1 --replica-port P2 ...``.
Each replica is a ``runner.sandbox.service`` process on a fixed port (so the proxy's
upstream list never changes); a replica that dies is started again on the same port
after ``--restart-delay`` seconds. Control API on loopback:

- ``GET /replicas`` -> ``[{name, pid, port, ready, restarts}]``
- ``POST /replicas/<name>/kill`` -> SIGKILL that replica (the restart follows by itself)
- ``GET /metrics`` -> ``gameday_sandbox_ready_replicas{service="demo"}``,
  ``gameday_sandbox_restarts_total``; ``GET /healthz``.

Decisions: ready means "process alive and its ``/healthz`` answered since it started";
a kill marks the replica not ready at once, so readers see the dip without waiting for a
poll. Replicas stay in the supervisor's process group (the manager can stop the whole
group even after a SIGKILLed supervisor) and exit by themselves when orphaned.
SIGTERM/SIGINT stop every replica before the supervisor exits.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TypedDict

import prometheus_client

from runner.sandbox import exposition, httpbase

POLL_INTERVAL = 0.1
_REPLICA_ACTION = re.compile(r"^/replicas/([A-Za-z0-9_.-]+)/(kill|start)$")


class ReplicaInfo(TypedDict):
    """One replica as the control API reports it (wire format)."""

    name: str
    pid: int | None
    port: int
    ready: bool
    restarts: int


class ReplicaSlot:
    """One replica slot: a fixed name and port, and the process currently filling it."""

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready = False
        self.restart_at: float | None = 0.0  # monotonic time to (re)start; None = running
        self.restarts = 0
        self.started = False

    def info(self) -> ReplicaInfo:
        alive = self.proc is not None and self.proc.poll() is None
        return {"name": self.name, "pid": self.proc.pid if alive and self.proc else None,
                "port": self.port, "ready": self.ready and alive, "restarts": self.restarts}


class Supervisor:
    """Starts, watches and restarts the replicas; thread-safe."""

    def __init__(self, slots: Sequence[ReplicaSlot], *, service: str, restart_delay: float,
                 log_dir: Path, replica_args: Sequence[str] = ()) -> None:
        self.slots = {slot.name: slot for slot in slots}
        self.service = service
        self.restart_delay = restart_delay
        self.log_dir = log_dir
        self.replica_args = tuple(replica_args)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.registry = exposition.registry()
        self.ready_gauge = prometheus_client.Gauge(
            "gameday_sandbox_ready_replicas", "Replicas alive and answering /healthz.",
            ["service"], registry=self.registry).labels(service)
        self.restarts_total = prometheus_client.Counter(
            "gameday_sandbox_restarts_total", "Replicas started again after they died.",
            registry=self.registry)

    def _spawn(self, slot: ReplicaSlot) -> None:
        command = [sys.executable, "-m", "runner.sandbox.service", "--port", str(slot.port),
                   "--name", slot.name, "--parent-pid", str(os.getpid()), *self.replica_args]
        log: IO[bytes]
        with (self.log_dir / f"{slot.name}.log").open("ab") as log:
            slot.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        slot.ready = False
        slot.restart_at = None
        slot.started = True
        print(f"started {slot.name} pid {slot.proc.pid} on port {slot.port}", flush=True)

    def tick(self) -> None:
        """One pass: notice deaths, start due replicas, check health of starting ones."""
        now = time.monotonic()
        to_check: list[ReplicaSlot] = []
        with self.lock:
            for slot in self.slots.values():
                if slot.proc is not None and slot.proc.poll() is not None:
                    print(f"{slot.name} pid {slot.proc.pid} exited with {slot.proc.returncode};"
                          f" restarting in {self.restart_delay:g} s", flush=True)
                    slot.proc, slot.ready = None, False
                    slot.restart_at = now + self.restart_delay
                if self.stopping.is_set():
                    continue
                if slot.proc is None and slot.restart_at is not None and now >= slot.restart_at:
                    if slot.started:
                        slot.restarts += 1
                        self.restarts_total.inc()
                    self._spawn(slot)
                if slot.proc is not None and not slot.ready:
                    to_check.append(slot)
        for slot in to_check:  # outside the lock: a health check may take a moment
            healthy = _healthy(slot.port)
            with self.lock:
                if healthy and slot.proc is not None and slot.proc.poll() is None:
                    slot.ready = True
        with self.lock:
            self.ready_gauge.set(sum(1 for s in self.slots.values() if s.info()["ready"]))

    def run(self) -> None:
        while not self.stopping.wait(POLL_INTERVAL):
            self.tick()

    def replicas(self) -> list[ReplicaInfo]:
        with self.lock:
            return [slot.info() for slot in self.slots.values()]

    def kill(self, name: str) -> ReplicaInfo | None:
        """SIGKILL replica ``name``; None when there is no such replica."""
        with self.lock:
            slot = self.slots.get(name)
            if slot is None:
                return None
            info = slot.info()
            proc = slot.proc
            if proc is not None and proc.poll() is None:
                proc.kill()
                slot.ready = False
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2.0)
        return info

    def start(self, name: str) -> ReplicaInfo | None:
        """Start replica ``name`` now if it is down (the revert of a kill); idempotent.

        None when there is no such replica. A running replica is left alone.
        """
        with self.lock:
            slot = self.slots.get(name)
            if slot is None:
                return None
            if slot.proc is not None and slot.proc.poll() is not None:
                slot.proc = None  # died; the poll loop has not noticed yet
            if slot.proc is None and not self.stopping.is_set():
                if slot.started:
                    slot.restarts += 1
                    self.restarts_total.inc()
                self._spawn(slot)
            return slot.info()

    def stop_all(self, timeout: float = 3.0) -> None:
        self.stopping.set()
        with self.lock:
            procs = [s.proc for s in self.slots.values() if s.proc is not None]
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=2.0)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.5) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class ControlHandler(httpbase.Handler):
    supervisor: Supervisor  # set on a subclass by ``make_server``

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/replicas":
            self.send_json(200, self.supervisor.replicas())
        elif path == "/metrics":
            self.send_metrics(self.supervisor.registry)
        elif path == "/healthz":
            self.send_body(200, b"ok\n")
        else:
            self.send_json(404, {"error": f"no such path {path}"})

    def do_POST(self) -> None:
        self.read_body()
        match = _REPLICA_ACTION.match(self.path.split("?", 1)[0])
        if match is None:
            self.send_json(404, {"error": f"no such path {self.path}"})
            return
        name, verb = match.groups()
        info = self.supervisor.kill(name) if verb == "kill" else self.supervisor.start(name)
        if info is None:
            self.send_json(404, {"error": f"no replica named {name}"})
        elif verb == "kill":
            self.send_json(200, {"killed": info["pid"] is not None, "replica": info})
        else:
            self.send_json(200, {"replica": info})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run demo replicas and restart killed ones.")
    parser.add_argument("--port", type=int, required=True, help="control API port")
    parser.add_argument("--replica-port", type=int, action="append", required=True,
                        help="one per replica, in order")
    parser.add_argument("--service", default="demo")
    parser.add_argument("--restart-delay", type=float, default=1.0)
    parser.add_argument("--log-dir", type=Path, default=Path())
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--service-time", type=float, default=0.005)
    args = parser.parse_args(argv)
    slots = [ReplicaSlot(f"{args.service}-{i}", port) for i, port in enumerate(args.replica_port)]
    supervisor = Supervisor(
        slots, service=args.service, restart_delay=max(0.0, args.restart_delay),
        log_dir=args.log_dir, replica_args=["--error-rate", str(args.error_rate),
                                            "--service-time", str(args.service_time)])
    handler = type("BoundControlHandler", (ControlHandler,), {"supervisor": supervisor})
    server = httpbase.Server(("127.0.0.1", args.port), handler)
    supervisor.tick()
    watcher = threading.Thread(target=supervisor.run, name="watch", daemon=True)
    watcher.start()
    print(f"supervisor: control API on http://127.0.0.1:{args.port}", flush=True)
    httpbase.serve_until_signal(server, on_stop=supervisor.stop_all)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
