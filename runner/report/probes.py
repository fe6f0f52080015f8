"""What each probe is, as the journal recorded it: kind, thresholds, guardrail bounds.

The tick events carry numbers, not meanings; the meaning is in the experiment document
journaled at ``run-started`` (and the p0, weight and mode in the ``calibration`` event).
Reading the document, not re-validating it: a field that is absent or not understood is
``None`` and the report says "not recorded" instead of guessing. Probes that only appear
in the ticks (a Chaos Toolkit tolerance check, a document in another shape) get a
``ProbeInfo`` of kind ``unknown``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from runner import errors
from runner.model import durations

KINDS = ("ratio", "latency", "gauge", "ready_replicas")


@dataclasses.dataclass(frozen=True)
class ProbeInfo:
    name: str
    kind: str  # ratio | latency | gauge | ready_replicas | unknown
    threshold: float | None = None  # ratio: max share; latency: max seconds
    quantile: float | None = None  # latency: e.g. 0.99
    lo: float | None = None  # guardrail bounds
    hi: float | None = None

    @property
    def guardrail(self) -> bool:
        return self.kind in {"gauge", "ready_replicas"}

    @property
    def statistical(self) -> bool:
        return self.kind in {"ratio", "latency"}

    @property
    def quantile_label(self) -> str:
        """``p99`` for quantile 0.99, ``p99.9`` for 0.999."""
        if self.quantile is None:
            return "quantile"
        return "p" + f"{self.quantile * 100:.4g}"

    def describe(self) -> str:
        """What the probe tests, in words, as far as the journal says."""
        if self.kind == "latency" and self.threshold is not None:
            return (f"{self.quantile_label} ≤ {self.threshold * 1000:g} ms (share of requests "
                    f"over {self.threshold * 1000:g} ms ≤ {(1 - (self.quantile or 0)):.3g})")
        if self.kind == "ratio":
            return "bad share ≤ " + (f"{self.threshold:.3g}" if self.threshold is not None
                                     else "the baseline's")
        if self.guardrail:
            return "guardrail: " + bounds_text(self.lo, self.hi)
        return "not recorded in the journal"


def bounds_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo:g} ≤ value ≤ {hi:g}"
    if lo is not None:
        return f"value ≥ {lo:g}"
    if hi is not None:
        return f"value ≤ {hi:g}"
    return "bounds not recorded"


def _number(value: Any, *, duration: bool = False, ratio: bool = False) -> float | None:
    try:
        if duration:
            return durations.parse_duration(value, field="max")
        if ratio:
            return durations.parse_ratio(value, field="max")
    except errors.InputError:
        return None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _one(spec: Mapping[str, Any]) -> ProbeInfo | None:
    name = spec.get("name")
    if not isinstance(name, str):
        return None
    kind = next((k for k in KINDS if k in spec), "unknown")
    if kind == "latency":
        q = _number(spec.get("quantile", 0.99))
        return ProbeInfo(name, kind, threshold=_number(spec.get("max"), duration=True),
                         quantile=q if q is not None and 0 < q < 1 else None)
    if kind == "ratio":
        return ProbeInfo(name, kind, threshold=_number(spec.get("max"), ratio=True))
    if kind == "ready_replicas":
        inner = spec.get("ready_replicas")
        low = spec.get("min", inner.get("min") if isinstance(inner, Mapping) else None)
        return ProbeInfo(name, kind, lo=_number(low) if low is not None else 1.0)
    return ProbeInfo(name, kind, lo=_number(spec.get("min")), hi=_number(spec.get("max")))


def from_document(document: Any) -> tuple[ProbeInfo, ...]:
    """The probes a journaled experiment document declares (native gameday format)."""
    if not isinstance(document, Mapping):
        return ()
    steady = document.get("steady_state")
    specs = steady.get("probes") if isinstance(steady, Mapping) else None
    if not isinstance(specs, list):
        return ()
    found = (_one(s) for s in specs if isinstance(s, Mapping))
    return tuple(p for p in found if p is not None)


def complete(known: tuple[ProbeInfo, ...], seen: list[str], statistical: set[str],
             gauges: set[str]) -> tuple[ProbeInfo, ...]:
    """Known probes in document order, then those seen only in the ticks (calibrated ones
    are statistical, those with values are guardrails whose bounds are not recorded)."""
    names = {p.name for p in known}
    extra = tuple(ProbeInfo(n, "ratio" if n in statistical else
                            "gauge" if n in gauges else "unknown")
                  for n in seen if n not in names)
    return known + extra
