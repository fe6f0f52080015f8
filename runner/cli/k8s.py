"""``gameday k8s``: commands for running gameday inside a Kubernetes cluster.

``gameday k8s manifests FILE`` validates the experiment (exit 2 with every problem if it
is invalid) and prints the YAML of a ServiceAccount, least-privilege Roles and
RoleBindings, a ConfigMap holding the file, a journal volume and a Job (``generateName``:
``kubectl create`` makes a new run each time), or a CronJob with ``--schedule`` and
``--timezone``. Prometheus credentials are wired from a Secret (``${VARS}`` as
``secretKeyRef``, credential files as mounted keys); their values are never needed here
nor printed. It reads the file only: no cluster is contacted and the kubernetes client is
not imported, so it works on a laptop without a kubeconfig.
"""

from __future__ import annotations

import os
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
@click.option("--image", default=None, metavar="IMG",
              help="Container image with gameday installed (see the Dockerfile; default: "
                   "gameday-runner:0.1.0).")
@click.option("--schedule", metavar="CRON",
              help="Emit a CronJob with this schedule (e.g. '0 10 * * 2') instead of a Job.")
@click.option("--timezone", default="Etc/UTC", show_default=True, metavar="TZ",
              help="The CronJob's time zone (IANA name, e.g. Europe/Berlin).")
@click.option("--namespace", metavar="NS",
              help="Namespace the runner lives in (default: the experiment's target namespace).")
@click.option("--journal", "journal", type=click.Choice(["pvc", "emptydir"]), default="pvc",
              show_default=True, help="Where the journal and reports are kept.")
@click.option("--journal-size", default="1Gi", show_default=True,
              help="Size of the journal PersistentVolumeClaim.")
@click.option("--secret", default=None, metavar="NAME",
              help="Secret holding the Prometheus credentials (default: <name>-prometheus).")
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=None, metavar="PORT",
              help="Serve gameday's own metrics on this container port (annotated for scraping).")
@click.option("--job-only", is_flag=True,
              help="Only the Job, for each further run: ... | kubectl create -f -")
@click.option("--reader", is_flag=True,
              help="Only a Pod that mounts the journal volume, to kubectl cp journals out.")
@click.option("--guard", "guard", is_flag=True,
              help="Only the guard Deployment (dead man's switch) watching FILE's namespaces.")
@click.option("--guard-scale", is_flag=True,
              help="Let the guard patch Deployments (to restore a Chaos Toolkit scale).")
def manifests(file: Path, image: str | None, schedule: str | None, timezone: str,
              namespace: str | None, journal: str, journal_size: str, secret: str | None,
              metrics_port: int | None, job_only: bool, reader: bool, guard: bool,
              guard_scale: bool) -> None:
    """Print the manifests that run FILE as a Kubernetes Job or CronJob.

    FILE may be a game day (``kind: gameday``): one CronJob/Job runs the whole day."""
    from runner.adapters.k8s import manifests as builder
    from runner.day import loader as day_loader
    from runner.model import document, loader

    if day_loader.is_day(file):
        from runner.cli import day_k8s

        day_k8s.manifests(file, image=image, schedule=schedule, timezone=timezone,
                          namespace=namespace, journal=journal, journal_size=journal_size,
                          secret=secret, dumper=_Dumper)
        return

    try:
        text = loader.read_bytes(file).decode("utf-8")
        # ${VARS} are resolved in the pod, from the Secret: not demanded here.
        referenced = document.expand(text, {})[1]
        placeholders = {name: "resolved-in-the-pod" for name in referenced}
        experiment = loader.load(file, environ={**os.environ, **placeholders})
    except (errors.GamedayError, UnicodeDecodeError) as exc:
        message = exc.message if isinstance(exc, errors.GamedayError) else (
            f"{file} is not UTF-8 text; save it as UTF-8.")
        click.echo(message, err=True)
        sys.exit(int(errors.ExitCode.INVALID))
    problems = []
    if schedule is not None and not builder.valid_schedule(schedule):
        problems.append(f"--schedule {schedule!r} is not a cron schedule (five fields, e.g. "
                        "'0 10 * * 2', or @daily/@weekly/...).")
    if not builder.valid_timezone(timezone):
        problems.append(f"--timezone {timezone!r} is not an IANA time zone (e.g. Etc/UTC, "
                        "Europe/Berlin).")
    if reader and journal != "pvc":
        problems.append("--reader needs the journal on the PVC (--journal pvc).")
    if problems:
        click.echo("\n".join(problems), err=True)
        sys.exit(int(errors.ExitCode.INVALID))
    volume: builder.JournalVolume = "emptydir" if journal == "emptydir" else "pvc"
    settings = builder.Settings(namespace=namespace, image=image or builder.DEFAULT_IMAGE,
                                schedule=schedule, timezone=timezone, journal=volume,
                                journal_size=journal_size, secret=secret,
                                metrics_port=metrics_port)
    if guard:
        from runner.adapters.k8s.manifests import guard as guard_builder

        documents = guard_builder.build(experiment, home=builder.home_of(experiment, settings),
                                        image=settings.image, scale=guard_scale)
    elif reader:
        documents = [builder.reader(experiment, file, settings)]
    else:
        for note in builder.warnings(experiment, file, text, settings):
            click.echo(f"warning: {note}", err=True)
        documents = builder.build(experiment, file, text, settings)
        if job_only:
            documents = documents[-1:]
    click.echo(yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                             default_flow_style=False),
               nl=False)
