"""The Chaos Toolkit options of ``gameday plan`` and ``gameday run``, as ``chaos run`` has them.

``--var key[:type]=value`` (chaoslib's own ``convert_vars``: str, int, float, bytes, bool,
json), ``--var-file`` (JSON/YAML with ``configuration`` / ``secrets``, or a ``.env``),
``--hypothesis-strategy``, ``--hypothesis-frequency`` (seconds; gameday's default is
``runner.adapters.ctk.sentinel.DEFAULT_FREQUENCY``) and ``--rollback-strategy``. They
take precedence over the file's ``runtime`` section, as on ``chaos run``; on a native
experiment they are refused (exit 2), since nothing there would honour them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import click

from runner import errors
from runner.cli import compose
from runner.model import experiment as model
from runner.model.ctk import spec

F = TypeVar("F", bound=Callable[..., Any])


def options(func: F) -> F:
    """Add the Chaos Toolkit options to a click command."""
    decorators = [
        click.option("--var", "ctk_var", multiple=True, metavar="KEY[:TYPE]=VALUE",
                     help="Chaos Toolkit: a configuration value, as on chaos run."),
        click.option("--var-file", "ctk_var_file", multiple=True,
                     type=click.Path(exists=True, dir_okay=False),
                     help="Chaos Toolkit: configuration/secrets (JSON, YAML) or a .env file."),
        click.option("--hypothesis-strategy", "ctk_hypothesis_strategy",
                     type=click.Choice([*spec.HYPOTHESIS_STRATEGIES, "continously"]),
                     default=None, help="Chaos Toolkit: when the hypothesis is checked "
                     "(default: before, during and after; see docs/CHAOSTOOLKIT.md)."),
        click.option("--hypothesis-frequency", "ctk_hypothesis_frequency",
                     type=click.FloatRange(min=0.1), default=None,
                     help="Chaos Toolkit: seconds between checks during the method "
                     "(default 1)."),
        click.option("--rollback-strategy", "ctk_rollback_strategy",
                     type=click.Choice(spec.ROLLBACK_STRATEGIES), default=None,
                     help="Chaos Toolkit: when rollbacks run (default: always)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def apply(exp: model.Experiment, opts: compose.Options, given: dict[str, Any]
          ) -> tuple[model.Experiment, compose.Options]:
    """The experiment and options with the Chaos Toolkit choices applied."""
    chosen = {k: v for k, v in given.items() if v not in (None, ())}
    if exp.method is None:
        if chosen:
            names = ", ".join("--" + k.removeprefix("ctk_").replace("_", "-") for k in chosen)
            raise errors.InputError(f"{names} apply to Chaos Toolkit experiments only; "
                                    f"{exp.source} is a native gameday experiment.")
        return exp, opts
    from chaoslib import convert_vars

    try:
        var = convert_vars(list(given.get("ctk_var") or ()))
    except ValueError as exc:
        raise errors.InputError(f"--var: {exc} (write key=value or key:type=value)") from exc
    strategy = given.get("ctk_hypothesis_strategy")
    method = dataclasses.replace(
        exp.method,
        hypothesis_strategy=("continuously" if strategy == "continously" else strategy)
        or exp.method.hypothesis_strategy,
        hypothesis_frequency=given.get("ctk_hypothesis_frequency")
        or exp.method.hypothesis_frequency,
        rollback_strategy=given.get("ctk_rollback_strategy") or exp.method.rollback_strategy,
    )
    return (dataclasses.replace(exp, method=method),
            dataclasses.replace(opts, var=tuple(var.items()),
                                var_files=tuple(given.get("ctk_var_file") or ())))
