"""The experiment as journaled (secrets redacted) and ``${ENV_VAR}`` references.

Decisions: the journal keeps the file as loaded so a reviewer sees what ran, but secrets
never enter it. Redaction is by *name*, not by guessing values: every value under a
``headers`` mapping (Prometheus auth, HTTP provider headers) and every value whose key
looks like a secret (token, password, secret, authorization, api key, credential,
cookie, private key) becomes ``"<redacted>"``, at any depth. Environment references are
only expanded in ``prometheus.headers`` (the one place credentials are expected); the
journaled document keeps the reference text, never the resolved value. There is no
escape syntax: a header value cannot contain a literal ``${NAME}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "<redacted>"
_SECRET = re.compile(
    r"token|passw(or)?d|secret|authori[sz]ation|api[-_]?key|credential|cookie|private[-_]?key",
    re.IGNORECASE,
)
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LOOSE_ENV = re.compile(r"\$\{[^}]*\}?")


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (``api_token``, ``Authorization``...)."""
    return _SECRET.search(key) is not None


def redact(data: Any) -> Any:
    """A copy of plain data with secret values replaced by ``"<redacted>"``."""
    if isinstance(data, list):
        return [redact(item) for item in data]
    if isinstance(data, dict):
        result: dict[str, Any] = {}
        for key, value in data.items():
            if is_secret_key(key) or (key == "headers" and isinstance(value, dict)):
                result[key] = _redact_all(value) if key == "headers" else REDACTED
            else:
                result[key] = redact(value)
        return result
    return data


def _redact_all(headers: dict[str, Any]) -> dict[str, Any]:
    return {key: REDACTED for key in headers}


def expand(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """``text`` with ``${NAME}`` replaced from ``environ``, and the names that are unset.

    A malformed reference (``${}``, ``${1X}``, an unclosed ``${``) is reported as missing
    under its own text, so a typo is never sent to a server as a literal header.
    """
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            missing.append(name)
            return ""
        return environ[name]

    expanded = _ENV.sub(substitute, text)
    missing.extend(bad.group(0) for bad in _LOOSE_ENV.finditer(_ENV.sub("", text)))
    return expanded, missing
