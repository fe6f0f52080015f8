"""``gameday plan``: a dry run that shows targets, blast radius and queries, touching nothing.

It runs the same preflight checks as a run (Prometheus answers every query, the platform
answers, the selection fits the blast radius) and the same seeded target choice, then
says what a run would do. No fault is injected and no journal is written.

Decision: the plan is computed once as a ``gameday.plan/v1`` document (docs/JSON.md) and
then either printed as JSON (``--json``) or rendered for people from that same document,
so the two outputs cannot disagree.
"""

from __future__ import annotations

import json
import math
from typing import Any

import click

from runner import errors, ports
from runner.cli import compose
from runner.model import experiment as model

SCHEMA = "gameday.plan/v1"


def _probe(probe: model.Probe, tick: float) -> dict[str, Any]:
    if isinstance(probe, model.RatioProbe):
        return {"name": probe.name, "kind": "ratio", "errors": probe.errors,
                "total": probe.total, "max": probe.max, "mode": probe.mode,
                "text": f"ratio {probe.name!r} "
                        + (f"<= {probe.max:.4g}" if probe.max is not None else "vs the baseline")
                        + f": errors Δ{probe.errors} / total Δ{probe.total} per {tick:g} s "
                        f"tick, test mode {probe.mode}"}
    if isinstance(probe, model.LatencyProbe):
        return {"name": probe.name, "kind": "latency", "histogram": probe.histogram,
                "match": probe.match, "quantile": probe.quantile, "max_seconds": probe.max,
                "mode": probe.mode,
                "text": f"latency {probe.name!r}: P(latency > {probe.max * 1000:g} ms) <= "
                        f"{1 - probe.quantile:.4g} from {probe.histogram}_bucket{probe.match}"}
    if isinstance(probe, model.GaugeProbe):
        bounds = _bounds(probe.min, probe.max)
        return {"name": probe.name, "kind": "gauge", "query": probe.query, "min": probe.min,
                "max": probe.max, "for_ticks": probe.for_ticks,
                "text": f"guardrail {probe.name!r}: {probe.query} {bounds} "
                        f"(fires after {probe.for_ticks} tick(s))"}
    return {"name": probe.name, "kind": "ready-replicas", "workload": probe.workload,
            "workload_kind": probe.kind, "min": probe.min, "for_ticks": probe.for_ticks,
            "text": f"guardrail {probe.name!r}: ready replicas of {probe.kind} "
                    f"{probe.workload} >= {probe.min} (fires after {probe.for_ticks} tick(s))"}


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"within [{low:g}, {high:g}]"
    return f">= {low:g}" if low is not None else f"<= {high:g}"


def build(exp: model.Experiment, options: compose.Options) -> dict[str, Any]:
    """The ``gameday.plan/v1`` document; ``ok`` False when a run would be refused."""
    steady = exp.steady_state
    tick = exp.prometheus.tick
    br = exp.blast_radius
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "experiment": {"title": exp.title, "source": exp.source, "sha256": exp.sha256},
        "target": {"platform": exp.target.platform, "namespace": exp.target.namespace,
                   "selector": exp.target.selector},
        "blast_radius": {"max_pods": br.max_pods, "max_fraction": br.max_fraction,
                         "namespaces": list(br.namespaces)},
        "steady_state": {"alpha": steady.alpha, "baseline_seconds": steady.baseline,
                         "tick_seconds": tick, "window_seconds": exp.duration,
                         "probes": [_probe(p, tick) for p in steady.probes]},
        "ok": True, "problems": [], "warnings": [], "seed": None, "faults": [], "power": [],
    }
    metrics = compose.build_metrics(exp, options)
    platform = compose.build_platform(exp, options)
    prom = [p for p in steady.probes if not isinstance(p, model.ReadyReplicasProbe)]
    problems = (metrics.preflight(prom) if prom else []) + platform.preflight(exp)
    if exp.abort.alerts:
        problems += metrics.preflight_alerts(exp.abort.alerts)
    doc["warnings"] = list(metrics.warnings(prom)) if prom and not problems else []
    if problems:
        doc.update(ok=False, problems=list(problems))
        return doc
    seed = exp.seed if exp.seed is not None else 0
    doc["seed"] = seed
    doc["faults"] = [
        {"index": f.index, "name": f.name, "kind": f.kind, "targets": list(f.targets),
         "description": f.description, "revert": f.revert is not None}
        for f in platform.plan(exp, "plan", seed)
    ]
    doc["power"] = _power(exp, metrics)
    from runner.cli import ctkopts

    if (section := ctkopts.plan_section(exp, platform)) is not None:
        doc["chaostoolkit"] = section  # a Chaos Toolkit file: method, rollbacks, strategies
    return doc


