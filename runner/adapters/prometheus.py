"""The Prometheus metrics source: per-tick counts from raw counter samples, over HTTP.

Implements ``runner.ports.MetricsSource`` with prometheus-api-client. Decisions:

- gameday computes per-tick deltas itself from raw samples (``selector[window]``)
  instead of trusting ``increase()``: ``increase`` extrapolates, double-counts across
  overlapping windows and cannot say "no new data". Per series we keep the last seen
  (timestamp, value); a tick counts only samples newer than that, so windows never
  overlap and a late tick loses nothing (the window covers the time since the last
  successful fetch).
- Counter reset (the value drops): the delta is the new value (the counter restarted at 0).
- A series first seen after priming contributes its whole value: it started at 0 (a
  new pod, the first 5xx). Priming looks back 5 minutes so that every live series is
  known before counting starts; a series silent longer than that and then back counts
  whole (rare; over-counts, the safe direction for an abort).
- No series of the ``total``/``count`` side advanced: None (no data), never 0/0. An
  ``errors`` side with no series yet is 0 errors (DESIGN: a ratio over a missing 5xx
  series is an empty vector, not 0). ``e`` is clamped into [0, n].
- Latency: n = Δ``<h>_count``, e = n − Δ``<h>_bucket{le=b}`` with b the smallest bound ≥
  the threshold, chosen when the probe primes and kept for the whole run.
- ``sample`` never raises for Prometheus failures: a failed probe reads None (being
  blind is the no-data abort's business) and the reason lands in ``last_errors``.
  ``preflight`` reports problems as text; ``PlatformError`` is raised only by ``query``.
- Every call has a timeout; transient failures (connection, timeout, 5xx, 429) are
  retried briefly with tenacity, bounded by ``PrometheusConfig.timeout``.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import logging
import math
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests
import tenacity
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from runner import errors, ports
from runner.model import experiment as model

log = logging.getLogger(__name__)

SeriesKey = tuple[tuple[str, str], ...]
Point = tuple[float, float]  # (timestamp, value)
Matrix = list[tuple[SeriesKey, list[Point]]]

PRIME_WINDOW = 300.0  # Prometheus's default lookback: every live series has a sample in it
MAX_WINDOW = 600.0
_TRANSIENT_STATUS = re.compile(r"HTTP Status Code (5\d\d|429|408)")
_DENIED_STATUS = re.compile(r"HTTP Status Code (401|403)")
_BODY = re.compile(r"HTTP Status Code (\d+) \((b(['\"]).*\3)\)$", re.DOTALL)
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


class QueryFailed(errors.PlatformError):
    """Prometheus answered, but refused the query (bad PromQL, bad request)."""


class _Transient(Exception):
    """A failure worth retrying (connection, timeout, 5xx)."""


@dataclasses.dataclass(frozen=True)
class Advance:
    """The result of feeding new raw samples into one side's per-series state."""

    state: Mapping[SeriesKey, Point]
    delta: float
    advanced: bool  # some series had a sample newer than the last one seen


def advance(state: Mapping[SeriesKey, Point], matrix: Matrix, *, primed: bool) -> Advance:
    """Pure delta extraction: sum of counter increments newer than ``state``.

    Not primed: only remember each series' last point. Primed: walk each series' points
    newer than its last seen timestamp, with reset handling; unseen series start at 0.
    Series absent from ``matrix`` keep their state (a missed scrape loses nothing).
    """
    new = dict(state)
    delta = 0.0
    moved = False
    for key, raw in matrix:
        points = sorted(p for p in raw if not math.isnan(p[1]))
        if not points:
            continue
        last = state.get(key)
        if last is None and not primed:
            new[key] = points[-1]
            continue
        prev_t, prev_v = last if last is not None else (-math.inf, 0.0)
        for t, v in points:
            if t <= prev_t:
                continue
            delta += v - prev_v if v >= prev_v else v
            prev_t, prev_v = t, v
            moved = True
        new[key] = (prev_t, prev_v)
    return Advance(new, delta, moved)


@dataclasses.dataclass(frozen=True)
class _ProbeState:
    sides: Mapping[str, Mapping[SeriesKey, Point]]
    fetched_at: float  # local monotonic time of the last successful fetch
    bound: float | None = None  # latency: the bucket bound used


