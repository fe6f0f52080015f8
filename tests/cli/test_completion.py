"""Shell completion, as the README documents it: click answers ``_GAMEDAY_COMPLETE``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def complete(words: str, cword: int) -> list[str]:
    env = {**os.environ, "_GAMEDAY_COMPLETE": "bash_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(cword)}
    done = subprocess.run([sys.executable, "-c", "from runner.cli.entry import main; main()"],
                          capture_output=True, text=True, cwd=ROOT, env=env, check=False,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return [line.split(",", 1)[1] for line in done.stdout.splitlines() if "," in line]


def test_commands_and_options_complete_in_bash() -> None:
    assert "plan" in complete("gameday pl", 1)
    assert "--json" in complete("gameday validate --j", 2)
    assert set(complete("gameday sandbox ", 2)) >= {"up", "down", "status"}
