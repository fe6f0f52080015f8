"""The journal key: HMAC-SHA256 keys from a file or the ``GAMEDAY_JOURNAL_KEY`` variable.

Decisions: a key is hex (an even number of hex digits, e.g. ``openssl rand -hex 32``) or
raw bytes; a file's single trailing newline is not part of it. A key shorter than 16
bytes is refused: it could be guessed, and a keyed chain that can be guessed is a claim
gameday would not honour. A file wins over the variable when both are given. The key is
never printed, journaled or put in an error message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from runner import errors

ENV: Final = "GAMEDAY_JOURNAL_KEY"
MIN_BYTES: Final = 16
MAX_FILE_BYTES: Final = 4096
_HEX = re.compile(rb"(?:[0-9a-fA-F]{2})+")


def parse(raw: bytes, where: str) -> bytes:
    """The key in ``raw`` (hex or raw bytes); ``where`` names its source in errors."""
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n"):
        raw = raw[:-1]
    key = bytes.fromhex(raw.decode("ascii")) if _HEX.fullmatch(raw) else raw
    if len(key) < MIN_BYTES:
        raise errors.InputError(
            f"The journal key from {where} is {len(key)} byte(s); a key needs at least "
            f"{MIN_BYTES} (e.g. `openssl rand -hex 32 > journal.key`).")
    return key


def load(key_file: Path | None = None, environ: Mapping[str, str] | None = None) -> bytes | None:
    """The key from ``key_file``, else from ``$GAMEDAY_JOURNAL_KEY``; None when neither."""
    if key_file is not None:
        try:
            with open(key_file, "rb") as fh:  # a pipe (`<(vault read ...)`) is fine too
                raw = fh.read(MAX_FILE_BYTES + 1)
        except IsADirectoryError as exc:
            raise errors.InputError(f"The journal key file {key_file} is a directory; pass "
                                    "the file that holds the key.") from exc
        except OSError as exc:
            raise errors.InputError(
                f"Cannot read the journal key file {key_file}: {exc.strerror}. Pass a "
                "readable file with --journal-key-file, or set GAMEDAY_JOURNAL_KEY.") from exc
        if len(raw) > MAX_FILE_BYTES:
            raise errors.InputError(f"The journal key file {key_file} is over {MAX_FILE_BYTES} "
                                    "bytes; it should hold one key (16 to 64 bytes, or hex).")
        return parse(raw, f"the file {key_file}")
    env = os.environ if environ is None else environ
    value = env.get(ENV)
    if value is None or value == "":
        return None
    return parse(value.encode("utf-8", "surrogateescape"), f"${ENV}")
