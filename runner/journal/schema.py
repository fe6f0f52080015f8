"""Checks one parsed event against its TypedDict in ``events`` (the journal's schema).

Decision: the TypedDicts are the single source of truth for field types, read through
``typing.get_type_hints``; this module understands exactly the subset they use (``int``,
``float``, ``str``, ``bool``, ``None``, ``Any``, unions, ``list[X]``, ``dict[str, X]`` and
nested TypedDicts). JSON has one number type, so an integer is accepted where a float is
declared, but a ``bool`` is never an integer and a float is never an ``int``. The journal
core stays stdlib only, so no validation library is pulled in for these few lines.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

from runner.journal import events

_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
          type(None): "null"}


@functools.cache
def _hints(shape: type) -> dict[str, Any]:
    return typing.get_type_hints(shape)


def _shown(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if hint in _NAMES:
        return _NAMES[hint]
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_expected(h) for h in typing.get_args(hint))
    if origin is list:
        return "a list"
    if origin is dict or typing.is_typeddict(hint):
        return "an object"
    return str(hint)


Check = typing.Callable[[Any, str], "str | None"]


def _ok(_value: Any, _where: str) -> str | None:
    return None


@functools.cache
def _compile(hint: Any) -> Check:
    """A checker for ``hint``: None when a value fits, else where it does not and why.

    Compiled once per hint, so reading a journal costs one call per declared field
    (``Any`` costs nothing: a ``dict[str, Any]`` is one isinstance check).
    """
    if hint is Any:
        return _ok
    origin = typing.get_origin(hint)
    expected = _expected(hint)

    def wrong(value: Any, where: str) -> str:
        return f"{where} should be {expected}, found {_shown(value)}"

    if origin in (typing.Union, types.UnionType):
        options = tuple(_compile(h) for h in typing.get_args(hint))
        return lambda v, w: None if any(o(v, w) is None for o in options) else wrong(v, w)
    if hint is float:
        return lambda v, w: None if isinstance(v, int | float) and not isinstance(v, bool) \
            else wrong(v, w)
    if hint in (int, str, bool):
        return lambda v, w: None if type(v) is hint else wrong(v, w)
    if hint is type(None):
        return lambda v, w: None if v is None else wrong(v, w)
    if origin is list:
        item = _compile(typing.get_args(hint)[0])

        def check_list(value: Any, where: str) -> str | None:
            if not isinstance(value, list):
                return wrong(value, where)
            if item is not _ok:
                for index, element in enumerate(value):
                    if (problem := item(element, f"{where}[{index}]")) is not None:
                        return problem
            return None
        return check_list
    if origin is dict:
        item = _compile(typing.get_args(hint)[1])

        def check_dict(value: Any, where: str) -> str | None:
            if not isinstance(value, dict):
                return wrong(value, where)
            if item is not _ok:
                for key, element in value.items():
                    if (problem := item(element, f"{where}.{key}")) is not None:
                        return problem
            return None
        return check_dict
    if typing.is_typeddict(hint):
        def check_nested(value: Any, where: str) -> str | None:
            if not isinstance(value, dict):
                return wrong(value, where)
            found = fields(value, hint, where + ".")
            return found[0].removeprefix("field ") if found else None
        return check_nested
    raise TypeError(f"schema: unsupported type hint {hint!r}")  # a bug in events.py


@functools.cache
def _compiled(shape: type) -> tuple[tuple[str, Check], ...]:
    return tuple((name, _compile(hint)) for name, hint in _hints(shape).items())


def fields(value: Mapping[str, Any], shape: type, prefix: str = "") -> list[str]:
    """Problems of ``value`` against the TypedDict ``shape``: missing or mistyped fields."""
    required: frozenset[str] = getattr(shape, "__required_keys__", frozenset())
    found = [f"field {prefix}{name} is missing" for name in sorted(required) if name not in value]
    for name, check in _compiled(shape):
        if name in value and (problem := check(value[name], prefix + name)) is not None:
            found.append(f"field {problem}")
    return found


def problems(event: Mapping[str, Any]) -> list[str]:
    """Every way ``event`` departs from the schema: its envelope, then its payload."""
    found = fields(event, events.Envelope)
    if isinstance(event.get("seq"), int) and event["seq"] < 0:
        found.append(f"field seq should be a non-negative integer, found {event['seq']}")
    kind = event.get("type")
    shape = events.SHAPES.get(kind) if isinstance(kind, str) else None
    if shape is not None:
        found += fields(event, shape)
    return found