def _power(exp: model.Experiment, metrics: ports.MetricsSource) -> list[dict[str, Any]]:
    """How fast the default test could abort on the smallest violation worth catching,
    with today's traffic; the baseline of a run refines it (and checks fast mode)."""
    from runner.stats import power

    steady = exp.steady_state
    tick = exp.prometheus.tick
    window = max(1, math.ceil(exp.duration / tick))
    out: list[dict[str, Any]] = []
    for probe in steady.stat_probes:
        p0 = probe.max if isinstance(probe, model.RatioProbe) else 1.0 - probe.quantile
        rate = metrics.traffic(probe)
        row: dict[str, Any] = {"probe": probe.name, "window_ticks": window,
                               "min_effect": steady.min_effect, "events_per_tick": None,
                               "earliest_abort_ticks": None, "weak": None, "decided_at": None}
        if p0 is None or rate is None:
            row["decided_at"] = "baseline"
            row["why"] = "compared with the baseline" if p0 is None else "no traffic figure"
        else:
            ticks = power.earliest_abort_ticks("default", rate * tick, p0,
                                               psi=steady.min_effect, alpha=steady.alpha)
            row.update(events_per_tick=rate * tick, earliest_abort_ticks=ticks,
                       weak=ticks is None or ticks > window / 2)
        out.append(row)
    return out


def show(exp: model.Experiment, options: compose.Options, *, as_json: bool = False) -> None:
    """Print the plan (text or JSON); a plan a run would refuse is exit 3 either way."""
    doc = build(exp, options)
    lines = _history(exp, options, doc)
    if as_json:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        if not doc["ok"]:
            raise SystemExit(int(errors.ExitCode.REFUSED))
        return
    _render(doc)
    for line in lines:
        click.echo(line)
    if not doc["ok"]:
        raise errors.PreflightRefused(
            "A run would be refused before any fault: " + "; ".join(doc["problems"])
        )


def _history(exp: model.Experiment, options: compose.Options, doc: dict[str, Any]
             ) -> list[str]:
    """``steady_state.history``: replay it (only when asked: plan stays fast otherwise)."""
    if not doc["ok"] or exp.steady_state.history is None:
        return []
    from runner.cli import replay as replay_cli

    try:
        found = replay_cli.preflight(exp, options)
    except errors.RefusedError as exc:
        doc["ok"] = False
        doc["problems"].append(exc.message)
        return []
    doc["history"] = None if found.calibration is None else found.calibration.to_dict()
    return list(found.lines)


def _render(doc: dict[str, Any]) -> None:
    exp, target, br, steady = (doc["experiment"], doc["target"], doc["blast_radius"],
                               doc["steady_state"])
    click.echo(f"experiment: {exp['title']}  ({exp['source']}, sha256 {exp['sha256'][:12]})")
    click.echo(f"target: {target['platform']} namespace={target['namespace'] or '-'} "
               f"selector={target['selector'] or '-'}")
    fraction = "-" if br["max_fraction"] is None else f"{br['max_fraction']:g}"
    click.echo(f"blast radius: max_pods={'-' if br['max_pods'] is None else br['max_pods']} "
               f"max_fraction={fraction} namespaces={', '.join(br['namespaces']) or '-'}")
    click.echo(f"steady state: alpha={steady['alpha']:g} baseline={steady['baseline_seconds']:g}"
               f" s tick={steady['tick_seconds']:g} s window={steady['window_seconds']:g} s")
    for probe in steady["probes"]:
        click.echo("  - " + probe["text"])
    for warning in doc["warnings"]:
        click.echo(f"warning: {warning}")
    if not doc["ok"]:
        return
    click.echo(f"faults (seed {doc['seed']}; a run journals the seed it uses):")
    for fault in doc["faults"]:
        click.echo(f"  #{fault['index']} {fault['name']} [{fault['kind']}] targets: "
                   f"{', '.join(fault['targets']) or '-'}")
        if fault["description"]:
            click.echo(f"      {fault['description']}")
        click.echo(f"      revert: {'yes' if fault['revert'] else 'none declared'}")
    for row in doc["power"]:
        head = f"power check: {row['probe']!r}: "
        if row["decided_at"] == "baseline":
            click.echo(head + f"decided at the baseline ({row['why']})")
            continue
        head += (f"~{row['events_per_tick']:.0f} events per tick now; a sustained "
                 f"{row['min_effect']:g}× p0 would abort after ")
        ticks, window = row["earliest_abort_ticks"], row["window_ticks"]
        if ticks is None:
            click.echo(head + f"no tick of the {window}-tick window. WARNING: too weak.")
        else:
            weak = " WARNING: more than half the window." if row["weak"] else ""
            click.echo(head + f"~{ticks} tick(s) of the {window}-tick window.{weak}")
    from runner.cli import ctkopts

    ctkopts.render_plan(doc.get("chaostoolkit"))
    click.echo("preflight: ok (nothing was touched)")
