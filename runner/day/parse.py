"""The sections of a game-day file: ``when``, ``gates`` and the entries of ``experiments``.

Each reader takes nodes and records every problem (path and line) in the shared
``fields.Reader``, like the experiment loader's sections. Decisions:

- ``when``: ``days`` are ``mon``..``sun`` (``mon-fri`` ranges allowed), ``hours`` one or
  more ``HH:MM-HH:MM`` ranges (``22:00-02:00`` runs past midnight, ``24:00`` is midnight),
  ``timezone`` an IANA name (default UTC; checked with ``zoneinfo``), ``freeze`` dates
  ``YYYY-MM-DD`` or inclusive ranges ``YYYY-MM-DD..YYYY-MM-DD`` in that zone.
- ``error-budget`` events are counter series selectors (gameday takes
  ``sum(increase(sel[window]))``) or PromQL expressions returning one number over the
  window, used as written. The request rate is ``rate:`` if given, else
  ``sum(rate(total[1m]))`` for a selector total, else the window's average.
- ``no-alerts`` takes a selector or an expression; a selector of ``ALERTS`` (or bare
  matchers) gets ``alertstate="firing"`` unless it names an alertstate: a pending alert
  is not a firing one.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import zoneinfo
from collections.abc import Mapping
from pathlib import Path

from runner.day import merge
from runner.day import model as day_model
from runner.model import durations, fields, sections, slo, syntax
from runner.model import experiment as model
from runner.model import problems as probs
from runner.model.yamlsafe import Map, Node, Scalar

GATE_KINDS = ("error-budget", "no-alerts", "burn-rate")
BUDGET_KEYS = ("slo", "window", "bad", "good", "total", "rate", "min_remaining", "max_spend",
               "prometheus")
ENTRY_KEYS = ("id", "file", "inline", "needs", "on_broken", "gates", "overrides")
OVERRIDE_KEYS = ("title", "owner", "prometheus", "target", "blast_radius", "steady_state",
                 "duration", "abort", "recovery", "seed")
DEFAULT_KEYS = ("prometheus", "target", "blast_radius", "steady_state")
WHEN_KEYS = ("days", "hours", "timezone", "freeze")
DEFAULT_WINDOW = 28 * 86_400.0
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_HOURS = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ALERTS = re.compile(r"\s*(ALERTS)?\s*(\{.*\})?\s*", re.DOTALL)


def when(read: fields.Reader, node: Node) -> day_model.Window | None:
    values = read.mapping(node, "when", allowed=WHEN_KEYS)
    if values is None:
        return None
    window = day_model.Window()
    tz = window.timezone
    if "timezone" in values:
        name = read.string(values["timezone"], "when.timezone", what="an IANA time zone")
        if name is not None:
            try:
                zoneinfo.ZoneInfo(name.strip())
                tz = name.strip()
            except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
                read.fail(values["timezone"], "when.timezone", f"{probs.short(name)} is not "
                          "an IANA time zone; write e.g. Europe/Berlin, America/New_York or UTC")
    days = window.days
    if "days" in values:
        days = _days(read, values["days"]) or days
    hours = window.hours
    if "hours" in values:
        hours = _hours(read, values["hours"]) or hours
    freeze = _freeze(read, values["freeze"]) if "freeze" in values else ()
    return day_model.Window(timezone=tz, days=days, hours=hours, freeze=freeze)


def _days(read: fields.Reader, node: Node) -> frozenset[int] | None:
    names = read.strings(node, "when.days", what="weekdays (mon..sun, or mon-fri)")
    if names is None:
        return None
    found: set[int] = set()
    for index, raw in enumerate(names):
        where = f"when.days[{index}]" if not isinstance(node, Scalar) else "when.days"
        first, _, last = raw.strip().lower().partition("-")
        known = [d for d in (first, last or first) if d in day_model.WEEKDAYS]
        if len(known) != 2:
            bad = next(d for d in (first, last or first) if d not in day_model.WEEKDAYS)
            read.fail(node, where, probs.unknown_message("weekday", bad, day_model.WEEKDAYS))
            continue
        a, b = (day_model.WEEKDAYS.index(d) for d in known)
        found.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    return frozenset(found) if found else None


def _hours(read: fields.Reader, node: Node) -> tuple[day_model.Hours, ...] | None:
    texts = read.strings(node, "when.hours", what="hour ranges such as 14:00-17:00")
    if texts is None:
        return None
    found = []
    for index, text in enumerate(texts):
        where = f"when.hours[{index}]" if not isinstance(node, Scalar) else "when.hours"
        match = _HOURS.fullmatch(text)
        minutes = None if match is None else [int(g) for g in match.groups()]
        if minutes is None or not _clock_ok(*minutes[:2]) or not _clock_ok(*minutes[2:]):
            read.fail(node, where, f"{probs.short(text)} is not an hour range; write "
                      "HH:MM-HH:MM in 24 h time, e.g. 14:00-17:00 (22:00-02:00 runs past "
                      "midnight)")
            continue
        start, end = minutes[0] * 60 + minutes[1], minutes[2] * 60 + minutes[3]
        if start in (end, day_model.MINUTES_PER_DAY):
            read.fail(node, where, f"{probs.short(text)} is an empty range; write e.g. "
                      "00:00-24:00 for the whole day")
            continue
        found.append(day_model.Hours(start, end))
    return tuple(found) or None


def _clock_ok(hour: int, minute: int) -> bool:
    return (0 <= hour <= 23 and 0 <= minute <= 59) or (hour == 24 and minute == 0)


def _freeze(read: fields.Reader, node: Node,
            ) -> tuple[tuple[datetime.date, datetime.date], ...]:
    texts = read.strings(node, "when.freeze", what="dates such as 2026-12-24") or ()
    found = []
    for index, text in enumerate(texts):
        where = f"when.freeze[{index}]" if not isinstance(node, Scalar) else "when.freeze"
        first, sep, last = text.strip().partition("..")
        try:
            if not _DATE.fullmatch(first) or (sep and not _DATE.fullmatch(last)):
                raise ValueError(text)
            a = datetime.date.fromisoformat(first)
            b = datetime.date.fromisoformat(last) if sep else a
        except ValueError:
            read.fail(node, where, f"{probs.short(text)} is not a date; write YYYY-MM-DD "
                      "(2026-12-24) or an inclusive range 2026-12-20..2027-01-02")
            continue
        if b < a:
            read.fail(node, where, f"the range {text} ends before it starts")
            continue
        found.append((a, b))
    return tuple(found)


@dataclasses.dataclass(frozen=True)
class Where:
    """What a gate's own ``prometheus:`` block is read with (as in an experiment)."""

    environ: Mapping[str, str]
    base: Path | None


