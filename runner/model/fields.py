"""Typed reads of YAML nodes that record a problem instead of raising.

Every reader takes a node and its dotted path, returns the value or None, and on a bad
value adds one ``Problem`` (with the node's line) to the shared collector, so the schema
code reads as a list of fields and still reports every problem of the file at once.
A None result only means "do not build on this"; the problem is already recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from runner.model import durations
from runner.model import problems as probs
from runner.model.yamlsafe import Map, Node, Scalar, Seq


def found(node: Node) -> str:
    """What a node holds, for messages: ``'abc'``, ``true``, ``a list``, ``nothing``."""
    if isinstance(node, Seq):
        return "a list"
    if isinstance(node, Map):
        return "a mapping"
    return durations.describe(node.value)


class Reader:
    """Field readers bound to one file's problem collector."""

    def __init__(self, problems: probs.Problems) -> None:
        self.problems = problems

    def fail(self, node: Node | None, path: str, message: str, kind: probs.Kind = "value") -> None:
        self.problems.add(path, None if node is None else node.line, message, kind)

    def mapping(
        self,
        node: Node,
        path: str,
        *,
        allowed: Sequence[str],
        required: Sequence[str] = (),
        what: str = "key",
    ) -> dict[str, Node] | None:
        """The mapping's values by key; unknown keys and missing required keys are problems."""
        if not isinstance(node, Map):
            self.fail(node, path, f"expected a mapping of {', '.join(allowed)}, "
                      f"found {found(node)}", "type")
            return None
        values: dict[str, Node] = {}
        guessed: set[str] = set()
        for key, (line, value) in node.entries.items():
            if key in allowed:
                values[key] = value
            else:
                message = probs.unknown_message(what, key, allowed)
                self.problems.add(probs.key_path(path, key), line, message, "unknown")
                guessed.add(probs.suggest(key, allowed) or "")
        for key in required:
            if key not in node.entries and key not in guessed:  # a typo is said once
                self.fail(node, probs.key_path(path, key), f"{key!r} is required here but "
                          "missing", "missing")
        return values

    def sequence(self, node: Node, path: str, *, what: str) -> list[Node] | None:
        if not isinstance(node, Seq):
            self.fail(node, path, f"expected a list of {what}, found {found(node)}", "type")
            return None
        return node.items

    def string(self, node: Node, path: str, *, what: str = "text") -> str | None:
        """A non-empty string. Numbers are refused: quote them if they are meant as text."""
        if not isinstance(node, Scalar) or not isinstance(node.value, str):
            self.fail(node, path, f"expected {what}, found {found(node)}", "type")
            return None
        if not node.value.strip():
            self.fail(node, path, f"expected {what}, found an empty string")
            return None
        return node.value

    def boolean(self, node: Node, path: str) -> bool | None:
        if not isinstance(node, Scalar) or not isinstance(node.value, bool):
            self.fail(node, path, f"expected true or false, found {found(node)}", "type")
            return None
        return node.value

    def integer(
        self, node: Node, path: str, *, low: int | None = None, high: int | None = None
    ) -> int | None:
        value = node.value if isinstance(node, Scalar) else None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(node, path, f"expected a whole number, found {found(node)}", "type")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(node, path, f"must be {_bounds(low, high)}, found {value}")
            return None
        return value

    def number(
        self,
        node: Node,
        path: str,
        *,
        low: float | None = None,
        high: float | None = None,
        open_low: bool = False,
        open_high: bool = False,
    ) -> float | None:
        """A finite real number within the bounds (``open_*`` excludes the bound itself)."""
        value = node.value if isinstance(node, Scalar) else None
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.fail(node, path, f"expected a number, found {found(node)}", "type")
            return None
        try:
            number = float(value)
        except OverflowError:  # an integer with hundreds of digits
            number = math.inf
        if not math.isfinite(number):
            self.fail(node, path, f"expected a finite number, found {found(node)}")
            return None
        if not _within(number, low, high, open_low, open_high):
            bounds = _bounds(low, high, open_low=open_low, open_high=open_high)
            self.fail(node, path, f"must be {bounds}, found {found(node)}")
            return None
        return number

    def parsed(
        self,
        node: Node,
        path: str,
        parse: Callable[..., float],
        *,
        low: float | None = None,
        high: float | None = None,
        open_low: bool = False,
        open_high: bool = False,
    ) -> float | None:
        """A value read by a ``durations`` parser (duration, ratio, percent), then bounded."""
        if not isinstance(node, Scalar):
            self.fail(node, path, f"expected a single value, found {found(node)}", "type")
            return None
        try:
            number = parse(node.value, field=path)
        except durations.DurationError as error:
            self.fail(node, path, error.reason)
            return None
        if not _within(number, low, high, open_low, open_high):
            text = _bounds(low, high, open_low=open_low, open_high=open_high)
            self.fail(node, path, f"must be {text}, found {node.text}")
            return None
        return number

    def duration(self, node: Node, path: str, *, positive: bool = True) -> float | None:
        """Seconds; ``positive`` refuses zero."""
        return self.parsed(node, path, durations.parse_duration, low=0.0, open_low=positive)

    def choice(self, node: Node, path: str, options: Sequence[str], *, what: str) -> str | None:
        value = self.string(node, path, what=f"one of {', '.join(options)}")
        if value is None:
            return None
        if value not in options:
            self.fail(node, path, probs.unknown_message(what, value, options))
            return None
        return value

    def strings(self, node: Node, path: str, *, what: str) -> tuple[str, ...] | None:
        """A list of non-empty strings (a single string is accepted as a list of one)."""
        if isinstance(node, Scalar):
            one = self.string(node, path, what=what)
            return None if one is None else (one,)
        items = self.sequence(node, path, what=what)
        if items is None:
            return None
        values = [self.string(item, probs.index_path(path, i), what=what)
                  for i, item in enumerate(items)]
        return tuple(v for v in values if v is not None)

    def string_map(self, node: Node, path: str) -> dict[str, str] | None:
        """A mapping of names to text values (HTTP headers)."""
        if not isinstance(node, Map):
            self.fail(node, path, f"expected a mapping of names to values, found {found(node)}",
                      "type")
            return None
        result: dict[str, str] = {}
        for key, (_line, value) in node.entries.items():
            text = self.string(value, probs.key_path(path, key), what="a text value")
            if text is not None:
                result[key] = text
        return result if len(result) == len(node.entries) else None


def _within(
    number: float, low: float | None, high: float | None, open_low: bool, open_high: bool
) -> bool:
    if low is not None and (number < low or (open_low and number == low)):
        return False
    return not (high is not None and (number > high or (open_high and number == high)))


def _bounds(
    low: float | None,
    high: float | None,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> str:
    def show(value: float) -> str:
        return f"{value:g}"

    if low is not None and high is not None:
        left = "more than" if open_low else "at least"
        right = "less than" if open_high else "at most"
        return f"{left} {show(low)} and {right} {show(high)}"
    if low is not None:
        return f"more than {show(low)}" if open_low else f"at least {show(low)}"
    if high is not None:
        return f"less than {show(high)}" if open_high else f"at most {show(high)}"
    return "valid"
