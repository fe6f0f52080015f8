"""Number and time formatting shared by every report format, so they read the same.

Times are UTC wall clock (an incident timeline is in wall time, not "seconds since");
e-values are shown as E (not log E) and capped, shares as percentages; a missing number
is "-" (never "nan" or "None").
"""

from __future__ import annotations

import datetime
import math
from typing import Any


def present(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and not math.isnan(value)


def clock(ts: float | None, *, millis: bool = True) -> str:
    if not present(ts):
        return "-"
    assert ts is not None
    text = datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).strftime("%H:%M:%S.%f")
    return text[:-3] if millis else text[:-7]


def stamp(ts: float | None) -> str:
    """A full UTC date and time, for headers."""
    if not present(ts):
        return "-"
    assert ts is not None
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def num(value: Any, spec: str = ".4g") -> str:
    return format(value, spec) if present(value) else "-"


def evalue(log_e: Any) -> str:
    """E = exp(log E), readable: 3.2, 1.2e+05, "< 0.001"."""
    if not present(log_e):
        return "-"
    if log_e > 690:
        return "> 1e+300"
    value = math.exp(log_e)
    return "< 0.001" if value < 0.001 else format(value, ".3g")


def percent(share: Any) -> str:
    if not present(share):
        return "-"
    return f"{share * 100:.3g} %"


def ms(seconds: Any) -> str:
    return f"{seconds * 1000:.4g} ms" if present(seconds) else "-"


def seconds(value: Any) -> str:
    if not present(value):
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.3g} s"


def short_hash(value: Any, size: int = 16) -> str:
    return str(value)[:size] if value else "not recorded"
