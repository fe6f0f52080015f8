"""A Chaos Toolkit journal (``chaostoolkit-journal.json``) from a gameday journal.

For the tools that read Chaos Toolkit journals (``chaos report`` of chaostoolkit-reporting,
dashboards), in the shape ``chaoslib.run`` writes: ``chaoslib-version``, ``platform``,
``node``, the full ``experiment``, ``start``/``end``/``duration``, ``status``,
``deviated``, ``steady_states.before/after/during``, ``run`` and ``rollbacks``, each
activity run with ``activity``, ``status``, ``output``, ``start``, ``end``, ``duration``
(and ``exception``, ``tolerance_met``). The gameday journal stays the record; this is a
view of it, and it says only what the journal says. Decisions:

- A Chaos Toolkit run shows its experiment as journaled (secrets redacted); its method's
  actions and probes are the ``run`` entries in the order they ran, its rollbacks the
  ``rollbacks``, and its hypothesis checks (``tolerance`` events) the steady states:
  the first "before" and "after", every "during". gameday's "after" is checked after
  the reverts (``chaos run`` checks it before its rollbacks).
- A native run is shown as an experiment whose method is its faults and whose
  rollbacks are their reverts, the native document kept under ``extensions`` (name
  ``gameday``); its steady states are the baseline (``before``) and the recovery watch
  (``after``), the hypothesis having no Chaos Toolkit probes.
- ``status`` is Chaos Toolkit's: ``completed`` when the run went to its end (deviated
  or not), ``interrupted`` for a signal or a stop, ``aborted`` when gameday aborted the
  window for lack of data, ``failed`` otherwise (refused, invalid, an error, a failed
  revert). ``deviated`` is true when the steady state was found broken. As with Chaos
  Toolkit itself, read ``deviated`` and ``steady_states``, not ``status`` alone.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from runner.journal import events, reader

_STATUS = {
    "held": "completed",
    "broken": "completed",
    "not-recovered": "completed",
    "refused": "failed",
    "invalid": "failed",
    "error": "failed",
    "blind": "aborted",
    "stopped": "interrupted",
    "interrupted": "interrupted",
    "revert-failed": "failed",
}


def _chaoslib_version(versions: Mapping[str, Any]) -> str:
    """The chaoslib the run used, else the one installed now (``chaos report`` needs a
    version number to pick its template)."""
    recorded = versions.get("chaostoolkit-lib")
    if isinstance(recorded, str) and recorded[:1].isdigit():
        return recorded
    try:
        return metadata.version("chaostoolkit-lib")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _iso(ts: Any) -> str | None:
    if not isinstance(ts, int | float) or isinstance(ts, bool):
        return None
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).isoformat()


def _span(end_event: Mapping[str, Any] | None) -> tuple[str | None, str | None, float | None]:
    if not end_event:
        return None, None, None
    end, seconds = end_event.get("ts"), end_event.get("seconds")
    if isinstance(end, int | float) and isinstance(seconds, int | float):
        return _iso(end - seconds), _iso(end), float(seconds)
    return _iso(end), _iso(end), None


def _run(activity: Mapping[str, Any], result: Mapping[str, Any] | None,
         output_key: str = "result") -> dict[str, Any]:
    start, end, seconds = _span(result)
    ok = bool(result and result.get("ok"))
    out: dict[str, Any] = {"activity": dict(activity), "status": "succeeded" if ok else "failed",
                           "output": result.get(output_key) if ok and result else None,
                           "start": start, "end": end, "duration": seconds}
    if not ok:
        out["exception"] = [str(result.get("error")) if result else "no outcome journaled"]
    return out


def _observation(step: Mapping[str, Any], seen: Mapping[str, Any]) -> dict[str, Any]:
    run = _run(step, seen, "output")
    if seen.get("tolerance_met") is not None:
        run["tolerance_met"] = seen.get("tolerance_met")
    return run


def _state(check: Mapping[str, Any] | None, activities: Mapping[str, Mapping[str, Any]]
           ) -> dict[str, Any] | None:
    if check is None:
        return None
    probes = []
    for probe in check.get("probes") or []:
        name = probe.get("name")
        run: dict[str, Any] = {"activity": dict(activities.get(name) or {"name": name,
                                                                       "type": "probe"}),
                               "status": probe.get("status"), "output": probe.get("output"),
                               "start": _iso(check.get("ts")), "end": _iso(check.get("ts")),
                               "duration": 0.0, "tolerance_met": probe.get("tolerance_met")}
        if probe.get("exception"):
            run["exception"] = [str(probe["exception"])]
        probes.append(run)
    return {"steady_state_met": bool(check.get("met")), "probes": probes}


def _native_experiment(started: Mapping[str, Any], intents: list[events.Event]
                       ) -> dict[str, Any]:
    document = _dict(started.get("experiment"))
    return {
        "title": started.get("title") or document.get("title") or "gameday experiment",
        "description": document.get("description") or "a gameday native experiment",
        "method": [dict(i.get("action") or {"name": i.get("name"), "type": "action"})
                   for i in intents],
        "rollbacks": [dict(i["revert"]) for i in reversed(intents) if i.get("revert")],
        "extensions": [{"name": "gameday", "experiment": document}],
    }


def _ctk_runs(read: reader.Journal, document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The method's activity runs in the order they started (a background action starts
    when its intent is journaled; its outcome is journaled when it is joined)."""
    steps: dict[Any, Mapping[str, Any]] = {
        i: a for i, a in enumerate(document.get("method") or []) if isinstance(a, Mapping)}
    intents = {e.get("fault"): e for e in read.of_type(events.FAULT_INTENT)
               if e.get("kind") != "rollback"}
    runs: list[tuple[Any, dict[str, Any]]] = []
    for e in read.events:
        if e.get("type") == events.FAULT_RESULT and e.get("fault") in intents:
            intent = intents[e.get("fault")]
            run = _run(intent.get("action") or {}, e)
            began, seconds = intent.get("ts"), e.get("seconds")
            if isinstance(began, int | float) and isinstance(seconds, int | float):
                run.update(start=_iso(began), end=_iso(began + seconds))
            runs.append((intent.get("seq"), run))
        elif e.get("type") == events.OBSERVATION:
            step = _dict(e.get("activity")) or steps.get(e.get("step")) \
                or {"name": e.get("name"), "type": "probe"}
            runs.append((e.get("seq"), _observation(step, e)))
    runs.sort(key=lambda pair: pair[0] if isinstance(pair[0], int) else 0)
    return [run for _seq, run in runs]