def gates(read: fields.Reader, node: Node, path: str, where: Where,
          ) -> tuple[day_model.Gate, ...]:
    items = read.sequence(node, path, what="gates") or []
    found: list[day_model.Gate] = []
    for index, item in enumerate(items):
        at = probs.index_path(path, index)
        values = read.mapping(item, at, allowed=GATE_KINDS, what="gate")
        if values is None:
            continue
        if len(values) != 1:
            read.fail(item, at, "each gate item holds one gate: error-budget, no-alerts or "
                      "burn-rate", "conflict")
        for kind, value in values.items():
            gate = _gate(read, kind, value, f"{at}.{kind}", where)
            if gate is not None:
                found.append(gate)
    return tuple(found)


def _own_prometheus(read: fields.Reader, node: Node, path: str, where: Where,
                    ) -> tuple[Node, model.PrometheusConfig | None]:
    """``node`` without its ``prometheus`` key, and that key read as an experiment's."""
    if not isinstance(node, Map) or "prometheus" not in node.entries:
        return node, None
    _line, value = node.entries["prometheus"]
    found = probs.Problems()  # the section names its paths prometheus.*: put them here
    config = sections.prometheus(fields.Reader(found), value, model.Target(), where.environ,
                                 node, base=where.base)
    for problem in found.sorted():
        read.problems.add(f"{path}.{problem.path}", problem.line, problem.message,
                          problem.kind)
    rest = Map({k: v for k, v in node.entries.items() if k != "prometheus"}, node.line)
    return rest, config


def _gate(read: fields.Reader, kind: str, node: Node, path: str,
          where: Where) -> day_model.Gate | None:
    if kind == "no-alerts":
        config = None
        if isinstance(node, Map):
            values = read.mapping(node, path, allowed=("query", "prometheus"),
                                  required=("query",), what="no-alerts key")
            node, config = _own_prometheus(read, node, path, where)
            if values is None or "query" not in values:
                return None
            node = values["query"]
            path = f"{path}.query"
        text = read.string(node, path, what="an alert selector such as "
                           'ALERTS{severity="critical"}')
        if text is None:
            return None
        if (bad := syntax.promql(text)) is not None:
            read.fail(node, path, bad)
            return None
        return day_model.NoAlertsGate(firing_query(text.strip()), prometheus=config)
    node, config = _own_prometheus(read, node, path, where)
    if kind == "burn-rate":
        rule = slo.burn_rate(read, node, path, probes=None)
        return None if rule is None else day_model.BurnRateGate(rule, prometheus=config)
    gate = _budget(read, node, path)
    return None if gate is None else dataclasses.replace(gate, prometheus=config)


