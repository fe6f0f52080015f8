"""Counters, gauges and histograms in the Prometheus text exposition format, by hand.

The sandbox's processes (demo service, supervisor, proxy) each export a handful of
metrics. Decision: write the text format ourselves (~100 lines, thread-safe) instead of
adding ``prometheus_client`` as a dependency; the format (version 0.0.4) is small and
stable. Labelled series are created up front where a query needs them to exist before
the first event (``code="500"`` at 0), so a ratio never divides by an empty vector.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Latency buckets (seconds). 0.3 is the demo SLO threshold, so a bucket sits there.
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0)


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Sequence[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


class Counter:
    """A monotonically increasing counter with at most one label dimension."""

    def __init__(self, name: str, help_text: str, label: str | None = None,
                 initial: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label = label
        self._lock = threading.Lock()
        self._values: dict[str, float] = {value: 0.0 for value in initial}
        if label is None:
            self._values[""] = 0.0

    def inc(self, label_value: str = "", amount: float = 1.0) -> None:
        with self._lock:
            self._values[label_value] = self._values.get(label_value, 0.0) + amount

    def value(self, label_value: str = "") -> float:
        with self._lock:
            return self._values.get(label_value, 0.0)

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for label_value, count in items:
            pairs = [(self.label, label_value)] if self.label is not None else []
            lines.append(f"{self.name}{_labels(pairs)} {_number(count)}")
        return lines


class Gauge:
    """A value that goes up and down, optionally with fixed labels."""

    def __init__(self, name: str, help_text: str,
                 labels: Sequence[tuple[str, str]] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labels = tuple(labels)
        self._value = 0.0
        self._lock = threading.Lock()

    def set(self, value: float) -> None:
        with self._lock:
            self._value = value

    def render(self) -> list[str]:
        with self._lock:
            value = self._value
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge",
                f"{self.name}{_labels(self.labels)} {_number(value)}"]


class Histogram:
    """A cumulative histogram with fixed upper bounds (seconds), no labels."""

    def __init__(self, name: str, help_text: str,
                 buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.name = name
        self.help = help_text
        self.bounds = tuple(sorted(buckets))
        self._counts = [0] * (len(self.bounds) + 1)  # last slot is +Inf only
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        slot = bisect.bisect_left(self.bounds, value)  # first bound >= value (le semantics)
        with self._lock:
            self._counts[slot] += 1
            self._sum += value

    def count_above(self, threshold: float) -> int:
        """Observations above ``threshold``, which must be one of the bounds."""
        index = self.bounds.index(threshold)
        with self._lock:
            return sum(self._counts[index + 1:])

    def render(self) -> list[str]:
        with self._lock:
            counts = list(self._counts)
            total_sum = self._sum
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        cumulative = 0
        for bound, count in zip((*self.bounds, math.inf), counts, strict=True):
            cumulative += count
            le = "+Inf" if math.isinf(bound) else repr(float(bound))  # "1.0", as clients write it
            lines.append(f'{self.name}_bucket{{le="{le}"}} {cumulative}')
        lines.append(f"{self.name}_sum {_number(total_sum)}")
        lines.append(f"{self.name}_count {cumulative}")
        return lines


Metric = Counter | Gauge | Histogram


def render(metrics: Sequence[Metric]) -> bytes:
    """The exposition text of ``metrics``, ready to send with ``CONTENT_TYPE``."""
    lines: list[str] = []
    for metric in metrics:
        lines.extend(metric.render())
    return ("\n".join(lines) + "\n").encode("utf-8")
