"""The Chaos Toolkit experiment's own sections: configuration, secrets, runtime, the rest.

Checked as chaoslib reads them, nothing resolved (environment variables and probes are
read when the run starts, ``runner.adapters.ctk.session``):

- ``configuration``: a value as written (inline), ``{type: env, key, default?,
  env_var_type?}``, or ``{type: probe, ...}`` (a probe whose output becomes the value,
  chaoslib's "dynamic configuration"). Any other mapping is an inline value, as chaoslib
  takes it.
- ``secrets``: scopes of named values: inline, or ``{type: env, key}``. Vault and every
  other backend are refused naming the key (gameday reads no secret store; export the
  value and use ``env``); so is a ``default`` on an env secret, which chaoslib ignores.
- ``runtime``: ``hypothesis.strategy`` and ``rollbacks.strategy``, with ``chaos run``'s
  spellings (``continously`` too, as chaos accepts it).
"""

from __future__ import annotations

from typing import Any

from runner.model import fields, yamlsafe
from runner.model import problems as probs
from runner.model.ctk import activity as activity_mod
from runner.model.ctk import spec
from runner.model.yamlsafe import Map, Node, Scalar

ENV_TYPES = ("str", "string", "int", "integer", "float", "number", "bytes", "bool", "json")
_CONTRIBUTION = ("none", "low", "medium", "high")


def configuration(read: fields.Reader, node: Node) -> dict[str, Any]:
    if not isinstance(node, Map):
        read.fail(node, "configuration", "expected a mapping of names to values, found "
                  f"{fields.found(node)}", "type")
        return {}
    out: dict[str, Any] = {}
    for key, (_line, value) in node.entries.items():
        path = probs.key_path("configuration", key)
        kind = value.entries.get("type", (0, None))[1] if isinstance(value, Map) else None
        kind_value = kind.value if isinstance(kind, Scalar) else None
        if kind_value == "env":
            values = read.mapping(value, path, allowed=("type", "key", "default", "env_var_type"),
                                  required=("key",), what="key of an env configuration")
            if values is not None and "key" in values:
                read.string(values["key"], f"{path}.key", what="an environment variable name")
            if values is not None and "env_var_type" in values:
                read.choice(values["env_var_type"], f"{path}.env_var_type", ENV_TYPES,
                            what="env_var_type")
        elif kind_value == "probe":
            activity_mod.activity(read, value, path, "configuration")
        out[key] = yamlsafe.plain(value)
    return out


def secrets(read: fields.Reader, node: Node, path: str = "secrets") -> dict[str, Any]:
    if not isinstance(node, Map):
        read.fail(node, path, "expected a mapping of secret scopes (e.g. k8s: {token: ...}), "
                  f"found {fields.found(node)}", "type")
        return {}
    out: dict[str, Any] = {}
    for key, (_line, value) in node.entries.items():
        at = probs.key_path(path, key)
        if isinstance(value, Map) and "type" in value.entries:
            _typed_secret(read, value, at)
        elif isinstance(value, Map):
            secrets(read, value, at)
        out[key] = yamlsafe.plain(value)
    return out


def _typed_secret(read: fields.Reader, node: Map, path: str) -> None:
    kind_node = node.entries["type"][1]
    kind = kind_node.value if isinstance(kind_node, Scalar) else None
    if kind == "env":
        if "default" in node.entries:
            read.fail(node.entries["default"][1], f"{path}.default", "chaoslib ignores a "
                      "default for an env secret (the variable must be set); remove it",
                      "unknown")
        values = read.mapping(node, path, allowed=("type", "key", "default"), required=("key",),
                              what="key of an env secret")
        if values is not None and "key" in values:
            read.string(values["key"], f"{path}.key", what="an environment variable name")
        return
    backend = f"a {kind!r} secret" if isinstance(kind, str) else "a typed secret"
    read.fail(kind_node, f"{path}.type", f"{backend} is not supported: gameday reads no "
              "secret store (Vault or other), so the run could not honour it. Export the "
              "value into an environment variable and write {type: env, key: NAME} for "
              f"{path!r}", "unknown")


def runtime(read: fields.Reader, node: Node) -> tuple[str | None, str | None]:
    """``(hypothesis strategy, rollback strategy)`` as the file gives them."""
    values = read.mapping(node, "runtime", allowed=("hypothesis", "rollbacks"))
    if values is None:
        return None, None
    chosen: list[str | None] = []
    for key, options in (("hypothesis", (*spec.HYPOTHESIS_STRATEGIES, "continously")),
                         ("rollbacks", spec.ROLLBACK_STRATEGIES)):
        section = read.mapping(values[key], f"runtime.{key}", allowed=("strategy",)) \
            if key in values else None
        strategy = None
        if section and "strategy" in section:
            strategy = read.choice(section["strategy"], f"runtime.{key}.strategy", options,
                                   what=f"{key} strategy")
        chosen.append("continuously" if strategy == "continously" else strategy)
    return chosen[0], chosen[1]


def tags(read: fields.Reader, node: Node) -> None:
    read.strings(node, "tags", what="tags (non-empty text)")


def contributions(read: fields.Reader, node: Node) -> None:
    if not isinstance(node, Map):
        read.fail(node, "contributions", "expected a mapping of qualities to none, low, "
                  f"medium or high, found {fields.found(node)}", "type")
        return
    for key, (_line, value) in node.entries.items():
        read.choice(value, probs.key_path("contributions", key), _CONTRIBUTION,
                    what="contribution level")


def version(read: fields.Reader, node: Node) -> None:
    if not isinstance(node, Scalar) or isinstance(node.value, bool) \
            or not isinstance(node.value, str | int | float):
        read.fail(node, "version", f"expected a version such as \"1.0.0\", found "
                  f"{fields.found(node)}", "type")
