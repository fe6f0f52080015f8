"""The sandbox's metrics, exported with the official ``prometheus_client``.

The sandbox's processes (demo service, supervisor, proxy) each export a handful of
metrics. Decisions:
- ``prometheus_client`` writes the exposition format (it is the library made for it);
  each exporting object owns a ``CollectorRegistry`` of its own, so several replicas or
  proxies in one test process never collide in the global registry.
- The series names and labels are a contract (docs/CONTRACTS.md "Sandbox"; experiments
  and tests query them) and do not change: no ``_created`` series are added.
- Labelled series are created up front where a query needs them to exist before the
  first event (``code="500"`` at 0), so a ratio never divides by an empty vector.
"""

from __future__ import annotations

from collections.abc import Sequence

import prometheus_client
from prometheus_client import exposition as client_exposition

prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = client_exposition.CONTENT_TYPE_LATEST

#: Latency buckets (seconds). 0.3 is the demo SLO threshold, so a bucket sits there.
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0)


def registry() -> prometheus_client.CollectorRegistry:
    """A fresh registry for one exporting object (never the process-global one)."""
    return prometheus_client.CollectorRegistry(auto_describe=True)


def codes_counter(reg: prometheus_client.CollectorRegistry, name: str, help_text: str,
                  initial: Sequence[str]) -> prometheus_client.Counter:
    """A counter by ``code``, with the ``initial`` codes present at 0 from the start."""
    counter = prometheus_client.Counter(name, help_text, ["code"], registry=reg)
    for code in initial:
        counter.labels(code)
    return counter


def latency_histogram(reg: prometheus_client.CollectorRegistry, name: str,
                      help_text: str) -> prometheus_client.Histogram:
    return prometheus_client.Histogram(name, help_text, buckets=LATENCY_BUCKETS, registry=reg)


def render(reg: prometheus_client.CollectorRegistry) -> bytes:
    """The exposition text of ``reg``, ready to send with ``CONTENT_TYPE``."""
    return prometheus_client.generate_latest(reg)
