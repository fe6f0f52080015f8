"""``gameday plan``: a dry run that shows targets, blast radius and queries, touching nothing.

It runs the same preflight checks as a run (Prometheus answers every query, the platform
answers, the selection fits the blast radius) and the same seeded target choice, then
prints what a run would do. No fault is injected and no journal is written.
"""

from __future__ import annotations

import math

import click

from runner import errors, ports
from runner.cli import compose
from runner.model import experiment as model


def _probe_line(probe: model.Probe, tick: float) -> str:
    if isinstance(probe, model.RatioProbe):
        slo = f"<= {probe.max:.4g}" if probe.max is not None else "vs the baseline"
        return (f"ratio {probe.name!r} {slo}: errors Δ{probe.errors} / total Δ{probe.total} "
                f"per {tick:g} s tick, test mode {probe.mode}")
    if isinstance(probe, model.LatencyProbe):
        return (f"latency {probe.name!r}: P(latency > {probe.max * 1000:g} ms) <= "
                f"{1 - probe.quantile:.4g} from {probe.histogram}_bucket{probe.match}")
    if isinstance(probe, model.GaugeProbe):
        return (f"guardrail {probe.name!r}: {probe.query} within [{probe.min}, {probe.max}] "
                f"(fires after {probe.for_ticks} tick(s))")
    return (f"guardrail {probe.name!r}: ready replicas of {probe.kind} {probe.workload} >= "
            f"{probe.min} (fires after {probe.for_ticks} tick(s))")


def show(exp: model.Experiment, options: compose.Options) -> None:
    click.echo(f"experiment: {exp.title}  ({exp.source}, sha256 {exp.sha256[:12]})")
    click.echo(f"target: {exp.target.platform} namespace={exp.target.namespace or '-'} "
               f"selector={exp.target.selector or '-'}")
    br = exp.blast_radius
    click.echo(f"blast radius: max_pods={br.max_pods} max_fraction={br.max_fraction} "
               f"namespaces={list(br.namespaces) or '-'}")
    steady = exp.steady_state
    click.echo(f"steady state: alpha={steady.alpha} baseline={steady.baseline:g} s "
               f"tick={exp.prometheus.tick:g} s window={exp.duration:g} s")
    for probe in exp.steady_state.probes:
        click.echo("  - " + _probe_line(probe, exp.prometheus.tick))
    metrics = compose.build_metrics(exp, options)
    platform = compose.build_platform(exp, options)
    prom = [p for p in exp.steady_state.probes if not isinstance(p, model.ReadyReplicasProbe)]
    problems = (metrics.preflight(prom) if prom else []) + platform.preflight(exp)
    if exp.abort.alerts:
        problems += metrics.preflight_alerts(exp.abort.alerts)
    for warning in metrics.warnings(prom) if prom and not problems else []:
        click.echo(f"warning: {warning}")
    if problems:
        raise errors.PreflightRefused(
            "A run would be refused before any fault: " + "; ".join(problems)
        )
    seed = exp.seed if exp.seed is not None else 0
    click.echo(f"faults (seed {seed}; a run journals the seed it uses):")
    for fault in platform.plan(exp, "plan", seed):
        targets = ", ".join(fault.targets) or "-"
        click.echo(f"  #{fault.index} {fault.name} [{fault.kind}] targets: {targets}")
        if fault.description:
            click.echo(f"      {fault.description}")
        click.echo(f"      revert: {'yes' if fault.revert else 'none declared'}")
    _power_check(exp, metrics)
    click.echo("preflight: ok (nothing was touched)")


def _power_check(exp: model.Experiment, metrics: ports.MetricsSource) -> None:
    """How fast the default test could abort on the smallest violation worth catching,
    with today's traffic; the baseline of a run refines it (and checks fast mode)."""
    from runner.stats import power

    steady = exp.steady_state
    tick = exp.prometheus.tick
    window = max(1, math.ceil(exp.duration / tick))
    for probe in steady.stat_probes:
        p0 = probe.max if isinstance(probe, model.RatioProbe) else 1.0 - probe.quantile
        rate = metrics.traffic(probe)
        if p0 is None or rate is None:
            why = "compared with the baseline" if p0 is None else "no traffic figure"
            click.echo(f"power check: {probe.name!r}: decided at the baseline ({why})")
            continue
        ticks = power.earliest_abort_ticks("default", rate * tick, p0,
                                           psi=steady.min_effect, alpha=steady.alpha)
        head = (f"power check: {probe.name!r}: ~{rate * tick:.0f} events per tick now; a "
                f"sustained {steady.min_effect:g}× p0 would abort after ")
        if ticks is None:
            click.echo(head + f"no tick of the {window}-tick window. WARNING: too weak.")
        else:
            weak = " WARNING: more than half the window." if ticks > window / 2 else ""
            click.echo(head + f"~{ticks} tick(s) of the {window}-tick window.{weak}")
