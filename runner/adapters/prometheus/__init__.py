"""The Prometheus adapter: ``PrometheusSource`` (a ``ports.MetricsSource``) and its parts.

By concept: ``connection`` (HTTP, http_config, failures named), ``reads`` (one probe's
consistent per-tick read), ``deltas`` (counter increments from raw samples, the
consistency cut), ``selectors`` (series selectors as data), ``checks`` (preflight and
warnings), ``source`` (the port: a tick's reads run concurrently). The names below are
re-exported so callers keep writing ``prometheus.PrometheusSource``.
"""

from __future__ import annotations

from runner.adapters.prometheus.connection import QueryFailed, safe_url
from runner.adapters.prometheus.deltas import Advance, Matrix, Point, SeriesKey, advance
from runner.adapters.prometheus.source import PrometheusSource

__all__ = ["Advance", "Matrix", "Point", "PrometheusSource", "QueryFailed", "SeriesKey",
           "advance", "safe_url"]
