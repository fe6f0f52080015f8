"""A Chaos Toolkit journal (``journal.json``) from a gameday journal.

For the tools that already read Chaos Toolkit journals (``chaos report``, dashboards):
faults become the ``run`` activities, reverts the ``rollbacks``, the baseline the
``steady_states.before`` and the verdict ``status``/``deviated``. Read ``deviated`` and
``steady_states``, not ``status`` alone (as with Chaos Toolkit itself). The gameday journal
stays the record; this is a view of it.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from runner.journal import events, reader
from runner.report import summary

_STATUS = {
    "held": "completed",
    "broken": "completed",
    "not-recovered": "completed",
    "refused": "failed",
    "invalid": "failed",
    "error": "failed",
    "blind": "aborted",
    "interrupted": "interrupted",
    "revert-failed": "failed",
}


def _iso(ts: Any) -> str | None:
    if not isinstance(ts, int | float):
        return None
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).isoformat()


def _activity(intent: dict[str, Any], result: dict[str, Any] | None,
              key: str) -> dict[str, Any]:
    body = intent.get(key) or {}
    end = result.get("ts") if result else None
    seconds = result.get("seconds") if result else None
    start = end - seconds if isinstance(end, int | float) and isinstance(seconds, int | float) \
        else None
    ok = bool(result and result.get("ok"))
    out: dict[str, Any] = {
        "activity": body,
        "status": "succeeded" if ok else "failed",
        "start": _iso(start),
        "end": _iso(end),
        "duration": seconds,
    }
    if ok:
        out["output"] = result.get("result") if result else None
    else:
        out["exception"] = [str(result.get("error")) if result else "no result journaled"]
    return out


def render(read: reader.Journal) -> str:
    started = read.first(events.RUN_STARTED) or {}
    verdict = read.last(events.VERDICT)
    calibration = read.last(events.CALIBRATION)
    intents = read.of_type(events.FAULT_INTENT)
    results = {e.get("fault"): e for e in read.of_type(events.FAULT_RESULT)}
    reverts = summary.latest_reverts(read)
    name = verdict.get("verdict") if verdict else None
    first_ts = read.events[0].get("ts") if read.events else None
    last_ts = read.events[-1].get("ts") if read.events else None
    doc: dict[str, Any] = {
        "chaoslib-version": (started.get("versions") or {}).get("chaostoolkit-lib"),
        "platform": "gameday",
        "experiment": {"title": started.get("title"), "gameday": started.get("experiment")},
        "start": _iso(first_ts),
        "end": _iso(last_ts),
        "duration": (last_ts - first_ts) if isinstance(first_ts, int | float)
        and isinstance(last_ts, int | float) else None,
        "status": _STATUS.get(str(name), "failed") if name else "failed",
        "deviated": name in {"broken", "not-recovered"},
        "steady_states": {
            "before": {"steady_state_met": bool(calibration and
                                                calibration.get("baseline_holds"))},
            "after": None,
            "during": [],
        },
        "run": [_activity(i, results.get(i.get("fault")), "action") for i in intents],
        "rollbacks": [_activity(i, reverts.get(i.get("fault")), "revert")
                      for i in reversed(intents) if i.get("revert")],
        "gameday": {"run_id": started.get("run_id"), "verdict": name,
                    "reason": verdict.get("reason") if verdict else None,
                    "journal": str(read.path)},
    }
    return json.dumps(doc, indent=2, default=str) + "\n"
