"""Kubernetes label selectors: parse the string form, match labels, and convert forms.

gameday passes every selector to the API server (``labelSelector=``) and then checks
each returned object again on the client with ``matches``. The second check costs
microseconds and means a server (or proxy) that ignores the selector can never widen
the blast radius: a pod kill only ever touches pods whose labels really match.

The grammar is the one of ``kubectl -l`` (k8s.io/apimachinery/pkg/labels): ``k=v``,
``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k`` (exists), ``!k`` (does not
exist), joined by commas. Pure module: no client import, usable from validation.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Operator = Literal["=", "!=", "in", "notin", "exists", "!"]

_KEY = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_RE = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(\s*([^()]*)\)$")
_EQ_RE = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VALUE})$")
_EXISTS_RE = re.compile(rf"^(!?)\s*({_KEY})$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


class SelectorError(ValueError):
    """A label selector string that Kubernetes would reject."""


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One clause of a selector: ``key`` ``op`` ``values``."""

    key: str
    op: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "=":
            return present and labels[self.key] == self.values[0]
        if self.op == "!=":
            return not present or labels[self.key] != self.values[0]
        if self.op == "in":
            return present and labels[self.key] in self.values
        if self.op == "notin":
            return not present or labels[self.key] not in self.values
        if self.op == "exists":
            return present
        return not present

    def __str__(self) -> str:
        if self.op in ("=", "!="):
            return f"{self.key}{self.op}{self.values[0]}"
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(self.values)})"
        return self.key if self.op == "exists" else f"!{self.key}"


@dataclasses.dataclass(frozen=True)
class Selector:
    """A parsed label selector; an empty one matches everything (and is never allowed
    as a fault target: ``is_empty`` lets callers refuse it)."""

    requirements: tuple[Requirement, ...]

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        have = labels or {}
        return all(req.matches(have) for req in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(req) for req in self.requirements)

    def equality_labels(self) -> dict[str, str]:
        """The ``k=v`` clauses as a dict (Chaos Mesh ``labelSelectors``)."""
        return {r.key: r.values[0] for r in self.requirements if r.op == "="}

    def expressions(self) -> list[dict[str, Any]]:
        """Every other clause as Kubernetes ``matchExpressions``."""
        names = {"!=": "NotIn", "in": "In", "notin": "NotIn", "exists": "Exists",
                 "!": "DoesNotExist"}
        out: list[dict[str, Any]] = []
        for req in self.requirements:
            if req.op == "=":
                continue
            expr: dict[str, Any] = {"key": req.key, "operator": names[req.op]}
            if req.values:
                expr["values"] = list(req.values)
            out.append(expr)
        return out


def _split(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _parse_clause(clause: str) -> Requirement:
    if match := _SET_RE.match(clause):
        key, op, raw = match.groups()
        values = tuple(v.strip() for v in raw.split(",") if v.strip())
        bad = [v for v in values if not _VALUE_RE.match(v)]
        if not values or bad:
            raise SelectorError(f"{clause!r}: a set needs valid label values, got {raw!r}")
        return Requirement(key, "in" if op == "in" else "notin", values)
    if match := _EQ_RE.match(clause):
        key, op, value = match.groups()
        return Requirement(key, "!=" if op == "!=" else "=", (value,))
    if match := _EXISTS_RE.match(clause):
        bang, key = match.groups()
        return Requirement(key, "!" if bang else "exists")
    raise SelectorError(
        f"{clause!r} is not a label selector clause "
        "(use k=v, k!=v, 'k in (a,b)', 'k notin (a,b)', k or !k)"
    )


def parse(text: str) -> Selector:
    """Parse ``app=checkout,tier in (web,api)``; raises ``SelectorError`` if invalid."""
    stripped = text.strip()
    if not stripped:
        return Selector(())
    return Selector(tuple(_parse_clause(clause) for clause in _split(stripped)))


def from_label_selector(body: Mapping[str, Any] | None) -> Selector:
    """A Kubernetes ``LabelSelector`` object (``matchLabels``/``matchExpressions``)."""
    if not body:
        return Selector(())
    reqs = [Requirement(k, "=", (str(v),)) for k, v in (body.get("matchLabels") or {}).items()]
    ops: dict[str, Operator] = {"In": "in", "NotIn": "notin", "Exists": "exists",
                                "DoesNotExist": "!"}
    for expr in body.get("matchExpressions") or []:
        op = ops.get(str(expr.get("operator")))
        if op is None:
            raise SelectorError(f"unknown matchExpressions operator {expr.get('operator')!r}")
        reqs.append(Requirement(str(expr["key"]), op, tuple(expr.get("values") or ())))
    return Selector(tuple(reqs))


def join(selectors: Sequence[Selector]) -> Selector:
    """The conjunction of several selectors."""
    return Selector(tuple(req for sel in selectors for req in sel.requirements))
