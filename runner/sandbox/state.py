"""The sandbox's state file: where a running sandbox's processes are, and how to find it.

``<state dir>/sandbox.json`` is written by ``manager.up`` and read by everything that
talks to the sandbox later: ``gameday sandbox down|status``, the ``gameday_local``
Chaos Toolkit extension (from a plain ``chaos run`` too) and the local platform adapter.
Decisions: the file is the only link between those processes, so it is plain JSON
(TypedDict, versioned), written atomically (temp file + rename), and it is written while
the sandbox starts too (``status: "starting"``), so a ``down`` after an interrupted
``up`` still finds every process started so far.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal, TypedDict

from runner import atomic, errors

STATE_FILE = "sandbox.json"
VERSION = 1
ENV_DIR = "GAMEDAY_SANDBOX"

SUPERVISOR = "supervisor"
PROXY = "proxy"
TRAFFIC = "traffic"
PROMETHEUS = "prometheus"
#: The order in which ``down`` stops the processes: clients first, replicas last.
STOP_ORDER = (TRAFFIC, PROXY, PROMETHEUS, SUPERVISOR)


class ProcessRecord(TypedDict):
    """One process the sandbox started (each leads its own process group)."""

    pid: int
    port: int | None
    url: str | None
    log: str
    marker: str  # a substring of its command line: a recycled PID is never signalled


class ReplicaRecord(TypedDict):
    """One replica slot of the demo service: its stable name and fixed port."""

    name: str
    port: int


class SandboxState(TypedDict):
    """The content of ``sandbox.json``."""

    version: int
    status: Literal["starting", "ready"]
    dir: str
    started_at: float  # wall-clock seconds since the epoch
    service: str
    replicas: list[ReplicaRecord]
    processes: dict[str, ProcessRecord]


def default_dir() -> Path:
    """``$GAMEDAY_SANDBOX`` if set, else ``./.gameday/sandbox``."""
    configured = os.environ.get(ENV_DIR)
    return Path(configured) if configured else Path(".gameday") / "sandbox"


def state_path(state_dir: Path | str) -> Path:
    return Path(state_dir) / STATE_FILE


def load_state(state_dir: Path | str) -> SandboxState:
    """The state of the sandbox in ``state_dir``; ``PlatformError`` if none runs there."""
    path = state_path(state_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise errors.PlatformError(
            f"No sandbox runs in {Path(state_dir)} (no {STATE_FILE} there). "
            "Start one with `gameday sandbox up`, or point to the one that runs with "
            f"--sandbox (--dir for `gameday sandbox`) or ${ENV_DIR}."
        ) from None
    except OSError as exc:
        raise errors.PlatformError(f"Cannot read the sandbox state {path}: {exc}.") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise errors.PlatformError(
            f"The sandbox state {path} is not valid JSON ({exc}). Stop what runs with "
            "`gameday sandbox down` and start again with `gameday sandbox up`."
        ) from exc
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise errors.PlatformError(
            f"The sandbox state {path} is not a version-{VERSION} gameday sandbox state. "
            "Run `gameday sandbox down` and `gameday sandbox up` with this gameday version."
        )
    state: SandboxState = data  # type: ignore[assignment]  # checked by version above
    return state


def save_state(state_dir: Path | str, state: SandboxState) -> None:
    """Write ``sandbox.json`` atomically (a reader never sees half a file)."""
    atomic.write_json(state_path(state_dir), state, indent=2)


def remove_state(state_dir: Path | str) -> None:
    state_path(state_dir).unlink(missing_ok=True)


def url_of(state: SandboxState, role: str) -> str:
    """The base URL of ``role`` (supervisor, proxy, prometheus) in ``state``."""
    record = state["processes"].get(role)
    if record is None or record["url"] is None:
        raise errors.PlatformError(
            f"The sandbox in {state['dir']} has no {role} (it may still be starting, or "
            "its start failed). Run `gameday sandbox status`."
        )
    return record["url"]
