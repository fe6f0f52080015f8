"""Series selectors as data: parse ``metric{label=~"re"}``, compare two, match labels locally.

Why: the cheapest consistent read of a ratio is one query. When every series of the
``errors`` selector is also a series of ``total`` (same metric, every matcher of total
also in errors: ``req_total{app="x",code=~"5.."}`` over ``req_total{app="x"}``), one
range query of ``total`` holds both sides, and the errors are picked out of it here by
the extra matchers. That holds for series that appear later too, because it follows
from the selectors' text, not from today's series.

Decision: Prometheus matches regular expressions with RE2, fully anchored; Python's
``re.fullmatch`` agrees on the syntax selectors use in practice, and the caller checks
the local match against the server's own answer once before trusting it. A matcher
this module cannot compile (or any parse doubt) makes ``parse`` return None, and the
caller falls back to two queries checked against each other.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import warnings
from collections.abc import Mapping

_NAME = re.compile(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*")
_MATCHER = re.compile(
    r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"
    r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*(,)?"
)


@dataclasses.dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # =, !=, =~, !~
    value: str
    pattern: re.Pattern[str] | None = dataclasses.field(default=None, compare=False)

    def matches(self, labels: Mapping[str, str]) -> bool:
        have = labels.get(self.label, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(have) is not None
        return found if self.op == "=~" else not found


@dataclasses.dataclass(frozen=True)
class Selector:
    """A parsed series selector: its matchers, the metric name as ``__name__="..."``."""

    matchers: frozenset[Matcher]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def covers(self, other: Selector) -> bool:
        """Every series ``other`` selects is one this selects (by the matchers' text)."""
        return self.matchers <= other.matchers


def _literal(text: str) -> str | None:
    if text.startswith("`"):
        return text[1:-1]
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _matcher(label: str, op: str, value: str) -> Matcher | None:
    if op in ("=", "!="):
        return Matcher(label, op, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "possible nested set" and friends: RE2 differs
            return Matcher(label, op, value, re.compile(value))
    except (re.error, FutureWarning, DeprecationWarning):
        return None


def parse(text: str) -> Selector | None:
    """``text`` as a selector, or None when it is not a plain series selector we can read."""
    matchers: set[Matcher] = set()
    pos = 0
    name = _NAME.match(text)
    if name is not None and name.group(1):
        matchers.add(Matcher("__name__", "=", name.group(1)))
        pos = name.end()
    rest = text[pos:].strip()
    if rest:
        if not (rest.startswith("{") and rest.endswith("}")):
            return None
        body, at = rest[1:-1], 0
        while body[at:].strip():
            found = _MATCHER.match(body, at)
            if found is None:
                return None
            value = _literal(found.group(3))
            built = None if value is None else _matcher(found.group(1), found.group(2), value)
            if built is None:
                return None
            matchers.add(built)
            at = found.end()
            if found.group(4) is None and body[at:].strip():
                return None
    return Selector(frozenset(matchers)) if matchers else None


def string_literal(value: str) -> str:
    """``value`` as a PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def with_matcher(match: str, label: str, op: str, value: str) -> str:
    """Label matchers ``match`` (``{a="b"}``, ``a="b"`` or empty) plus one more, in braces."""
    inner = match.strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1]
    inner = inner.strip().rstrip(",").strip()
    extra = f"{label}{op}{string_literal(value)}"
    return "{" + (f"{inner},{extra}" if inner else extra) + "}"


def alternatives(values: list[str]) -> str:
    """An RE2 pattern matching exactly one of ``values`` (for ``le=~``)."""
    return "|".join(re.escape(v) for v in sorted(set(values)))
