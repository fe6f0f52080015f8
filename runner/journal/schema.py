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


def _fits(value: Any, hint: Any, where: str) -> str | None:
    """None when ``value`` fits ``hint``, else where it does not and what was expected."""
    if hint is Any:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if any(_fits(value, h, where) is None for h in options):
            return None
        return f"{where} should be {_expected(hint)}, found {_shown(value)}"
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif hint in (int, str, bool):
        ok = type(value) is hint
    elif hint is type(None):
        ok = value is None
    elif origin is list:
        if not isinstance(value, list):
            return f"{where} should be a list, found {_shown(value)}"
        (item,) = typing.get_args(hint)
        for index, element in enumerate(value):
            if (problem := _fits(element, item, f"{where}[{index}]")) is not None:
                return problem
        return None
    elif origin is dict:
        if not isinstance(value, dict):
            return f"{where} should be an object, found {_shown(value)}"
        _key, item = typing.get_args(hint)
        for key, element in value.items():
            if (problem := _fits(element, item, f"{where}.{key}")) is not None:
                return problem
        return None
    elif typing.is_typeddict(hint):
        if not isinstance(value, dict):
            return f"{where} should be an object, found {_shown(value)}"
        found = fields(value, hint, where + ".")
        return found[0] if found else None
    else:  # pragma: no cover - a hint this checker does not know is a bug in events.py
        raise TypeError(f"schema: unsupported type hint {hint!r}")
    return None if ok else f"{where} should be {_expected(hint)}, found {_shown(value)}"


def fields(value: Mapping[str, Any], shape: type, prefix: str = "") -> list[str]:
    """Problems of ``value`` against the TypedDict ``shape``: missing or mistyped fields."""
    hints = _hints(shape)
    required: frozenset[str] = getattr(shape, "__required_keys__", frozenset())
    found = [f"field {prefix}{name} is missing" for name in sorted(required) if name not in value]
    for name, hint in hints.items():
        if name in value and (problem := _fits(value[name], hint, prefix + name)) is not None:
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
