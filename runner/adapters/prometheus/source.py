"""``ports.MetricsSource`` over one Prometheus: every probe of a tick read at once.

Decisions:

- A tick's queries (one per probe, two for a ratio over different metrics) run
  concurrently on a small thread pool sharing one keep-alive connection pool: Prometheus
  answers them on all its cores while this process waits, so 100 probes cost about the
  wall time of the slowest few reads, not of all of them in a row. The pool is bounded
  (``MAX_WORKERS``) so a large experiment cannot flood Prometheus.
- ``sample`` never raises for Prometheus failures: a failed probe reads None (being
  blind is the no-data abort's business) and the reason lands in ``last_errors``.
  ``preflight`` reports problems as text; ``PlatformError`` is raised only by ``query``.
- The range of each read covers the time since that probe's last successful read plus
  two ticks (at least three ticks, at most 10 minutes), so a late tick loses nothing.
  The first read of a probe looks back 5 minutes, so every live series is known before
  counting starts; a series silent longer than that and then back counts whole (rare;
  over-counts, the safe direction for an abort).
- ``query_time`` evaluates every query at that (Unix) time instead of now (replays of
  recorded streams); otherwise a ratio read by two queries pins both to the tick's wall
  time (``wall``), and the others are evaluated "now" by Prometheus.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runner import errors, ports
from runner.adapters.prometheus import checks, connection, reads
from runner.model import experiment as model

log = logging.getLogger(__name__)

MAX_WINDOW = 600.0
MAX_WORKERS = 8


class PrometheusSource:
    """``ports.MetricsSource`` over one Prometheus server (``config.url`` already resolved)."""

    def __init__(self, config: model.PrometheusConfig, tick: float, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 wall: Callable[[], float] = time.time,
                 query_time: Callable[[], float] | None = None,
                 workers: int = MAX_WORKERS) -> None:
        self.url = config.url
        self.tick = tick
        self.timeout = config.timeout
        self._monotonic = monotonic
        self._wall = wall
        self._query_time = query_time
        self._workers = max(1, workers)
        self._conn = connection.Connection(config, pool_size=self._workers, sleep=sleep)
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._reads: dict[str, reads.Read] = {}
        self._fetched: dict[str, float] = {}  # monotonic time of each probe's last read
        #: Why a probe read None in the last ``sample`` (probe name -> message).
        self.last_errors: dict[str, str] = {}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._conn.close()

    def reset(self) -> None:
        """Forget all counter state: the next ``sample`` primes again (e.g. after revert)."""
        self._reads.clear()
        self._fetched.clear()

    def query(self, promql: str) -> Any:
        """One instant query, retried on transient failures; the raw ``data.result``.

        Raises ``connection.QueryFailed`` (Prometheus refused it, with its own error text)
        or ``errors.PlatformError`` (unreachable, timing out, failing, TLS, credentials).
        """
        at = self._query_time() if self._query_time is not None else None
        return self._conn.query(promql, at=at)

    # -- one tick ----------------------------------------------------------------------

    def _read_of(self, probe: model.Probe) -> reads.Read | None:
        found = self._reads.get(probe.name)
        if found is None:
            if isinstance(probe, model.RatioProbe):
                found = reads.RatioRead(probe)
            elif isinstance(probe, model.LatencyProbe):
                found = reads.LatencyRead(probe, self._conn.where)
            elif isinstance(probe, model.GaugeProbe):
                found = reads.GaugeRead(probe)
            else:
                return None
            self._reads[probe.name] = found
        return found

    def _window(self, name: str, primed: bool, now: float) -> float:
        last = self._fetched.get(name)
        if not primed or last is None:
            return checks.PRIME_WINDOW
        return min(MAX_WINDOW, max(3 * self.tick, now - last + 2 * self.tick))

    def _run(self, jobs: Sequence[tuple[str, float | None]]) -> list[Any]:
        """Answers (or the exception each raised) for ``(promql, at)`` jobs, in order."""
        def one(job: tuple[str, float | None]) -> Any:
            try:
                return self._conn.query(job[0], at=job[1])
            except errors.PlatformError as exc:
                return exc

        if len(jobs) <= 1 or self._workers == 1:
            return [one(job) for job in jobs]
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=self._workers, thread_name_prefix="gameday-prometheus")
        return list(self._pool.map(one, jobs))

    def sample(self, probes: Sequence[model.Probe]) -> dict[str, ports.Sample]:
        self.last_errors = {}
        now = self._monotonic()
        pinned = self._query_time() if self._query_time is not None else self._wall()
        plan: list[tuple[model.Probe, reads.Read, int, int]] = []
        jobs: list[tuple[str, float | None]] = []
        for probe in probes:
            read = self._read_of(probe)
            if read is None:
                continue
            queries = read.queries(self._window(probe.name, read.primed, now))
            at = pinned if read.pinned or self._query_time is not None else None
            plan.append((probe, read, len(jobs), len(queries)))
            jobs.extend((promql, at) for promql in queries)
        answers = self._run(jobs)
        out: dict[str, ports.Sample] = {}
        for probe, read, start, count in plan:
            mine = answers[start:start + count]
            try:
                failed = next((a for a in mine if isinstance(a, errors.PlatformError)), None)
                if failed is not None:
                    raise failed
                out[probe.name] = read.take(mine)
                self._fetched[probe.name] = now
            except errors.PlatformError as exc:
                log.warning("probe %r reads no data this tick: %s", probe.name, exc)
                self.last_errors[probe.name] = exc.message
                out[probe.name] = None
            except (KeyError, TypeError, ValueError) as exc:
                message = (f"Prometheus at {self._conn.where} gave an answer of an unexpected "
                           f"shape for probe {probe.name!r} ({exc.__class__.__name__}: {exc}).")
                log.warning("probe %r reads no data this tick: %s", probe.name, message)
                self.last_errors[probe.name] = message
                out[probe.name] = None
        return out

    def read_errors(self) -> Mapping[str, str]:
        return dict(self.last_errors)

    def alerts(self, queries: Sequence[str]) -> list[str]:
        """The queries that return a non-empty result now; failures are logged, not firing."""
        at = self._query_time() if self._query_time is not None else None
        firing = []
        for promql, answer in zip(queries, self._run([(q, at) for q in queries]), strict=True):
            if isinstance(answer, errors.PlatformError):
                log.warning("alert query %r could not be checked: %s", promql, answer)
                self.last_errors[promql] = answer.message
            elif answer:
                firing.append(promql)
        return firing

    # -- before a run ------------------------------------------------------------------

    def preflight(self, probes: Sequence[model.Probe]) -> list[str]:
        """Problems that make a run impossible, each one paragraph naming the URL."""
        try:
            self.query("vector(1)")
        except errors.PlatformError as exc:
            return [exc.message]
        found: list[str] = []
        for probe in probes:
            try:
                found.extend(checks.problems(self.query, self._conn.where, probe))
            except errors.PlatformError as exc:
                found.append(f"probe {probe.name!r}: {exc.message}")
        return found

    def warnings(self, probes: Sequence[model.Probe]) -> list[str]:
        """Non-fatal remarks: latency bucket not at the threshold, no error series yet."""
        found: list[str] = []
        for probe in probes:
            try:
                found.extend(checks.remarks(self.query, probe))
            except errors.PlatformError:
                continue  # preflight reports unreachable Prometheus and bad queries
        return found

    def traffic(self, probe: model.StatProbe) -> float | None:
        """Events per second over the last minute behind a statistical probe; None if unknown."""
        if isinstance(probe, model.RatioProbe):
            series = probe.total
        else:
            series = reads.selector(f"{probe.histogram}_count", probe.match)
        try:
            return reads.single_value(self.query(f"sum(rate({series}[1m]))"))
        except errors.PlatformError:
            return None

    def preflight_alerts(self, queries: Sequence[str]) -> list[str]:
        """Abort-alert queries that Prometheus rejects (bad PromQL)."""
        found = []
        for promql in queries:
            try:
                self.query(promql)
            except errors.PlatformError as exc:
                found.append(f"alert {promql!r}: {exc.message}")
        return found
