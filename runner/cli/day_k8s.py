"""``gameday k8s manifests DAY.yaml``: the manifests of a whole day (``runner.day.manifests``).

Reached through a small hook in ``runner/cli/k8s.py`` when FILE is a game day. Like the
experiment's command it reads files only: no cluster is contacted. ``${VARS}`` of
Prometheus credentials are resolved in the pod (from the Secret), so they are not
demanded here; a bad day file is exit 2 with every problem.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import yaml

from runner import errors
from runner.adapters.k8s import manifests as parts
from runner.day import loader as day_loader
from runner.day import manifests as day_manifests
from runner.model import document
from runner.model import loader as exp_loader


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(int(errors.ExitCode.INVALID))


def manifests(file: Path, *, image: str | None, schedule: str | None, timezone: str,
              namespace: str | None, journal: str, journal_size: str, secret: str | None,
              dumper: type[yaml.SafeDumper]) -> None:
    try:
        text = exp_loader.read_bytes(file).decode("utf-8")
        day = day_loader.load(file, environ={**os.environ, **_every_variable(file)})
    except errors.GamedayError as exc:
        _fail(exc.message)
        return
    except UnicodeDecodeError:
        _fail(f"{file} is not UTF-8 text; save it as UTF-8.")
        return
    if schedule is not None and not parts.valid_schedule(schedule):
        _fail(f"--schedule {schedule!r} is not a cron schedule (five fields, e.g. "
              "'0 14 * * 2,3', or @daily/@weekly/...).")
    if not parts.valid_timezone(timezone):
        _fail(f"--timezone {timezone!r} is not an IANA time zone (e.g. Europe/Berlin).")
    ctx = click.get_current_context()
    explicit = ctx.get_parameter_source("timezone") != click.core.ParameterSource.DEFAULT
    settings = parts.Settings(
        namespace=namespace, image=image or parts.DEFAULT_IMAGE, schedule=schedule,
        timezone=day_manifests.timezone_for(day, timezone, explicit),
        journal="emptydir" if journal == "emptydir" else "pvc", journal_size=journal_size,
        secret=secret)
    try:
        documents = day_manifests.build(day, text, settings)
    except errors.GamedayError as exc:
        _fail(exc.message)
        return
    for note in day_manifests.warnings(day, settings):
        click.echo(f"warning: {note}", err=True)
    click.echo(yaml.dump_all(documents, Dumper=dumper, sort_keys=False, allow_unicode=True,
                             default_flow_style=False), nl=False)


def _every_variable(file: Path) -> dict[str, str]:
    """Placeholders for every ``${VAR}`` in the files beside the day (the experiments it
    names live there or below): resolved in the pod, from the Secret."""
    found: dict[str, str] = {}
    folder = file.parent
    for path in [file, *folder.rglob("*.yaml"), *folder.rglob("*.yml")][:500]:
        try:
            names = document.expand(path.read_text(encoding="utf-8"), {})[1]
        except (OSError, UnicodeDecodeError):
            continue
        found.update({name: "resolved-in-the-pod" for name in names})
    return found
