"""``gameday k8s``: commands for running gameday inside a Kubernetes cluster.

``gameday k8s manifests FILE`` validates the experiment (exit 2 with every problem if it
is invalid) and prints the YAML of a ServiceAccount, least-privilege Roles and
RoleBindings, a ConfigMap holding the file, a journal volume and a Job, or a CronJob
with ``--schedule``. It reads the file only: no cluster is contacted and the kubernetes
client is not imported, so it works on a laptop without a kubeconfig.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml

from runner import errors


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the experiment file in the ConfigMap) as literal blocks, and
    no YAML anchors/aliases for shared values (labels): plain manifests for any tool."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _string(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _string)


@click.group("k8s")
def k8s() -> None:
    """Run experiments inside a Kubernetes cluster."""


@k8s.command("manifests")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--schedule", metavar="CRON",
              help="Emit a CronJob with this schedule (e.g. '0 10 * * 2') instead of a Job.")
@click.option("--image", default=None, metavar="IMG",
              help="Container image with gameday installed (default: gameday-runner:0.1.0).")
@click.option("--namespace", metavar="NS",
              help="Namespace the runner lives in (default: the experiment's target namespace).")
@click.option("--journal", "journal", type=click.Choice(["pvc", "emptydir"]), default="pvc",
              show_default=True, help="Where the journal and reports are kept.")
@click.option("--journal-size", default="1Gi", show_default=True,
              help="Size of the journal PersistentVolumeClaim.")
def manifests(file: Path, schedule: str | None, image: str | None, namespace: str | None,
              journal: str, journal_size: str) -> None:
    """Print the manifests that run FILE as a Kubernetes Job or CronJob."""
    from runner.adapters.k8s import manifests as builder
    from runner.model import loader

    try:
        experiment = loader.load(file)
    except errors.GamedayError as exc:
        click.echo(exc.message, err=True)
        sys.exit(int(exc.exit_code))
    if schedule is not None and not builder.valid_schedule(schedule):
        click.echo(f"--schedule {schedule!r} is not a cron schedule (five fields, e.g. "
                   "'0 10 * * 2', or @daily/@weekly/...).", err=True)
        sys.exit(int(errors.ExitCode.INVALID))
    volume: builder.JournalVolume = "emptydir" if journal == "emptydir" else "pvc"
    for note in builder.warnings(experiment, volume):
        click.echo(f"warning: {note}", err=True)
    documents = builder.build(
        experiment, file, namespace=namespace, image=image or builder.DEFAULT_IMAGE,
        schedule=schedule, journal=volume, journal_size=journal_size,
    )
    click.echo(yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                             default_flow_style=False),
               nl=False)
