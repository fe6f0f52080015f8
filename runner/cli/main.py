"""The ``gameday`` command line: parse, build the real parts, map errors to exit codes.

This is the composition root. Every ``errors.GamedayError`` becomes its one-paragraph
message on stderr and its exit code (DESIGN.md §5); nothing else reaches the user as a
traceback unless GAMEDAY_DEBUG=1.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from runner import __version__, errors
from runner.cli import compose, ctkopts
from runner.errors import ExitCode

EXPERIMENTS_DIR = Path(__file__).resolve().parents[2] / "experiments"


def _options(sandbox: Path | None, kubeconfig: str | None = None, context: str | None = None,
             allow_production: bool = False, sweep: bool = False,
             lease: float | None = None) -> compose.Options:
    return compose.Options(sandbox_dir=sandbox, kubeconfig=kubeconfig, context=context,
                           allow_production=allow_production, sweep_leftovers=sweep,
                           lease_seconds=lease)


def _lease(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    from runner.model import durations

    try:
        seconds = durations.parse_duration(value, field="--lease")
    except errors.InputError as exc:
        raise click.BadParameter(exc.message) from exc
    if seconds < 1.0:
        raise click.BadParameter(f"{value!r} is under 1 s; a lease must outlive a renewal.")
    return seconds


#: The commands defined in other modules, imported only when one of them is resolved
#: (run, listed in --help, completed): ``gameday plan`` and ``validate`` load none of them.
LAZY_COMMANDS = {
    "day": "runner.cli.day:day",
    "guard": "runner.cli.guard:guard",
    "journal": "runner.cli.journals:journal",
    "k8s": "runner.cli.k8s:k8s",
    "replay": "runner.cli.replay:replay",
    "report": "runner.cli.journals:report",
    "revert": "runner.cli.journals:revert",
    "stop": "runner.cli.stopping:stop_command",
}
OPTIONAL_COMMANDS = {"k8s"}  # the Kubernetes commands are optional at import time


class LazyGroup(click.Group):
    """A group whose ``LAZY_COMMANDS`` are imported on first use (click's documented
    "lazily loading subcommands" pattern). An optional command whose module cannot be
    imported (``k8s`` without its libraries) is left out, as if never added."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, _, attr = LAZY_COMMANDS[cmd_name].partition(":")
            try:
                command = getattr(importlib.import_module(module), attr)
            except ImportError:
                if cmd_name not in OPTIONAL_COMMANDS:
                    raise
                return None
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


sandbox_option = click.option(
    "--sandbox", "sandbox", type=click.Path(path_type=Path), default=None,
    help="Local sandbox state directory (default: $GAMEDAY_SANDBOX or ./.gameday/sandbox).")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gameday")
def cli() -> None:
    """gameday: game days with sequential steady-state tests that always revert.

    Exit codes: 0 steady state held; 1 steady state broken (aborted or not recovered);
    2 invalid input; 3 refused before any fault; 4 runner error or interrupted, all
    faults reverted; 5 a revert failed: a human must act now.
    """


json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON document (schema in docs/JSON.md).")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
def validate(files: tuple[Path, ...], as_json: bool) -> None:
    """Check experiment files; report every problem at once; run nothing."""
    from runner.cli import validating

    raise SystemExit(validating.validate_files(list(files), as_json=as_json))


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@sandbox_option
@click.option("--kubeconfig", default=None, help="Kubeconfig file (default: as kubectl).")
@click.option("--context", default=None, help="Kube context to use.")
@click.option("--allow-production", is_flag=True, help="Allow a production-looking context.")
@json_option
@ctkopts.options
def plan(file: Path, sandbox: Path | None, kubeconfig: str | None, context: str | None,
         allow_production: bool, as_json: bool, **ctk: Any) -> None:
    """Dry run: targets, blast radius, queries; touches nothing."""
    from runner.cli import planning
    from runner.model import loader

    exp, opts = ctkopts.apply(loader.load(file),
                              _options(sandbox, kubeconfig, context, allow_production), ctk)
    planning.show(exp, opts, as_json=as_json)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@sandbox_option
@click.option("--journal-dir", type=click.Path(path_type=Path), default=None,
              help="Where runs write reports/<run-id>/ (default: ./reports or $GAMEDAY_REPORTS).")
@click.option("--seed", type=int, default=None, help="Seed for target choice (journaled).")
@click.option("--kubeconfig", default=None, help="Kubeconfig file (default: as kubectl).")
@click.option("--context", default=None, help="Kube context to use.")
@click.option("--allow-production", is_flag=True,
              help="Allow a production-looking context (the experiment must allow it too).")
@click.option("--sweep-leftovers", is_flag=True,
              help="Remove gameday faults left by earlier runs before starting.")
@click.option("--dry", is_flag=True,
              help="Preflight, baseline and the watch on live metrics, injecting nothing.")
@click.option("--journal-key-file", type=click.Path(path_type=Path), default=None,
              help="Key for an HMAC-SHA256 journal chain (default: $GAMEDAY_JOURNAL_KEY).")
@ctkopts.options
@click.option("--metrics-port", metavar="[HOST:]PORT", default=None,
              help="Serve gameday's own metrics on /metrics (PORT alone: on 127.0.0.1).")
@click.option("--pushgateway", metavar="URL", default=None,
              help="Push gameday's own metrics to this Prometheus Pushgateway.")
@click.option("--metrics-textfile", type=click.Path(path_type=Path), default=None,
              help="Write gameday's own metrics to this .prom file (node_exporter textfile).")