def firing_query(text: str) -> str:
    """``ALERTS{severity="critical"}`` (or ``{severity="critical"}``) with
    ``alertstate="firing"`` added; any other expression as written."""
    match = _ALERTS.fullmatch(text)
    if match is None or (match.group(1) is None and match.group(2) is None):
        return text
    matchers = (match.group(2) or "{}").strip()
    if syntax.matchers(matchers) is not None:
        return text
    if "alertstate" not in matchers:
        inner = matchers[1:-1].strip().rstrip(",")
        matchers = "{" + (inner + "," if inner else "") + 'alertstate="firing"}'
    return "ALERTS" + matchers


def _budget(read: fields.Reader, node: Node, path: str) -> day_model.ErrorBudgetGate | None:
    values = read.mapping(node, path, allowed=BUDGET_KEYS, required=("slo",),
                          what="error-budget key")
    if values is None:
        return None
    target = slo.target(read, values["slo"], f"{path}.slo") if "slo" in values else None
    window = DEFAULT_WINDOW
    if "window" in values:
        window = read.duration(values["window"], f"{path}.window") or window
    queries: dict[str, str | None] = {"bad": None, "good": None, "total": None, "rate": None}
    for key in queries:
        if key in values:
            queries[key] = _events(read, values[key], f"{path}.{key}", window, key)
    given = [k for k in ("bad", "good") if k in values]
    if len(given) != 1 or "total" not in values:
        read.fail(node, path, "give total and exactly one of bad (failed requests) or good "
                  "(successful requests)", "missing" if not given else "conflict")
    if queries["rate"] is None and "total" in values and isinstance(values["total"], Scalar) \
            and syntax.series_selector(str(values["total"].value).strip()) is None:
        queries["rate"] = f"sum(rate({str(values['total'].value).strip()}[1m]))"
    floor = _share(read, values, "min_remaining", path, 0.25)
    spend = _share(read, values, "max_spend", path, 0.10)
    if target is None or queries["total"] is None or (queries["bad"] is None
                                                      and queries["good"] is None):
        return None
    return day_model.ErrorBudgetGate(slo=target, window=window, total=queries["total"],
                                     bad=queries["bad"], good=queries["good"],
                                     rate=queries["rate"], min_remaining=floor,
                                     max_spend=spend)


def _share(read: fields.Reader, values: dict[str, Node], key: str, path: str,
           default: float) -> float:
    if key not in values:
        return default
    found = read.parsed(values[key], f"{path}.{key}", durations.parse_ratio, low=0, high=1)
    return default if found is None else found


def _events(read: fields.Reader, node: Node, path: str, window: float, key: str) -> str | None:
    text = read.string(node, path, what="a series selector or a PromQL expression")
    if text is None:
        return None
    text = text.strip()
    if key != "rate" and syntax.series_selector(text) is None:
        return f"sum(increase({text}[{window:.0f}s]))"
    if (bad := syntax.promql(text)) is not None:
        read.fail(node, path, bad)
        return None
    return text


def entry_id(read: fields.Reader, node: Node, path: str) -> str | None:
    text = read.string(node, path, what="an id such as pod-kill")
    if text is not None and _ID.fullmatch(text) is None:
        read.fail(node, path, f"{probs.short(text)} is not an id: use letters, digits, '.', "
                  "'_' and '-' (at most 63), starting with a letter or digit")
        return None
    return text


def overrides(read: fields.Reader, node: Node, path: str) -> Map | None:
    values = read.mapping(node, path, allowed=OVERRIDE_KEYS, what="override")
    if values is None or not isinstance(node, Map):
        return None
    steady = values.get("steady_state")
    if steady is not None:
        read.mapping(steady, f"{path}.steady_state", allowed=merge.STEADY_KEYS,
                     what="steady_state override")
    return Map({k: v for k, v in node.entries.items() if k in OVERRIDE_KEYS}, node.line)


def defaults(read: fields.Reader, node: Node) -> Map | None:
    values = read.mapping(node, "defaults", allowed=DEFAULT_KEYS, what="default")
    if values is None or not isinstance(node, Map):
        return None
    steady = values.get("steady_state")
    if steady is not None:
        read.mapping(steady, "defaults.steady_state", allowed=merge.STEADY_KEYS,
                     what="steady_state default")
    return Map({k: v for k, v in node.entries.items() if k in DEFAULT_KEYS}, node.line)
