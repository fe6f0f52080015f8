"""Secret redaction for anything that may enter the journal or a report.

Defence in depth, by key *and* by value: the loader already redacts the experiment
document by key, and the writer runs every payload through ``redact`` again, which

- replaces the value under a secret-looking key (token, password, authorization...) and
  every value under a ``headers`` mapping with ``<redacted>``;
- scrubs every configured secret value (``Scrubber``: the run's resolved secrets) out of
  every string, mapping keys included, wherever it appears inside the string;
- scrubs the userinfo of every URL in every string: ``http://user:pass@host`` becomes
  ``http://<redacted>@host`` (the host stays: a reviewer needs to know where it went).

Decision: a secret value shorter than ``MIN_SECRET`` characters is refused, not
silently skipped or scrubbed: scrubbing ``"ab"`` everywhere would mangle the journal
(field names included), and skipping it would break the promise that secrets never
reach the disk. Only strings are scrubbed; a secret must not be a bare number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from runner import errors

REDACTED: Final = "<redacted>"
MIN_SECRET: Final = 4

_SECRET_KEY = re.compile(
    r"(authorization|password|passwd|secret|token|api[-_]?key|bearer|cookie|credential"
    r"|private[-_]?key)",
    re.IGNORECASE,
)
# scheme://userinfo@host: the userinfo runs up to the last "@" before the path.
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://)([^/?#\s]*)@")


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names something that must never be written down."""
    return bool(_SECRET_KEY.search(key))


def strip_userinfo(text: str) -> str:
    """``text`` with the userinfo of every URL in it replaced by ``<redacted>``."""
    if "://" not in text or "@" not in text:
        return text
    return _USERINFO.sub(lambda m: m.group(1) + (REDACTED + "@" if m.group(2) else "@"), text)


class Scrubber:
    """Removes configured secret values (and URL userinfo) from strings."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        secrets = sorted({str(v) for v in values if v is not None and str(v) != ""},
                         key=len, reverse=True)
        short = [s for s in secrets if len(s) < MIN_SECRET]
        if short:
            raise errors.InputError(
                f"{len(short)} configured secret value(s) are shorter than {MIN_SECRET} "
                "characters; gameday cannot scrub them from the journal without mangling it. "
                "Use longer secrets (a real credential is), or do not mark these as secrets."
            )
        self._secrets = tuple(secrets)
        self._pattern = re.compile("|".join(re.escape(s) for s in secrets)) if secrets else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return strip_userinfo(text)

    def leaks(self, data: str) -> bool:
        """Whether a secret value still occurs in already serialised text (a last check)."""
        return any(s in data for s in self._secrets)


_NONE = Scrubber()


def redact(value: Any, *, under_headers: bool = False, scrub: Scrubber | None = None) -> Any:
    """A copy of ``value``: secret keys, header values, secret values and URL userinfo
    redacted, at any depth (mapping keys are scrubbed too)."""
    clean = scrub or _NONE
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if under_headers or is_secret_key(name):
                out[clean(name)] = REDACTED
            else:
                out[clean(name)] = redact(item, under_headers=name.lower() == "headers",
                                          scrub=clean)
        return out
    if isinstance(value, list | tuple):
        return [redact(item, scrub=clean) for item in value]
    if isinstance(value, str):
        return clean(value)
    return value
