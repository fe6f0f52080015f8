"""Validation problems: what is wrong, where (dotted path and YAML line), and what kind.

The loader never stops at the first problem: every check appends to a ``Problems``
collector and the caller raises once, with all of them. A ``Problem`` is a frozen value
so the CLI can print it, sort it or serialise it; ``str(problem)`` is the one-line form
used in ``errors.ValidationFailed`` (``faults[1].latency.delay (line 14): ...``).
Unknown names get a difflib suggestion, because a typo is the most common mistake.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable
from typing import Literal

Kind = Literal[
    "file",  # the file cannot be read as text (reported by InputError, or by check())
    "yaml",  # YAML syntax
    "unsafe",  # hostile or unsupported YAML: tags, alias bombs, depth, several documents
    "duplicate",  # a key given twice, or two probes/faults with the same name
    "unknown",  # an unknown key or kind
    "missing",  # a required key is absent
    "type",  # the wrong type of value
    "value",  # the right type, a wrong value (range, syntax of a duration/selector...)
    "conflict",  # keys that exclude each other, or disagree with another section
    "env",  # an ${ENV_VAR} reference that is not set
]

MAX_MESSAGE = 600  # a hostile value must not make a megabyte-long message
MAX_PATH = 120
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with an experiment file. ``line`` is 1-based, None when unknown."""

    path: str
    line: int | None
    message: str
    kind: Kind = "value"

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where = f"{where} (line {self.line})" if where else f"line {self.line}"
        return f"{where}: {self.message}" if where else self.message


def short(text: str, limit: int = 60) -> str:
    """``repr(text)``, cut to ``limit`` characters: values quoted in messages stay readable."""
    return repr(text) if len(text) <= limit else repr(text[: limit - 3] + "...")


def key_path(parent: str, key: str) -> str:
    """``parent.key``; keys that are not plain names are quoted: ``headers["X.Y"]``."""
    if _PLAIN_KEY.match(key):
        return f"{parent}.{key}" if parent else key
    quoted = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{parent}["{quoted}"]'


def index_path(parent: str, index: int) -> str:
    """``parent[index]``."""
    return f"{parent}[{index}]"


def suggest(word: str, options: Iterable[str]) -> str | None:
    """The closest option to a misspelt ``word`` (case, ``_`` and ``-`` are forgiven)."""
    options = list(options)

    def norm(text: str) -> str:
        return text.lower().replace("_", "").replace("-", "")

    for option in options:
        if norm(option) == norm(word):
            return option
    close = difflib.get_close_matches(word.lower(), options, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_message(what: str, word: str, options: Iterable[str]) -> str:
    """``unknown key 'delai' — did you mean 'delay'?`` (or the list of valid names)."""
    options = list(options)
    guess = suggest(word, options)
    if guess is not None:
        return f"unknown {what} {short(word)} — did you mean {guess!r}?"
    return f"unknown {what} {short(word)}; expected one of: {', '.join(options)}"


class Problems:
    """An ordered collector of problems, shared by every check of one file."""

    def __init__(self) -> None:
        self._items: list[Problem] = []

    def add(self, path: str, line: int | None, message: str, kind: Kind = "value") -> None:
        message = message.rstrip(". ")
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
        if len(path) > MAX_PATH:
            path = path[: MAX_PATH - 3] + "..."
        self._items.append(Problem(path, line, message, kind))

    def extend(self, problems: Iterable[Problem]) -> None:
        self._items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def sorted(self) -> list[Problem]:
        """Problems in file order (by line, stable), whole-file problems first."""
        return sorted(self._items, key=lambda p: 0 if p.line is None else p.line)
