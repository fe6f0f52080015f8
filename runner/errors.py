"""The one exception hierarchy of gameday; each class knows its exit code.

Exit codes are stable and documented (DESIGN.md §5)::

    GamedayError                      base, exit 4 (runner error, faults reverted)
    ├── InputError                    exit 2: invalid experiment, journal or usage
    │   └── ValidationFailed          every problem of a file, at once
    ├── RefusedError                  exit 3: refused before any fault
    │   ├── PreflightRefused          platform/Prometheus/blast radius/permissions
    │   └── BaselineNotSteady         steady state did not hold before the fault
    ├── RunnerError                   exit 4: gameday itself failed; faults reverted
    ├── PlatformError                 exit 3 at the command line: the platform did not answer
    │   └── ActivityError             a Chaos Toolkit activity failed (classified by the run)
    ├── RevertFailed                  exit 5: a revert failed; a human must act now
    └── JournalWriteFailed            exit 4: an event could not be written durably
        └── JournalOpenFailed         exit 2: the journal cannot be opened for append

Third-party errors are translated at the adapter boundary and chained with ``from``, so
no traceback reaches a user for a bad input. ``message`` is one paragraph that names the
file, the path and what to do.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class ExitCode(enum.IntEnum):
    """Stable process exit codes (DESIGN.md §5)."""

    HELD = 0
    BROKEN = 1
    INVALID = 2
    REFUSED = 3
    RUNNER_ERROR = 4
    REVERT_FAILED = 5


class GamedayError(Exception):
    """Base class: an error with a user-facing one-paragraph message and an exit code."""

    exit_code: ExitCode = ExitCode.RUNNER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(GamedayError):
    """The user's input (experiment, journal, command line) is invalid. Nothing was touched."""

    exit_code = ExitCode.INVALID


class ValidationFailed(InputError):
    """A file failed validation; ``problems`` holds every problem found, with path and line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{source}: {count} problem{'s' if count != 1 else ''} found; nothing was run."
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


class RefusedError(GamedayError):
    """gameday refused to inject any fault (exit 3). Nothing was touched."""

    exit_code = ExitCode.REFUSED


class PreflightRefused(RefusedError):
    """Preflight found a reason not to start: platform, Prometheus, blast radius, lock."""


class BaselineNotSteady(RefusedError):
    """The steady state did not hold during the baseline: no fault was injected."""


class RunnerError(GamedayError):
    """gameday itself failed during a run; all faults were reverted (exit 4)."""

    exit_code = ExitCode.RUNNER_ERROR


class RevertFailed(GamedayError):
    """A revert failed after its retries: a human must act now (exit 5)."""

    exit_code = ExitCode.REVERT_FAILED


class PlatformError(GamedayError):
    """A call to a platform (Prometheus, Kubernetes, the sandbox) failed.

    Adapters raise it (chained with ``from``) so the engine can classify the failure
    without importing any client library. Escaping to the command line it means the
    platform did not answer before anything was touched (exit 3); inside a run the
    engine reclassifies it (a failed injection is exit 4, a failed revert exit 5).
    """

    exit_code = ExitCode.REFUSED


class ActivityError(PlatformError):
    """A Chaos Toolkit activity (fault action or revert) failed.

    ``evidence`` is what the failure was judged on, bounded and JSON-able (exit status,
    HTTP status, the tail of stderr or of the body, the exception), for the journal.
    """

    def __init__(self, message: str, evidence: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.evidence: dict[str, Any] = dict(evidence or {})


class Interrupted(GamedayError):
    """The run was interrupted by a signal (SIGINT, SIGTERM); all faults were reverted.

    Exit 4: the run did not reach a verdict about the steady state.
    """

    exit_code = ExitCode.RUNNER_ERROR


class JournalWriteFailed(GamedayError):
    """An event could not be written to the journal durably (disk full, I/O error).

    Never a raw ``OSError``: the message names the journal and the OS error. The engine
    catches it and keeps reverting (outcomes stay in memory and are printed); the writer
    has left the file ending on a line boundary, or marked itself broken.
    """

    exit_code = ExitCode.RUNNER_ERROR

    def __init__(self, path: str, reason: str, message: str | None = None) -> None:
        self.path = path
        self.reason = reason
        super().__init__(message or f"Cannot write the journal {path}: {reason}.")


class JournalOpenFailed(JournalWriteFailed):
    """The journal cannot be opened for append (bad directory, read-only, another writer,
    a keyed journal without its key). Nothing was written; exit 2 as a usage problem."""

    exit_code = ExitCode.INVALID
