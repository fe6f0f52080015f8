"""Shared helpers for the model tests: where the corpus lives, and problems as tuples."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.model import loader

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
VALID = HERE / "valid"

#: The environment the tests load with: only what a test sets is there.
ENV = {"GAMEDAY_PROM_TOKEN": "s3cr3t-token"}


def problems_of(text: str) -> list[tuple[str, int | None, str]]:
    """(path, line, kind) of every problem of an inline document."""
    return [(p.path, p.line, p.kind) for p in loader.check_text(text, "<test>", environ=ENV)]


@pytest.fixture
def env() -> dict[str, str]:
    return dict(ENV)
