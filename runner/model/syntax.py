"""Cheap static checks of the small languages inside an experiment: selectors and PromQL.

Decision: validation must not talk to Prometheus or Kubernetes (that is preflight), so
these checks only catch what a typo breaks: a Kubernetes label selector that the API
would reject, a counter that is an expression where a series selector is expected, a
histogram given with its ``_bucket`` suffix, unbalanced brackets or quotes in PromQL.
Each function returns a message (what is wrong and what to write) or None. Inputs are
capped in length before any regular expression runs, so a hostile string stays cheap.
"""

from __future__ import annotations

import re

MAX_TEXT = 4096

_METRIC = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`'
_MATCHER = rf"\s*{_LABEL}\s*(?:=~|!~|!=|=)\s*(?:{_STRING})\s*"
_MATCHERS = rf"\{{(?:{_MATCHER}(?:,{_MATCHER})*,?)?\s*\}}"
_SERIES = re.compile(rf"\s*(?:{_METRIC}\s*(?:{_MATCHERS})?|{_MATCHERS})\s*")
_MATCHERS_ONLY = re.compile(rf"\s*(?:{_MATCHERS})?\s*")
_METRIC_ONLY = re.compile(_METRIC)

_K8S_KEY = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_K8S_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_K8S_SET = rf"\(\s*{_K8S_VALUE}(?:\s*,\s*{_K8S_VALUE})*\s*\)"
_K8S_REQ = (
    rf"\s*(?:!\s*{_K8S_KEY}|{_K8S_KEY}\s*(?:==|=|!=)\s*{_K8S_VALUE}"
    rf"|{_K8S_KEY}\s+(?:in|notin)\s*{_K8S_SET}|{_K8S_KEY})\s*"
)
_K8S_SELECTOR = re.compile(rf"{_K8S_REQ}(?:,{_K8S_REQ})*")
_K8S_NAME = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")
_PRODUCTION = re.compile(r"(?:^|[-_.])prod(?:uction)?(?:$|[-_.])")

_PAIRS = {")": "(", "]": "[", "}": "{"}


def _short(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


def _too_long(text: str) -> str | None:
    if len(text) > MAX_TEXT:
        return f"is {len(text)} characters long; the limit is {MAX_TEXT}"
    return None


def label_selector(text: str) -> str | None:
    """A Kubernetes label selector: ``app=checkout``, ``tier in (web,api),!canary``."""
    if (long := _too_long(text)) is not None:
        return long
    if _K8S_SELECTOR.fullmatch(text) is None:
        return (
            f"{_short(text)} is not a label selector; write e.g. app=checkout or "
            "app=checkout,tier in (web,api)"
        )
    return None


def namespace(text: str) -> str | None:
    """A Kubernetes namespace name (RFC 1123 label)."""
    if _K8S_NAME.fullmatch(text) is None:
        return (
            f"{_short(text)} is not a namespace name: lower-case letters, digits and '-', "
            "at most 63 characters"
        )
    return None


def looks_like_production(name: str) -> bool:
    """``prod``, ``shop-prod``, ``production-eu``... (the blast radius guards these)."""
    return _PRODUCTION.search(name) is not None


def series_selector(text: str) -> str | None:
    """A counter series selector: ``metric{label="v"}``, never an expression."""
    if (long := _too_long(text)) is not None:
        return long
    if _SERIES.fullmatch(text) is None:
        return (
            f"expected a counter series selector such as "
            f'http_requests_total{{code=~"5.."}}, found {_short(text)}; gameday takes the '
            "per-tick increase itself, so do not wrap it in rate(), increase() or sum()"
        )
    return None


def metric_name(text: str) -> str | None:
    """A histogram's base metric name (without ``_bucket``/``_count``/``_sum``)."""
    if _METRIC_ONLY.fullmatch(text) is None:
        return f"{_short(text)} is not a metric name; write e.g. http_request_duration_seconds"
    for suffix in ("_bucket", "_count", "_sum"):
        if text.endswith(suffix):
            return f"give the histogram's base name without {suffix!r}: {text[: -len(suffix)]!r}"
    return None


def matchers(text: str) -> str | None:
    """Label matchers in braces: ``{app="checkout",code!="200"}`` (may be empty)."""
    if (long := _too_long(text)) is not None:
        return long
    if _MATCHERS_ONLY.fullmatch(text) is None:
        example = '{app="checkout"}'
        return f"expected label matchers in braces such as {example}, found {_short(text)}"
    return None


def promql(text: str) -> str | None:
    """Balanced brackets and closed quotes: the typos a static check can catch in PromQL."""
    if (long := _too_long(text)) is not None:
        return long
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    for char in text:
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\" and quote != "`":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            stack.append(char)
        elif char in _PAIRS and (not stack or stack.pop() != _PAIRS[char]):
            return f"unbalanced {char!r} in PromQL {_short(text)}"
    if quote is not None:
        return f"unclosed {quote} quote in PromQL {_short(text)}"
    if stack:
        return f"unclosed {stack[-1]!r} in PromQL {_short(text)}"
    return None
