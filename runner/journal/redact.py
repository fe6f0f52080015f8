"""Secret redaction for anything that may enter the journal or a report.

Defence in depth: the loader already redacts the experiment document, and the writer
runs every payload through ``redact`` again, so a secret passed by mistake (an auth
header inside a Chaos Toolkit activity, a token argument) never reaches the disk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "<redacted>"

_SECRET_KEY = re.compile(
    r"(authorization|password|passwd|secret|token|api[-_]?key|bearer|cookie|credentials)",
    re.IGNORECASE,
)


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names something that must never be written down."""
    return bool(_SECRET_KEY.search(key))


def redact(value: Any, *, under_headers: bool = False) -> Any:
    """A copy of ``value`` with secret-looking keys and every header value redacted."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if under_headers or is_secret_key(name):
                out[name] = REDACTED
            else:
                out[name] = redact(item, under_headers=name.lower() == "headers")
        return out
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
