"""The console script's entry point: a fast path for ``validate``, else the click CLI.

Importing click and the command modules costs more than validating a file does, so a
plain ``gameday validate FILE...`` is served before any of it is imported.
"""

from __future__ import annotations

import sys


def main() -> None:
    from runner.cli import validating

    fast = validating.fast_path(sys.argv[1:])
    if fast is not None:
        sys.exit(fast)
    from runner.cli import main as cli_main

    cli_main.main()
