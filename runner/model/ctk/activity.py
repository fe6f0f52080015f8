"""Chaos Toolkit activities and tolerances, checked by shape only (nothing imported or run).

An activity (in ``method``, ``rollbacks``, the hypothesis, a probe tolerance or a
configuration probe) has ``type`` (``action`` or ``probe``), a non-empty ``name`` and a
``provider`` (python, process, http: ``runner.model.activities.provider`` with
placeholders allowed), and may have ``pauses`` (seconds, or a ``${name}`` resolved at
run time, as chaoslib allows), ``background`` (method only) and ``controls``. A
``{"ref": name}`` entry names another activity. Decisions, where chaoslib would accept
a key and then ignore it, gameday refuses it with the reason, because a key gameday
accepts is a key it honours:

- an activity-level ``timeout`` (chaoslib 1.44 never reads it: ``provider.timeout`` is
  the one that bounds a call);
- ``background`` on a rollback or a hypothesis probe (gameday runs rollbacks one by one,
  in order, retried, so their outcomes are known), ``tolerance`` on an action;
- keys beside a ``ref`` other than a hypothesis probe's ``tolerance``.

Tolerances are checked as chaoslib's ``ensure_hypothesis_tolerance_is_valid`` checks
them (bool, int, str, list, and mappings of type probe, regex, jsonpath, range), except
that a regex with a placeholder and a JSON path are parsed at run time by chaoslib.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from runner.model import activities, fields, yamlsafe
from runner.model import problems as probs
from runner.model.yamlsafe import Map, Node, Scalar, Seq

Where = Literal["method", "rollbacks", "hypothesis", "tolerance", "configuration", "safeguard"]
_KEYS = ("type", "name", "provider", "pauses", "background", "controls", "tolerance", "ref")
_TOLERANCE_KEYS = {
    "probe": ("type", "name", "provider", "controls"),
    "regex": ("type", "pattern", "target"),
    "jsonpath": ("type", "path", "target", "expect", "count"),
    "range": ("type", "range", "target"),
}
_CONTROL_KEYS = ("name", "provider", "scope", "automatic", "ref")
_PAUSE = re.compile(r"\$\{[^}]+\}")


def activity(read: fields.Reader, node: Node, path: str, where: Where) -> dict[str, Any] | None:
    """The activity as plain data, or None when malformed (every problem recorded)."""
    if isinstance(node, Map) and "ref" in node.entries:
        return _ref(read, node, path, where)
    extra = {"timeout": "an activity-level timeout is not read by chaoslib; write it as "
                        "provider.timeout, which bounds the call",
             "dry": "dry runs are chosen on the command line (gameday run --dry)"}
    if isinstance(node, Map):
        for key, why in extra.items():
            if key in node.entries:
                read.fail(node.entries[key][1], f"{path}.{key}", why, "unknown")
        node = Map({k: v for k, v in node.entries.items() if k not in extra}, node.line)
    values = read.mapping(node, path, allowed=_KEYS, required=("type", "name", "provider"))
    if values is None:
        return None
    ok = "type" in values and "name" in values and "provider" in values
    kind = read.choice(values["type"], f"{path}.type", ("action", "probe"),
                       what="activity type") if "type" in values else None
    if kind == "action" and where in ("hypothesis", "tolerance", "configuration", "safeguard"):
        read.fail(values["type"], f"{path}.type", f"a {where} activity must be a probe (it "
                  "reads, it does not act)")
        ok = False
    if "name" in values:
        ok = read.string(values["name"], f"{path}.name", what="an activity name") is not None \
            and ok
    if "provider" in values:
        ok = activities.provider(read, values["provider"], f"{path}.provider",
                                 templated=True) is not None and ok
    if "pauses" in values:
        ok = _pauses(read, values["pauses"], f"{path}.pauses") and ok
    if "background" in values:
        ok = read.boolean(values["background"], f"{path}.background") is not None and ok
        if where != "method":
            read.fail(values["background"], f"{path}.background", "only method activities run "
                      "in the background; gameday runs rollbacks one by one, in order, each "
                      "retried and checked, so remove background here")
            ok = False
    if "controls" in values:
        ok = controls(read, values["controls"], f"{path}.controls") and ok
    if "tolerance" in values:
        if kind == "action":
            read.fail(values["tolerance"], f"{path}.tolerance", "an action has no tolerance "
                      "(chaos run never checks it); make it a probe, or remove the tolerance")
            ok = False
        else:
            ok = tolerance(read, values["tolerance"], f"{path}.tolerance") and ok
    elif where in ("hypothesis", "safeguard") and kind is not None:
        read.fail(node, f"{path}.tolerance", f"a {where} probe needs a tolerance (what its "
                  "value must be for the steady state to hold)", "missing")
        ok = False
    return yamlsafe.plain(node) if ok else None


def _ref(read: fields.Reader, node: Map, path: str, where: Where) -> dict[str, Any] | None:
    allowed = ("ref", "tolerance") if where == "hypothesis" else ("ref",)
    values = read.mapping(node, path, allowed=allowed, what="key beside a ref (chaos run "
                          "ignores the others)")
    if values is None:
        return None
    ok = read.string(values["ref"], f"{path}.ref", what="the name of an activity") is not None
    if where == "hypothesis":
        if "tolerance" not in values:
            read.fail(node, f"{path}.tolerance", "a hypothesis probe needs a tolerance",
                      "missing")
            ok = False
        else:
            ok = tolerance(read, values["tolerance"], f"{path}.tolerance") and ok
    if where in ("tolerance", "configuration", "safeguard"):
        read.fail(node, f"{path}.ref", f"a {where} activity cannot be a ref; write it out")
        ok = False
    return yamlsafe.plain(node) if ok else None


def _pauses(read: fields.Reader, node: Node, path: str) -> bool:
    values = read.mapping(node, path, allowed=("before", "after"))
    if values is None:
        return False
    ok = True
    for key, value in values.items():
        at = f"{path}.{key}"
        if isinstance(value, Scalar) and isinstance(value.value, str):
            if not _PAUSE.fullmatch(value.value.strip()):
                read.fail(value, at, "a pause is a number of seconds or a ${name} from the "
                          f"configuration, found {fields.found(value)}")
                ok = False
        else:
            ok = read.number(value, at, low=0) is not None and ok
    return ok


def tolerance(read: fields.Reader, node: Node, path: str) -> bool:
    """Whether the tolerance is one chaoslib can check (problems recorded)."""
    if isinstance(node, Seq):
        return True
    if isinstance(node, Scalar):
        if isinstance(node.value, bool | int | str):
            return True
        read.fail(node, path, f"a tolerance is true/false, a whole number, a text, a list or a "
                  f"mapping (type: probe, regex, jsonpath or range), found {fields.found(node)}"
                  " (for a band of numbers write {type: range, range: [low, high]})", "type")
        return False
    if not isinstance(node, Map) or "type" not in node.entries:
        read.fail(node, f"{path}.type", "a tolerance mapping needs a type: probe, regex, "
                  "jsonpath or range", "missing")
        return False
    kind = read.choice(node.entries["type"][1], f"{path}.type", tuple(_TOLERANCE_KEYS),
                       what="tolerance type")
    if kind is None:
        return False
    if kind == "probe":
        return activity(read, node, path, "tolerance") is not None
    values = read.mapping(node, path, allowed=_TOLERANCE_KEYS[kind],
                          required=(_TOLERANCE_KEYS[kind][1],), what=f"key of a {kind} tolerance")
    if values is None or _TOLERANCE_KEYS[kind][1] not in values:
        return False
    ok = True
    if "target" in values:
        ok = read.string(values["target"], f"{path}.target", what="a key of the value") \
            is not None
    if kind == "regex":
        pattern = read.string(values["pattern"], f"{path}.pattern", what="a regular expression")
        if pattern is not None and "${" not in pattern:
            try:
                re.compile(pattern)
            except re.error as error:
                read.fail(values["pattern"], f"{path}.pattern", f"{probs.short(pattern)} is not a "
                          f"valid regular expression ({error})")
                ok = False
        return ok and pattern is not None
    if kind == "jsonpath":
        ok = read.string(values["path"], f"{path}.path", what="a JSON path") is not None and ok
        if "count" in values:
            ok = read.integer(values["count"], f"{path}.count", low=0) is not None and ok
        return ok
    bounds = values["range"]
    if not isinstance(bounds, Seq) or len(bounds.items) != 2:
        read.fail(bounds, f"{path}.range", "a range is a list of two numbers: [low, high]",
                  "type")
        return False
    return all(read.number(item, probs.index_path(f"{path}.range", i)) is not None
               for i, item in enumerate(bounds.items)) and ok


def controls(read: fields.Reader, node: Node, path: str) -> bool:
    """A list of Chaos Toolkit controls (python providers: chaoslib runs no other kind)."""
    items = read.sequence(node, path, what="controls")
    if items is None:
        return False
    ok = True
    for index, item in enumerate(items):
        at = probs.index_path(path, index)
        values = read.mapping(item, at, allowed=_CONTROL_KEYS, required=("name",),
                              what="control key")
        if values is None:
            ok = False
            continue
        ok = "name" in values and read.string(values["name"], f"{at}.name",
                                              what="a control name") is not None and ok
        if "ref" in values:
            ok = read.string(values["ref"], f"{at}.ref", what="a control name") is not None and ok
        elif "provider" not in values:
            read.fail(item, f"{at}.provider", "a control needs a provider (type: python, "
                      "module: ...)", "missing")
            ok = False
        if "provider" in values:
            ok = _control_provider(read, values["provider"], f"{at}.provider") and ok
        if "scope" in values:
            ok = read.choice(values["scope"], f"{at}.scope", ("before", "after"),
                             what="control scope") is not None and ok
        if "automatic" in values:
            ok = read.boolean(values["automatic"], f"{at}.automatic") is not None and ok
    return ok


def _control_provider(read: fields.Reader, node: Node, path: str) -> bool:
    values = read.mapping(node, path, allowed=("type", "module", "arguments"),
                          required=("type", "module"), what="control provider key")
    if values is None or "type" not in values or "module" not in values:
        return False
    ok = read.choice(values["type"], f"{path}.type", ("python",),
                     what="control provider type (chaoslib runs python controls only)") \
        is not None
    module = read.string(values["module"], f"{path}.module", what="a module name")
    if module is not None and not activities.MODULE.fullmatch(module):
        read.fail(values["module"], f"{path}.module", f"{module!r} is not a Python module path")
        ok = False
    if "arguments" in values and not isinstance(values["arguments"], Map):
        read.fail(values["arguments"], f"{path}.arguments", "expected a mapping of argument "
                  f"names to values, found {fields.found(values['arguments'])}", "type")
        ok = False
    return ok and module is not None
