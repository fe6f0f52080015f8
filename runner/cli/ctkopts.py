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


def plan_section(exp: model.Experiment, platform: Any) -> dict[str, Any] | None:
    """The ``chaostoolkit`` block of ``gameday.plan/v1`` (None for a native experiment)."""
    if exp.method is None or exp.ctk is None:
        return None
    from runner.adapters.ctk import sentinel

    method = exp.method
    return {
        "hypothesis": {"title": exp.ctk.hypothesis_title,
                       "probes": [str(p.get("name")) for p in exp.ctk.hypothesis],
                       "strategy": method.hypothesis_strategy or "gameday",
                       "frequency_seconds": method.hypothesis_frequency
                       or sentinel.DEFAULT_FREQUENCY},
        "method": [{"index": s.index, "kind": s.kind, "name": s.name,
                    "background": s.background, "pause_before": s.pause_before,
                    "pause_after": s.pause_after, "tolerance": s.checked}
                   for s in method.steps],
        "rollbacks": [str(r.get("name")) for r in method.rollbacks],
        "rollback_strategy": method.rollback_strategy or "always",
        "lock_keys": list(platform.lock_keys([])) if hasattr(platform, "lock_keys") else [],
        "controls": [module for _name, module in exp.ctk.controls],
    }


def render_plan(section: dict[str, Any] | None) -> None:
    """The plan's Chaos Toolkit block, for people."""
    if section is None:
        return
    hypo = section["hypothesis"]
    click.echo(f"hypothesis: {hypo['title'] or '-'} ({len(hypo['probes'])} probe(s); "
               f"strategy {hypo['strategy']}, every {hypo['frequency_seconds']:g} s during "
               "the method)")
    for step in section["method"]:
        extra = [k for k in ("background",) if step[k]]
        extra += [f"pause {w} {step['pause_' + w]}" for w in ("before", "after")
                  if step["pause_" + w] is not None]
        extra += ["tolerance enforced"] if step["tolerance"] else []
        click.echo(f"  method #{step['index']} {step['kind']} {step['name']}"
                   + (f" ({', '.join(extra)})" if extra else ""))
    click.echo(f"rollbacks ({section['rollback_strategy']}): "
               f"{', '.join(section['rollbacks']) or 'none'}")
    click.echo(f"lock: {', '.join(section['lock_keys'])}")