def safe_url(url: str) -> str:
    """``url`` without user:password, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _selector(base: str, match: str) -> str:
    match = match.strip()
    if match and not match.startswith("{"):
        match = "{" + match + "}"
    return base + match


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def _le(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class PrometheusSource:
    """``ports.MetricsSource`` over one Prometheus server (``config.url`` already resolved)."""

    def __init__(self, config: model.PrometheusConfig, tick: float, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 query_time: Callable[[], float] | None = None) -> None:
        """``query_time`` evaluates every query at that (Unix) time instead of now: replays
        of recorded streams; pass the same fake clock as ``monotonic`` then."""
        self.url = config.url
        self.tick = tick
        self.timeout = config.timeout
        self._monotonic = monotonic
        self._sleep = sleep
        self._query_time = query_time
        self._client = PrometheusConnect(
            url=config.url, headers=dict(config.headers), disable_ssl=False,
            retry=Retry(total=0, raise_on_status=False), timeout=config.timeout,
        )
        self._states: dict[str, _ProbeState] = {}
        #: Why a probe read None in the last ``sample`` (probe name -> message).
        self.last_errors: dict[str, str] = {}

    def close(self) -> None:
        self._client.close()

    def reset(self) -> None:
        """Forget all counter state: the next ``sample`` primes again (e.g. after revert)."""
        self._states.clear()

    # -- raw queries -------------------------------------------------------------------

    def query(self, promql: str) -> Any:
        """One instant query, retried on transient failures; the raw ``data.result``.

        Raises ``QueryFailed`` (Prometheus refused it, with its own error text) or
        ``errors.PlatformError`` (unreachable, timing out, failing).
        """
        where = safe_url(self.url)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            stop=tenacity.stop_after_attempt(3) | tenacity.stop_after_delay(self.timeout),
            wait=tenacity.wait_exponential(multiplier=0.1, max=1.0),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._query_once, promql)
        except _Transient as exc:
            raise errors.PlatformError(
                f"Prometheus at {where} did not answer the query `{promql}` "
                f"(tried for up to {self.timeout:g} s): {exc}. "
                "Check that Prometheus runs and that prometheus.url points at it; raise "
                "prometheus.timeout if it is just slow."
            ) from exc

    def _query_once(self, promql: str) -> Any:
        try:
            params = {"timeout": f"{self.timeout:g}"}  # seconds; "0.5s" would be rejected
            if self._query_time is not None:
                params["time"] = f"{self._query_time():.3f}"
            return self._client.custom_query(promql, params=params, timeout=self.timeout)
        except requests.Timeout as exc:
            raise _Transient(f"no answer within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            errno = _ERRNO.search(str(exc))
            raise _Transient(errno.group(1).lower() if errno else "connection failed") from exc
        except PrometheusApiClientException as exc:
            detail = _error_text(str(exc))
            if _TRANSIENT_STATUS.search(str(exc)):
                raise _Transient(detail) from exc
            if _DENIED_STATUS.search(str(exc)):
                raise errors.PlatformError(
                    f"Prometheus at {safe_url(self.url)} refused access ({detail}). Check the "
                    "credentials in prometheus.headers."
                ) from exc
            raise QueryFailed(
                f"Prometheus at {safe_url(self.url)} rejected the query `{promql}`: {detail}. "
                "Fix the query in the experiment file."
            ) from exc
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise errors.PlatformError(
                f"Prometheus at {safe_url(self.url)} gave an unusable answer to `{promql}`: "
                f"{exc}. Check that prometheus.url points at a Prometheus server."
            ) from exc

    def _matrix(self, selector: str, window: float) -> Matrix:
        result = self.query(f"{selector}[{_duration(window)}]")
        return [
            (tuple(sorted(it["metric"].items())), [(float(t), float(v)) for t, v in it["values"]])
            for it in result
        ]

    # -- sampling ----------------------------------------------------------------------

    def sample(self, probes: Sequence[model.Probe]) -> dict[str, ports.Sample]:
        self.last_errors = {}
        out: dict[str, ports.Sample] = {}
        for probe in probes:
            try:
                if isinstance(probe, model.RatioProbe):
                    out[probe.name] = self._ratio(probe)
                elif isinstance(probe, model.LatencyProbe):
                    out[probe.name] = self._latency(probe)
                elif isinstance(probe, model.GaugeProbe):
                    out[probe.name] = self._gauge(probe)
            except errors.PlatformError as exc:
                log.warning("probe %r reads no data this tick: %s", probe.name, exc)
                self.last_errors[probe.name] = exc.message
                out[probe.name] = None
        return out

    def _window(self, name: str) -> tuple[_ProbeState | None, float]:
        state = self._states.get(name)
        if state is None:
            return None, PRIME_WINDOW
        elapsed = self._monotonic() - state.fetched_at
        return state, min(MAX_WINDOW, max(3 * self.tick, elapsed + 2 * self.tick))

    def _ratio(self, probe: model.RatioProbe) -> ports.Sample:
        state, window = self._window(probe.name)
        now = self._monotonic()
        total_m = self._matrix(probe.total, window)
        errors_m = self._matrix(probe.errors, window)
        primed = state is not None
        if not primed and not total_m:
            return None  # prime only once the total exists, or its first values would count
        total = advance(state.sides["total"] if state else {}, total_m, primed=primed)
        bad = advance(state.sides["errors"] if state else {}, errors_m, primed=primed)
        self._states[probe.name] = _ProbeState({"total": total.state, "errors": bad.state}, now)
        if not primed or not total.advanced:
            return None
        return ports.Counts(total.delta, min(max(bad.delta, 0.0), total.delta))

    def _latency(self, probe: model.LatencyProbe) -> ports.Sample:
        state, window = self._window(probe.name)
        now = self._monotonic()
        count_m = self._matrix(_selector(f"{probe.histogram}_count", probe.match), window)
        bucket_m = self._matrix(_selector(f"{probe.histogram}_bucket", probe.match), window)
        bound = state.bound if state is not None else self._bound(bucket_m, probe)
        if bound is None:
            raise errors.PlatformError(
                f"Prometheus at {safe_url(self.url)} has no `{probe.histogram}_bucket` series "
                f"matching `{probe.match or '{}'}`: the latency probe cannot count slow requests."
            )
        bucket_m = [(k, pts) for k, pts in bucket_m if _le(dict(k).get("le", "")) == bound]
        primed = state is not None
        if not primed and not count_m:
            return None
        count = advance(state.sides["count"] if state else {}, count_m, primed=primed)
        good = advance(state.sides["bucket"] if state else {}, bucket_m, primed=primed)
        self._states[probe.name] = _ProbeState(
            {"count": count.state, "bucket": good.state}, now, bound
        )
        if not primed or not count.advanced:
            return None
        return ports.Counts(count.delta, min(max(count.delta - good.delta, 0.0), count.delta))

    @staticmethod
    def _bound(bucket_m: Matrix, probe: model.LatencyProbe) -> float | None:
        bounds = {_le(dict(k).get("le", "")) for k, _ in bucket_m}
        usable = sorted(b for b in bounds if b is not None and b >= probe.max * (1 - 1e-9))
        return usable[0] if usable else None

    def _gauge(self, probe: model.GaugeProbe) -> ports.Sample:
        value = _single_value(self.query(probe.query))
        return None if value is None or math.isnan(value) else ports.Value(value)

    def alerts(self, queries: Sequence[str]) -> list[str]:
        """The queries that return a non-empty result now; failures are logged, not firing."""
        firing = []
        for promql in queries:
            try:
                if self.query(promql):
                    firing.append(promql)
            except errors.PlatformError as exc:
                log.warning("alert query %r could not be checked: %s", promql, exc)
                self.last_errors[promql] = exc.message
        return firing

    # -- preflight ---------------------------------------------------------------------

    def preflight(self, probes: Sequence[model.Probe]) -> list[str]:
        """Problems that make a run impossible, each one paragraph naming the URL."""
        try:
            self.query("vector(1)")
        except errors.PlatformError as exc:
            return [exc.message]
        problems: list[str] = []
        for probe in probes:
            try:
                problems.extend(self._check(probe))
            except errors.PlatformError as exc:
                problems.append(f"probe {probe.name!r}: {exc.message}")
        return problems

    def read_errors(self) -> Mapping[str, str]:
        return dict(self.last_errors)

    def traffic(self, probe: model.StatProbe) -> float | None:
        """Events per second over the last minute behind a statistical probe; None if unknown."""
        if isinstance(probe, model.RatioProbe):
            selector = probe.total
        else:
            selector = _selector(f"{probe.histogram}_count", probe.match)
        try:
            return _single_value(self.query(f"sum(rate({selector}[1m]))"))
        except errors.PlatformError:
            return None

    def preflight_alerts(self, queries: Sequence[str]) -> list[str]:
        """Abort-alert queries that Prometheus rejects (bad PromQL)."""
        problems = []
        for promql in queries:
            try:
                self.query(promql)
            except errors.PlatformError as exc:
                problems.append(f"alert {promql!r}: {exc.message}")
        return problems

    def _check(self, probe: model.Probe) -> list[str]:
        where = safe_url(self.url)
        if isinstance(probe, model.RatioProbe):
            try:
                self._matrix(probe.errors, PRIME_WINDOW)  # must parse; may match nothing yet
                total = self._matrix(probe.total, PRIME_WINDOW)
            except QueryFailed as exc:
                return [f"probe {probe.name!r}: {exc.message} errors and total must be counter "
                        "series selectors such as http_requests_total{code=~\"5..\"}, not "
                        "expressions: gameday takes the per-tick increase itself."]
            if not total:
                return [f"probe {probe.name!r}: the total selector `{probe.total}` matches no "
                        f"series in Prometheus at {where} (last 5 minutes). Check the metric "
                        "name and labels, and that the target is scraped."]
        elif isinstance(probe, model.LatencyProbe):
            count = _selector(f"{probe.histogram}_count", probe.match)
            if not self._matrix(count, PRIME_WINDOW):
                return [f"probe {probe.name!r}: `{count}` matches no series in Prometheus at "
                        f"{where}. Check the histogram base name (without _bucket/_count) "
                        "and the match labels."]
            if not self._bucket_bounds(probe):
                return [f"probe {probe.name!r}: histogram `{probe.histogram}` has no "
                        f"`_bucket` series matching `{probe.match or '{}'}` at {where}; "
                        "a latency probe needs a classic Prometheus histogram."]
        elif isinstance(probe, model.GaugeProbe):
            result = self.query(probe.query)
            series = len(result) if _is_vector(result) else 1
            if series != 1:
                return [f"guardrail {probe.name!r}: `{probe.query}` returns {series} series "
                        f"at {where}; a guardrail needs exactly one. Aggregate it "
                        "(sum(...), min(...)) or narrow its labels."]
        return []

    def _bucket_bounds(self, probe: model.LatencyProbe) -> list[float]:
        bucket = _selector(f"{probe.histogram}_bucket", probe.match)
        result = self.query(f"count by (le) (last_over_time({bucket}[5m]))")
        found = (_le(item["metric"].get("le", "")) for item in result)
        return sorted(b for b in found if b is not None)

    def warnings(self, probes: Sequence[model.Probe]) -> list[str]:
        """Non-fatal remarks: latency bucket not at the threshold, no error series yet."""
        remarks: list[str] = []
        for probe in probes:
            try:
                remarks.extend(self._remarks(probe))
            except errors.PlatformError:
                continue  # preflight reports unreachable Prometheus and bad queries
        return remarks

    def _remarks(self, probe: model.Probe) -> list[str]:
        if isinstance(probe, model.RatioProbe):
            if not self._matrix(probe.errors, PRIME_WINDOW):
                return [f"probe {probe.name!r}: the errors selector `{probe.errors}` matches "
                        "no series yet; it counts as 0 errors until a series appears (a new "
                        "series then counts from 0)."]
        elif isinstance(probe, model.LatencyProbe):
            bounds = self._bucket_bounds(probe)
            usable = [b for b in bounds if b >= probe.max * (1 - 1e-9)]
            if usable and math.isclose(usable[0], probe.max, rel_tol=1e-9):
                return []
            if not usable or math.isinf(usable[0]):
                return [f"probe {probe.name!r}: histogram `{probe.histogram}` has no finite "
                        f"bucket at or above {probe.max:g} s; it cannot see any slow request. "
                        "Add a bucket at the threshold."]
            return [f"probe {probe.name!r}: histogram `{probe.histogram}` has no bucket at "
                    f"{probe.max:g} s; using the next one up (le={usable[0]:g}). Requests "
                    f"between {probe.max:g} s and {usable[0]:g} s count as fast, so the test "
                    "is conservative (fewer aborts; it may miss a violation). Add a bucket at "
                    "the threshold for an exact test."]
        return []


def _error_text(text: str) -> str:
    """Prometheus's own error message out of the client's "HTTP Status Code N (b'...')"."""
    found = _BODY.search(text)
    if found is None:
        return text[:300]
    try:
        body = json.loads(ast.literal_eval(found.group(2)))
        return f"{body['error']} (HTTP {found.group(1)})"
    except (ValueError, SyntaxError, TypeError, KeyError):
        return text[:300]


def _is_vector(result: Any) -> bool:
    return isinstance(result, list) and all(isinstance(item, dict) for item in result)


def _single_value(result: Any) -> float | None:
    """The value of a one-series vector or a scalar; None for 0 or 2+ series."""
    if _is_vector(result):
        return float(result[0]["value"][1]) if len(result) == 1 else None
    if isinstance(result, list) and len(result) == 2:  # scalar: [timestamp, "value"]
        return float(result[1])
    return None
