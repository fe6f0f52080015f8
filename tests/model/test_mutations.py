"""Seeded mutations of valid files: the loader answers every one with an input error or
an experiment, never with a traceback (this is how the URL and empty-``!!int`` crashes
were found)."""

from __future__ import annotations

import random

import pytest

from runner import errors
from runner.model import loader
from tests.model.conftest import ENV, VALID

TOKENS = [
    b"", b"-", b":", b"[", b"]", b"{", b"}", b"&a", b"*a", b"!!int", b"!!float", b"<<", b"'",
    b'"', b"\n", b"  ", b"0", b"-1", b"1e999", b"null", b"~", b"true", b"5m", b"%", b"\t",
    b"? ", b",", b"#", b"\xff", b"\x00", b"|", b">", b"${", b"]9", b"9" * 400,
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to four random edits: replace bytes by a token, drop a line, repeat a line."""
    for _ in range(rng.randint(1, 4)):
        lines = data.split(b"\n")
        choice = rng.random()
        if choice < 0.5:
            pos = rng.randrange(len(data) + 1)
            data = data[:pos] + rng.choice(TOKENS) + data[pos + rng.randint(0, 5):]
        elif choice < 0.75:
            del lines[rng.randrange(len(lines))]
            data = b"\n".join(lines)
        else:
            lines.insert(rng.randrange(len(lines)), rng.choice(lines))
            data = b"\n".join(lines)
    return data


@pytest.mark.timeout(60)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_mutated_valid_file_never_raises_anything_but_an_input_error(seed: int) -> None:
    rng = random.Random(seed)
    originals = [path.read_bytes() for path in sorted(VALID.glob("*.yaml"))]
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(300):
        data = mutate(rng, rng.choice(originals))
        try:
            loader.load_text(data, "<mutated>", environ=ENV)
        except errors.InputError as error:
            assert error.message.startswith("<mutated>")
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
    assert outcomes["refused"] > 0 and sum(outcomes.values()) == 300
