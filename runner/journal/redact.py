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

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePath
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
    return _secret_key(key)


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
        self._pattern = re.compile("|".join(re.escape(s) for s in secrets)) if secrets else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return strip_userinfo(text)


_NONE = Scrubber()


@functools.lru_cache(maxsize=4096)
def _secret_key(name: str) -> bool:
    return _SECRET_KEY.search(name) is not None


def redact(value: Any, *, under_headers: bool = False, scrub: Scrubber | None = None) -> Any:
    """A plain-JSON copy of ``value`` with secret keys, header values, secret values and URL
    userinfo redacted, at any depth (mapping keys are scrubbed too).

    Plain JSON: mappings become dicts with string keys, tuples and sets lists, a ``Path``
    its string, an object with ``to_dict`` that dict, anything else its ``repr`` (scrubbed
    like every other string). One pass, exact type checks first: it runs on every event.
    """
    return _clean(value, under_headers, scrub or _NONE)


def _clean(value: Any, under_headers: bool, scrub: Scrubber) -> Any:
    kind = type(value)
    if kind is str:
        return scrub(value)
    if value is None or kind is int or kind is float or kind is bool:
        return value
    if kind is dict or isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key if type(key) is str else str(key)
            if under_headers or _secret_key(name):
                out[scrub(name)] = REDACTED
            else:
                out[scrub(name)] = _clean(item, name.lower() == "headers", scrub)
        return out
    if kind is list or isinstance(value, list | tuple | set | frozenset):
        return [_clean(item, False, scrub) for item in value]
    if isinstance(value, str):  # subclasses (str enums): their plain value
        return scrub(str(value))
    if isinstance(value, bool | int | float):
        return (bool if isinstance(value, bool) else int if isinstance(value, int)
                else float)(value)
    if isinstance(value, PurePath):
        return scrub(str(value))
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _clean(to_dict(), under_headers, scrub)
    return scrub(repr(value))
