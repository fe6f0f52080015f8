"""Durations, ratios and percentages as SREs write them: ``15s``, ``1m30s``, ``300ms``, ``1%``.

Decisions: a duration is a non-negative, finite number of seconds. A plain number (or a
numeric string) is seconds. Units are Prometheus's ``ms s m h d``, largest first, each at
most once, with decimals allowed (``1.5s``); no spaces inside (``5 min`` is refused with
a hint). Booleans are never numbers (YAML's ``yes`` is not 1). Errors are
``errors.InputError`` so a caller outside the loader (a CLI option) gets exit code 2.
"""

from __future__ import annotations

import math
import re

from runner import errors

_UNITS = {"d": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_ORDER = ["d", "h", "m", "s", "ms"]
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)")
_NUMBER = re.compile(r"[+-]?(\d+(?:\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_HINT = "write e.g. 300ms, 15s, 1.5s, 5m, 1m30s, 1h or a number of seconds"


class DurationError(errors.InputError):
    """A value is not a duration (or a ratio); ``reason`` is the message without the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, int) and abs(value) >= 10**30:
        return "a huge number"
    if isinstance(value, int | float):
        return str(value)
    return f"a {type(value).__name__}"


def _number(value: object) -> float | None:
    """``value`` as a float if it is a real number (not a bool) or a numeric string."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            return float(value.strip())
    except OverflowError:  # an integer with hundreds of digits
        return math.inf
    return None


def parse_duration(value: object, *, field: str) -> float:
    """Seconds in ``value``: ``"15s"``, ``"5m"``, ``"300ms"``, ``"1h"``, ``"1m30s"``, ``20``."""
    seconds = _number(value)
    if seconds is None and isinstance(value, str):
        text = value.strip()
        seconds = _units(text.removeprefix("-"), field)
        if seconds is not None and text.startswith("-"):
            seconds = -1.0  # reported as negative below
    if seconds is None:
        raise DurationError(field, f"expected a duration, found {_describe(value)}; {_HINT}.")
    if not math.isfinite(seconds):
        raise DurationError(field, f"a duration must be finite, found {_describe(value)}.")
    if seconds < 0:
        raise DurationError(field, f"a duration cannot be negative, found {_describe(value)}.")
    return seconds


def unitless(value: object) -> bool:
    """True for a bare number (``300``, ``"0.3"``): a duration written without its unit."""
    return _number(value) is not None


def _units(text: str, field: str) -> float | None:
    pos, total, last = 0, 0.0, -1
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            return None
        rank = _ORDER.index(match.group(2))
        if rank <= last:
            raise DurationError(
                field,
                f"{text!r} repeats a unit or has them out of order; "
                "write the largest unit first, each once (1h30m, 1m30s)."
            )
        last = rank
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return total if text else None


def parse_ratio(value: object, *, field: str) -> float:
    """A ratio in [0, 1]: ``0.01`` or ``"1%"`` (a percentage string is divided by 100)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        number = _number(value.strip()[:-1])
        if number is not None:
            number /= 100.0
    else:
        number = _number(value)
    if number is None or not math.isfinite(number):
        raise DurationError(
            field,
            f"expected a ratio such as 0.01 or '1%', found {_describe(value)}."
        )
    if not 0.0 <= number <= 1.0:
        raise DurationError(
            field,
            f"a ratio lies between 0 and 1 (0% and 100%), found {_describe(value)}."
        )
    return number


def parse_percent(value: object, *, field: str) -> float:
    """A percentage in [0, 100]: ``25`` or ``"25%"`` (as Chaos Mesh and tc netem take it)."""
    text = value.strip().removesuffix("%") if isinstance(value, str) else value
    number = _number(text)
    if number is None or not math.isfinite(number) or not 0.0 <= number <= 100.0:
        raise DurationError(
            field,
            f"expected a percentage from 0 to 100 (25 or '25%'), "
            f"found {_describe(value)}."
        )
    return number


def describe(value: object) -> str:
    """A short human rendering of a YAML value for messages (``'abc'``, ``true``, ``a list``)."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return _describe(value)
