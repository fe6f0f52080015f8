"""``gameday day plan FILE``: the day as it would run now, touching nothing.

For each experiment, in run order: what ``gameday plan`` says of it (targets, power,
problems), when it would start and how long it takes, whether the window would still be
open then, every gate evaluated *now* with its numbers, and its worst-case spend of the
error budget. Decision: one ``gameday.day-plan/v1`` document (docs/JSON.md) is built and
then printed as JSON or rendered for people, so the two cannot disagree. Experiments are
planned concurrently (``WORKERS`` threads: the work is waiting on Prometheus and the
platform), the error-budget readings once for all. Exit 0 when a
``day run`` now would start every experiment, 3 when something would be refused (a
closed window, a closed gate, a plan problem, an emergency stop), 2 for a bad file.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import time
from typing import Any

import click

from runner import errors
from runner.adapters import stop
from runner.cli import compose, day_compose, planning
from runner.day import calendar, gates
from runner.day import model as day_model

SCHEMA = "gameday.day-plan/v1"
WORKERS = 8


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).isoformat(timespec="seconds")


def build(day: day_model.Day, options: compose.Options, *,
          now: float | None = None) -> dict[str, Any]:
    started = time.time() if now is None else now
    assessor = day_compose.Assessor(options, cache={})
    record = stop.read()
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "day": {"title": day.title, "owner": day.owner, "source": day.source,
                "sha256": day.sha256},
        "now": _iso(started), "window": None,
        "stop": stop.describe(record) if record else None,
        "expected_seconds": day.expected_seconds, "experiments": [],
    }
    if day.window is not None:
        first = day.experiments[0].expected_seconds if day.experiments else 0.0
        answer = calendar.check(day.window, started, needs=first)
        doc["window"] = {"rule": calendar.describe(day.window), "open": answer.open,
                         "reason": answer.reason,
                         "next_open": answer.next_open.isoformat() if answer.next_open
                         else None}
    starts = []
    at = started
    for entry in day.experiments:
        starts.append(at)
        at += entry.expected_seconds
    # Each experiment's plan is a few Prometheus queries and platform reads, independent
    # of the others: a small pool plans them at once (the budget reads are shared).
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        doc["experiments"] = list(pool.map(
            lambda pair: _entry(day, pair[0], options, assessor, pair[1]),
            zip(day.experiments, starts, strict=True)))
    refused = [e for e in doc["experiments"]
               if not e["plan_ok"] or not all(g["ok"] for g in e["gates"])
               or (e["window"] is not None and not e["window"]["open"])]
    doc["ok"] = bool(not record and not refused
                     and (doc["window"] is None or doc["window"]["open"]))
    return doc


def _entry(day: day_model.Day, entry: day_model.DayExperiment, options: compose.Options,
           assessor: day_compose.Assessor, at: float) -> dict[str, Any]:
    exp = entry.experiment
    try:
        plan = planning.build(exp, options)
    except errors.GamedayError as exc:
        plan = {"ok": False, "problems": [exc.message], "faults": [], "power": [],
                "warnings": []}
    window = None
    if day.window is not None:
        answer = calendar.check(day.window, at, needs=entry.expected_seconds)
        window = {"open": answer.open, "reason": answer.reason}
    results = assessor.assess(entry, day.gates_for(entry)) if day.gates_for(entry) else []
    return {
        "id": entry.id, "title": exp.title, "source": entry.source, "sha256": exp.sha256,
        "needs": list(entry.needs), "on_broken": entry.on_broken,
        "expected_start": _iso(at), "expected_seconds": entry.expected_seconds,
        "target": {"platform": exp.target.platform, "namespace": exp.target.namespace,
                   "selector": exp.target.selector},
        "plan_ok": bool(plan["ok"]), "problems": list(plan["problems"]),
        "warnings": list(plan.get("warnings", [])),
        "faults": [{"name": f["name"], "kind": f["kind"], "targets": f["targets"]}
                   for f in plan["faults"]],
        "power": plan["power"], "window": window,
        "gates": [{"kind": r.kind, "ok": r.ok, "sentence": r.sentence,
                   "numbers": dict(r.numbers)} for r in results],
        "worst_case": _worst(entry, assessor, results),
    }


def _worst(entry: day_model.DayExperiment, assessor: day_compose.Assessor,
           results: list[gates.Result]) -> dict[str, Any] | None:
    budget = next((r for r in results if r.kind == "error-budget"
                   and "worst_case_failures" in r.numbers), None)
    if budget is not None:
        n = budget.numbers
        return {"failed_requests": n["worst_case_failures"], "seconds": n["worst_case_seconds"],
                "share_of_remaining": n["worst_case_share"], "rate": n["rate"]
                if n["rate"] is not None else None, "sentence": budget.sentence}
    found = assessor.exposures.get(entry.id)
    return None if found is None else {"failed_requests": None, "seconds": None,
                                       "share_of_remaining": None, "rate": None,
                                       "sentence": f"blast share {found.share_text}"}


def show(day: day_model.Day, options: compose.Options, *, as_json: bool) -> int:
    doc = build(day, options)
    code = 0 if doc["ok"] else int(errors.ExitCode.REFUSED)
    if as_json:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
        return code
    render(doc)
    return code


def render(doc: dict[str, Any]) -> None:
    day = doc["day"]
    click.echo(f"day: {day['title']}  ({day['source']}, sha256 {day['sha256'][:12]})")
    minutes = doc["expected_seconds"] / 60
    click.echo(f"expected duration: ~{minutes:.0f} min for {len(doc['experiments'])} "
               "experiment(s), if each holds")
    if doc["stop"]:
        click.echo(f"EMERGENCY STOP in force: {doc['stop']} - nothing would start")
    if doc["window"]:
        w = doc["window"]
        click.echo(f"window: {w['rule']}: {'open' if w['open'] else 'CLOSED'} - {w['reason']}")
    for number, e in enumerate(doc["experiments"], start=1):
        needs = f", needs {', '.join(e['needs'])}" if e["needs"] else ""
        click.echo(f"\n{number}. {e['id']}: {e['title']} ({e['source']}{needs}, "
                   f"on_broken {e['on_broken']})")
        click.echo(f"   starts ~{e['expected_start']}, takes ~{e['expected_seconds']:.0f} s; "
                   f"target {e['target']['platform']} {e['target']['selector'] or ''}".rstrip())
        for fault in e["faults"]:
            click.echo(f"   fault {fault['name']} [{fault['kind']}]: "
                       f"{', '.join(fault['targets']) or '-'}")
        for problem in e["problems"]:
            click.echo(f"   REFUSED by preflight: {problem}")
        if e["window"] is not None and not e["window"]["open"]:
            click.echo(f"   REFUSED by the window: {e['window']['reason']}")
        for gate in e["gates"]:
            click.echo(f"   gate {gate['kind']}: {'open' if gate['ok'] else 'CLOSED'} - "
                       f"{gate['sentence']}")
        if e["worst_case"] and not any(g["kind"] == "error-budget" for g in e["gates"]):
            click.echo(f"   worst case: {e['worst_case']['sentence']}")
    click.echo("\nplan: " + ("every experiment would start now (nothing was touched)"
                             if doc["ok"] else "something would be refused now (see above; "
                             "nothing was touched)"))