def render(read: reader.Journal) -> str:
    started = read.first(events.RUN_STARTED) or {}
    verdict = read.last(events.VERDICT)
    intents = read.of_type(events.FAULT_INTENT)
    document = _dict(started.get("experiment"))
    chaos = "method" in document
    reverts: dict[Any, events.Event] = {}
    for e in read.of_type(events.REVERT_RESULT):
        if e.get("fault") not in reverts or e.get("ok"):
            reverts[e.get("fault")] = e
    name = verdict.get("verdict") if verdict else None
    first_ts = read.events[0].get("ts") if read.events else None
    last_ts = read.events[-1].get("ts") if read.events else None
    if chaos:
        experiment = dict(document)
        rollback_intents = [i for i in intents if i.get("kind") == "rollback"]
        runs = _ctk_runs(read, document)
        probes = {str(p.get("name")): p for p in
                  _dict(document.get("steady-state-hypothesis")).get("probes") or []
                  if isinstance(p, Mapping)}
        checks = read.of_type(events.TOLERANCE)
        before = next((c for c in checks if c.get("when") == "before"), None)
        after = next((c for c in checks if c.get("when") == "after"), None)
        states = {"before": _state(before, probes), "after": _state(after, probes),
                  "during": [_state(c, probes) for c in checks if c.get("when") == "during"]}
    else:
        experiment = _native_experiment(started, intents)
        rollback_intents = list(reversed([i for i in intents if i.get("revert")]))
        runs = [_run(i.get("action") or {}, r) for i in intents
                if (r := next((e for e in read.of_type(events.FAULT_RESULT)
                               if e.get("fault") == i.get("fault")), None)) is not None]
        calibration = read.last(events.CALIBRATION)
        recovered = read.last(events.RECOVERY)
        states = {"before": {"steady_state_met": bool(calibration and
                                                      calibration.get("baseline_holds")),
                             "probes": []} if calibration else None,
                  "after": {"steady_state_met": bool(recovered.get("recovered")), "probes": []}
                  if recovered else None, "during": []}
    versions = _dict(started.get("versions"))
    doc: dict[str, Any] = {
        "chaoslib-version": _chaoslib_version(versions),
        "platform": f"gameday {versions.get('gameday', '?')} "
                    f"(Python {versions.get('python', '?')})",
        "node": started.get("hostname") or "localhost",
        "experiment": experiment,
        "start": _iso(first_ts),
        "end": _iso(last_ts),
        "duration": (last_ts - first_ts) if isinstance(first_ts, int | float)
        and isinstance(last_ts, int | float) else 0.0,
        "status": _STATUS.get(str(name), "failed") if name else "failed",
        "deviated": name in {"broken", "not-recovered"},
        "steady_states": states,
        "run": runs,
        "rollbacks": [_run(i.get("revert") or {}, reverts.get(i.get("fault")))
                      for i in rollback_intents if i.get("fault") in reverts],
        "gameday": {"run_id": started.get("run_id"), "verdict": name,
                    "exit_code": verdict.get("exit_code") if verdict else None,
                    "reason": verdict.get("reason") if verdict else None,
                    "journal": str(read.path)},
    }
    return json.dumps(doc, indent=2, default=str) + "\n"
