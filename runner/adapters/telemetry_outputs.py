"""Where gameday's own metrics go: ``/metrics`` over HTTP, a Pushgateway, a textfile.

``open_telemetry(config)`` builds a ``telemetry.TelemetrySink`` and the outputs asked for,
and stops them all on exit (``gameday run --metrics-port/--pushgateway/--metrics-textfile``).

Decisions:
- Pull: ``prometheus_client.start_http_server`` on loopback by default (``PORT``), or on
  the address given (``0.0.0.0:9464`` in a pod, for Prometheus to scrape it). A run ends
  right after its verdict, usually before the next scrape; so when someone has been
  scraping, the server stays up until one scrape after the end (at most twice the longest
  gap seen between scrapes, and never more than ``MAX_LINGER``). Nobody scraping: no wait.
- Push and textfile are written by one background flusher, never on the journal's
  thread: at most once per ``interval`` while events arrive, at once on the events a
  dashboard must not miss (run start, abort, revert, verdict), and a last time on exit,
  so the final state (verdict, reverts) is what stays in the Pushgateway / on disk.
  ``write_to_textfile`` renames a temporary file into place: node_exporter never reads
  half a file.
- A Pushgateway that is down never hurts the run: the failure is said once on stderr and
  the next flush tries again; every push has a timeout.
- Bad options are refused before the run starts (exit 2): a port in use, a textfile that
  does not end in ``.prom`` or whose directory is missing, a URL that is not http(s).
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import prometheus_client
from prometheus_client.metrics_core import Metric

from runner import errors
from runner.adapters import telemetry

PUSH_TIMEOUT = 5.0
JOB = "gameday"
MAX_LINGER = 60.0


@dataclasses.dataclass(frozen=True)
class Config:
    """What the command line asked for; all None = no telemetry."""

    listen: tuple[str, int] | None = None
    pushgateway: str | None = None
    textfile: Path | None = None
    interval: float = 1.0

    @property
    def enabled(self) -> bool:
        return bool(self.listen or self.pushgateway or self.textfile)


def parse_listen(text: str) -> tuple[str, int]:
    """``9464`` (loopback) or ``HOST:PORT``; InputError otherwise."""
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise errors.InputError(
            f"--metrics-port {text!r} is not a port: give a number (9464, served on "
            "127.0.0.1) or HOST:PORT (0.0.0.0:9464 to let a Prometheus elsewhere scrape it).")
    return (host.strip("[]") or "127.0.0.1"), number


def config(listen: str | None, pushgateway: str | None, textfile: Path | None) -> Config:
    """A checked ``Config`` from the command-line values (InputError, exit 2, if bad)."""
    if pushgateway is not None:
        url = urllib.parse.urlsplit(pushgateway)
        if url.scheme not in {"http", "https"} or not url.netloc:
            raise errors.InputError(
                f"--pushgateway {pushgateway!r} is not an http(s) URL; give the Pushgateway's "
                "address, e.g. http://pushgateway.monitoring:9091.")
    if textfile is not None:
        if textfile.suffix != ".prom":
            raise errors.InputError(
                f"--metrics-textfile {textfile}: node_exporter's textfile collector reads only "
                "files ending in .prom; name it e.g. gameday.prom.")
        if not textfile.parent.is_dir():
            raise errors.InputError(
                f"--metrics-textfile {textfile}: the directory {textfile.parent} does not "
                "exist; give node_exporter's --collector.textfile.directory.")
    return Config(parse_listen(listen) if listen is not None else None, pushgateway, textfile)


class Flusher:
    """Pushes and writes the registry from a daemon thread (see the module docstring)."""

    def __init__(self, registry: prometheus_client.CollectorRegistry, cfg: Config,
                 err: TextIO) -> None:
        self.registry, self.cfg, self.err = registry, cfg, err
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._dirty = False
        self._urgent = False
        self._complained: set[str] = set()
        self._grouping = {"instance": socket.gethostname()}
        self._thread = threading.Thread(target=self._loop, name="gameday-telemetry",
                                        daemon=True)
        self._thread.start()

    def changed(self, urgent: bool) -> None:
        self._dirty = True
        if urgent:
            self._urgent = True
            self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.cfg.interval)
            self._wake.clear()
            if self._dirty and not self._stop.is_set():
                self.flush()

    def flush(self) -> None:
        self._dirty = self._urgent = False
        if self.cfg.pushgateway:
            try:
                prometheus_client.push_to_gateway(
                    self.cfg.pushgateway, job=JOB, registry=self.registry,
                    grouping_key=self._grouping, timeout=PUSH_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - a Pushgateway down never fails a run
                self._complain("pushgateway", f"the push to {self.cfg.pushgateway} failed "
                               f"({exc}); the run goes on and the next push tries again")
        if self.cfg.textfile:
            try:
                prometheus_client.write_to_textfile(str(self.cfg.textfile), self.registry)
            except OSError as exc:
                self._complain("textfile", f"cannot write {self.cfg.textfile} "
                               f"({exc.strerror}); the run goes on")

    def _complain(self, key: str, message: str) -> None:
        if key not in self._complained:
            self._complained.add(key)
            print(f"gameday: metrics: {message}.", file=self.err, flush=True)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=PUSH_TIMEOUT + 1)
        self.flush()  # the final state: the verdict and every revert


class ScrapeLog:
    """A collector in front of the registry that notes when ``/metrics`` was scraped."""

    def __init__(self, registry: prometheus_client.CollectorRegistry,
                 now: Callable[[], float]) -> None:
        self.registry, self.now = registry, now
        self.times: list[float] = []
        self.scraped = threading.Event()

    def collect(self) -> Iterator[Metric]:
        self.times = [*self.times[-9:], self.now()]
        self.scraped.set()
        yield from self.registry.collect()

    def linger(self, err: TextIO) -> None:
        """Wait for one more scrape if someone scrapes (bounded; see the module docstring)."""
        if not self.times:
            return
        gaps = [b - a for a, b in zip(self.times, self.times[1:], strict=False)] or [5.0]
        wait = min(MAX_LINGER, 2 * max(gaps) + 1.0)
        print(f"gameday: metrics: waiting up to {wait:.0f} s for the final state to be "
              "scraped.", file=err, flush=True)
        self.scraped.clear()
        self.scraped.wait(wait)


@dataclasses.dataclass
class Telemetry:
    sink: telemetry.TelemetrySink
    url: str | None  # where /metrics is served, if it is


@contextlib.contextmanager
def open_telemetry(cfg: Config, err: TextIO | None = None,
                   now: Callable[[], float] = time.monotonic) -> Iterator[Telemetry]:
    """The sink and its outputs; everything is stopped (and flushed) on exit."""
    stream = err or sys.stderr
    scrapes: ScrapeLog | None = None
    registry = prometheus_client.CollectorRegistry()
    flusher = Flusher(registry, cfg, stream) if (cfg.pushgateway or cfg.textfile) else None
    sink = telemetry.TelemetrySink(registry, err=stream,
                                   on_change=flusher.changed if flusher else None)
    server = None
    url = None
    try:
        if cfg.listen is not None:
            host, port = cfg.listen
            try:
                scrapes = ScrapeLog(registry, now)
                server, _thread = prometheus_client.start_http_server(port, host, scrapes)
            except OSError as exc:
                raise errors.InputError(
                    f"--metrics-port: cannot serve metrics on {host}:{port} ({exc.strerror}); "
                    "choose a free port (or 0 for any). Nothing was started.") from exc
            shown = f"[{host}]" if ":" in host else host
            url = f"http://{shown}:{server.server_port}/metrics"
            print(f"gameday: metrics on {url}", file=stream, flush=True)
        yield Telemetry(sink, url)
    finally:
        if flusher is not None:
            flusher.close()
        if server is not None:
            if scrapes is not None:
                scrapes.linger(stream)
            server.shutdown()
            server.server_close()

