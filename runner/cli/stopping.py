"""``gameday stop [--clear]``: the emergency stop, on this machine and in a cluster.

Without options it engages the stop file under ``$GAMEDAY_HOME`` (``adapters.stop``): every
live run and day of this machine reverts within a tick and new ones refuse until
``--clear``. With ``--namespace`` (repeatable) it also creates the ``gameday-stop``
ConfigMap kill switch in each namespace, which runs inside the cluster obey the same way
(``adapters.stop_k8s``). It names the live runs it found (from the run records of
``adapters.locks``) and, with ``--wait``, waits until each has finished its reverts, so
the person who pressed the button learns when it is safe.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import click

from runner import errors
from runner.adapters import locks, stop
from runner.errors import ExitCode


def live_runs() -> list[locks.RunRecord]:
    """Runs on this machine whose record says live and whose process is alive."""
    return [r for r in locks.read_records()
            if r.get("state") == "live" and locks.pid_alive(int(r.get("pid", 0)))]


def wait_finished(run_ids: Sequence[str], timeout: float) -> list[str]:
    """Poll the run records until every run in ``run_ids`` finished; the ones still live."""
    deadline = time.monotonic() + timeout
    pending = list(run_ids)
    while pending and time.monotonic() < deadline:
        alive = {r["run_id"] for r in live_runs()}
        pending = [run_id for run_id in pending if run_id in alive]
        if pending:
            time.sleep(0.1)
    return pending


@click.command("stop")
@click.option("--clear", is_flag=True, help="Lift the emergency stop.")
@click.option("--reason", default="", help="Why (journaled by every run it stops).")
@click.option("--namespace", "namespaces", multiple=True, metavar="NS",
              help="Also create (or with --clear delete) the gameday-stop ConfigMap in NS.")
@click.option("--kubeconfig", default=None, help="Kubeconfig file (default: as kubectl).")
@click.option("--context", default=None, help="Kube context to use.")
@click.option("--wait", "wait_seconds", type=click.FloatRange(0, 3600), default=0.0,
              help="Wait up to this many seconds for the live runs to finish reverting.")
def stop_command(clear: bool, reason: str, namespaces: tuple[str, ...], kubeconfig: str | None,
                 context: str | None, wait_seconds: float) -> None:
    """Emergency stop: every live run reverts within a tick; new runs refuse (exit 3)."""
    if clear:
        lifted = stop.clear()
        click.echo(f"emergency stop lifted ({stop.describe(lifted)})" if lifted
                   else "no emergency stop was in force on this machine")
        _cluster(namespaces, kubeconfig, context, clear=True, reason=reason)
        return
    record, new = stop.engage(reason)
    click.echo(("emergency stop engaged: " if new else "emergency stop already in force: ")
               + stop.describe(record) + f" ({stop.stop_path()})")
    _cluster(namespaces, kubeconfig, context, clear=False, reason=reason)
    running = live_runs()
    for r in running:
        click.echo(f"  stopping run {r['run_id']} (pid {r['pid']}, phase {r['phase']}, "
                   f"journal {r['journal']})")
    if not running:
        click.echo("  no live run on this machine; new runs and days refuse until "
                   "`gameday stop --clear`")
    if wait_seconds and running:
        left = wait_finished([r["run_id"] for r in running], wait_seconds)
        if left:
            click.echo(f"still live after {wait_seconds:g} s: {', '.join(left)}; check them "
                       "with `gameday journal show`", err=True)
            raise SystemExit(int(ExitCode.RUNNER_ERROR))
        click.echo("every stopped run has finished (see each journal's verdict)")


def _cluster(namespaces: Sequence[str], kubeconfig: str | None, context: str | None, *,
             clear: bool, reason: str) -> None:
    if not namespaces:
        return
    from runner.adapters import stop_k8s

    for ns in namespaces:
        try:
            if clear:
                gone = stop_k8s.lift(ns, kubeconfig=kubeconfig, context=context)
                click.echo(f"kill switch {ns}/{stop_k8s.NAME} "
                           + ("deleted" if gone else "was not there"))
            else:
                made = stop_k8s.engage(ns, reason, by=stop.who(), kubeconfig=kubeconfig,
                                       context=context)
                click.echo(f"kill switch {ns}/{stop_k8s.NAME} "
                           + ("created" if made else "already present"))
        except errors.PlatformError as exc:
            raise errors.RunnerError(
                f"The kill switch in namespace {ns} could not be "
                f"{'deleted' if clear else 'created'}: {exc.message}") from exc