@click.option("--lease", default=None, callback=_lease, metavar="DURATION",
              help="How long the run's lease lasts unrenewed (default: 3 ticks, at least 5s).")
@click.option("--guard", "with_guard", is_flag=True,
              help="Start a detached guard that reverts this run's faults if it dies.")
def run(file: Path, sandbox: Path | None, journal_dir: Path | None, seed: int | None,
        kubeconfig: str | None, context: str | None, allow_production: bool,
        sweep_leftovers: bool, dry: bool, journal_key_file: Path | None,
        metrics_port: str | None, pushgateway: str | None,
        metrics_textfile: Path | None, lease: float | None, with_guard: bool,
        **ctk: Any) -> None:
    """Run an experiment: preflight, baseline, inject, watch, revert, recovery, verdict."""
    from runner.cli import live, runs
    from runner.journal import keys as journal_keys
    from runner.model import loader

    exp, opts = ctkopts.apply(
        loader.load(file), _options(sandbox, kubeconfig, context, allow_production,
                                    sweep_leftovers, lease), ctk)
    with runs.open_sink(metrics_port, pushgateway, metrics_textfile) as sink:
        finished = runs.execute(
            exp, opts,
            journal_dir=journal_dir or compose.reports_root(), sink=sink, seed=seed,
            dry=dry, journal_key=journal_keys.load(journal_key_file), guard=with_guard,
            journal_key_file=journal_key_file,
        )
    click.echo(live.wrapped(f"verdict: {finished.outcome.verdict} - {finished.outcome.reason}"))
    click.echo(f"journal: {finished.journal}")
    for path in finished.reports:
        click.echo(f"report:  {path}")
    raise SystemExit(int(finished.outcome.exit_code))


@cli.group()
def sandbox() -> None:
    """The local sandbox on its own, for your own experiments."""


@sandbox.command("up")
@click.option("--dir", "state_dir", type=click.Path(path_type=Path), default=None)
@click.option("--replicas", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option("--rps", type=click.FloatRange(1, 2000), default=40.0, show_default=True)
def sandbox_up(state_dir: Path | None, replicas: int, rps: float) -> None:
    """Start the demo service, supervisor, proxy, traffic and Prometheus."""
    from runner.sandbox import manager
    from runner.sandbox import state as sandbox_state

    target = state_dir or manager.default_dir()
    st = manager.up(target, replicas=replicas, rps=rps)
    click.echo(f"sandbox up in {target}")
    for role in ("prometheus", "proxy", "supervisor"):
        click.echo(f"  {role + ':':<12}{sandbox_state.url_of(st, role)}")
    click.echo("stop it with: gameday sandbox down" + (f" --dir {target}" if state_dir else ""))


@sandbox.command("down")
@click.option("--dir", "state_dir", type=click.Path(path_type=Path), default=None)
def sandbox_down(state_dir: Path | None) -> None:
    """Stop every sandbox process (by PID)."""
    from runner.sandbox import manager

    manager.down(state_dir or manager.default_dir())
    click.echo("sandbox down")


@sandbox.command("status")
@click.option("--dir", "state_dir", type=click.Path(path_type=Path), default=None)
def sandbox_status(state_dir: Path | None) -> None:
    """Which sandbox processes are alive; ready replicas; active latency."""
    from runner.sandbox import manager

    st = manager.status(state_dir or manager.default_dir())
    for role, alive in st.processes.items():
        click.echo(f"  {role + ':':<12}{'alive' if alive else 'DEAD'}")
    ready = st.ready_replicas
    click.echo(f"  ready replicas: {'-' if ready is None else ready}/{len(st.state['replicas'])}")
    active = st.latency or ()
    click.echo(f"  active latency injections: {len(active)}")
    if not st.healthy:
        raise SystemExit(int(ExitCode.REFUSED))


@cli.command()
@click.option("--experiments", "experiments_dir", type=click.Path(path_type=Path),
              default=EXPERIMENTS_DIR, show_default=True)
@click.option("--journal-dir", type=click.Path(path_type=Path), default=None)
@click.option("--keep", is_flag=True, help="Leave the sandbox running afterwards.")
def demo(experiments_dir: Path, journal_dir: Path | None, keep: bool) -> None:
    """Bring the sandbox up, run the example game days, tear it all down."""
    from runner.cli import demo as demo_mod

    raise SystemExit(demo_mod.run_demo(experiments_dir, journal_dir or compose.reports_root(),
                                       keep=keep))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every error into a message and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    try:
        cli.main(args=args, prog_name="gameday", standalone_mode=False)
    except errors.GamedayError as exc:
        click.echo(f"gameday: {exc.message}", err=True)
        sys.exit(int(exc.exit_code))
    except click.exceptions.Abort:
        click.echo("gameday: interrupted.", err=True)
        sys.exit(int(ExitCode.RUNNER_ERROR))
    except click.ClickException as exc:
        exc.show()
        sys.exit(int(ExitCode.INVALID))
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("gameday: interrupted.", err=True)
        sys.exit(int(ExitCode.RUNNER_ERROR))
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("GAMEDAY_DEBUG"):
            import traceback

            traceback.print_exc()
        click.echo(f"gameday: unexpected error: {type(exc).__name__}: {exc}. This is a bug in "
                   "gameday; rerun with GAMEDAY_DEBUG=1 for a traceback and report it.", err=True)
        sys.exit(int(ExitCode.RUNNER_ERROR))
    sys.exit(0)


if __name__ == "__main__":
    main()
