"""What a Chaos Toolkit run needs beyond the engine's model, kept for the adapters.

Frozen, plain data. ``document`` is the experiment exactly as written, inline secrets
included, so it is never journaled (``Experiment.document`` is the redacted copy) and
never shown (``repr=False``); the adapters hand it to chaoslib (controls, substitution)
at run time. Everything here stays unresolved: ``${name}`` placeholders, ``env``
configuration and secrets are resolved when the run starts, as chaoslib does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

#: The Chaos Toolkit hypothesis strategies (``--hypothesis-strategy``), as chaos spells them.
HYPOTHESIS_STRATEGIES = ("default", "before-method-only", "after-method-only",
                         "during-method-only", "continuously")
#: The Chaos Toolkit rollback strategies (``--rollback-strategy``).
ROLLBACK_STRATEGIES = ("default", "always", "never", "deviated")


@dataclasses.dataclass(frozen=True)
class Spec:
    """The Chaos Toolkit parts of an experiment (see the module docstring)."""

    document: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    configuration: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    secrets: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    hypothesis_title: str | None = None
    #: The hypothesis probes as written (a ``ref`` resolved), each with its tolerance.
    hypothesis: tuple[Mapping[str, Any], ...] = ()
    #: ``(control name, module)`` of every control declared (experiment, hypothesis,
    #: activities), in file order, each module once.
    controls: tuple[tuple[str, str], ...] = ()
    #: True when the file has a ``{"name": "gameday", ...}`` entry in ``extensions``.
    gameday_extension: bool = False
    #: True when that entry names a ``target`` (then the lock claims that target).
    target_given: bool = False
