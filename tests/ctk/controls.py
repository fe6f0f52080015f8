"""A Chaos Toolkit control for the tests: it records every hook chaoslib calls, in order.

The record goes to ``$CTK_WORKDIR/controls.log`` (one hook name per line), so a test can
compare what ``chaos run`` and ``gameday run`` called.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def _note(name: str, context: Any = None) -> None:
    label = context.get("name") if isinstance(context, dict) and context.get("name") else ""
    line = f"{name} {label}".strip()
    with open(Path(os.environ["CTK_WORKDIR"]) / "controls.log", "a", encoding="utf-8") as out:
        out.write(line + "\n")


def configure_control(**_kwargs: Any) -> None:
    _note("configure_control")


def before_experiment_control(context: Any, **_kwargs: Any) -> None:
    _note("before_experiment_control")


def after_experiment_control(context: Any, **_kwargs: Any) -> None:
    _note("after_experiment_control")


def before_method_control(context: Any, **_kwargs: Any) -> None:
    _note("before_method_control")


def after_method_control(context: Any, **_kwargs: Any) -> None:
    _note("after_method_control")


def before_rollback_control(context: Any, **_kwargs: Any) -> None:
    _note("before_rollback_control")


def after_rollback_control(context: Any, **_kwargs: Any) -> None:
    _note("after_rollback_control")


def before_activity_control(context: Any, **_kwargs: Any) -> None:
    _note("before_activity_control", context)


def after_activity_control(context: Any, **_kwargs: Any) -> None:
    _note("after_activity_control", context)


def cleanup_control() -> None:
    _note("cleanup_control")
