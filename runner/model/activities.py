"""Chaos Toolkit activities (an ``action`` fault and its ``revert``), checked by shape only.

Decision: validation never imports or calls anything. Chaos Toolkit's own validator
imports the provider's module to check the function exists; gameday checks the shape of
the activity (``type``, ``name``, ``provider`` with ``python``/``process``/``http`` and
the keys each needs) and leaves resolving ``module.func`` to preflight, which runs in
the adapter layer. The activity comes back as plain JSON-able data, with ``type:
action`` and a ``name`` filled in when the file left them out (Chaos Toolkit needs both).

A key gameday accepts is a key it honours: ``pauses``, ``background`` and ``controls``
belong to a Chaos Toolkit *method* (``runner.model.ctk``, where they are honoured); on a
native fault or revert they are refused with that advice, never accepted and ignored.
``provider(..., templated=True)`` is the Chaos Toolkit flavour: a value holding a
``${name}`` placeholder is resolved at run time, so it is not checked as a URL or number.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from runner.model import fields, yamlsafe
from runner.model import problems as probs
from runner.model.yamlsafe import Map, Node, Scalar

_ACTIVITY = ("type", "name", "provider")
_METHOD_ONLY = ("pauses", "background", "controls")
_PROVIDERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # allowed, required
    "python": (("type", "module", "func", "arguments", "secrets"), ("type", "module", "func")),
    "process": (("type", "path", "arguments", "timeout", "secrets"), ("type", "path")),
    "http": (
        ("type", "url", "method", "headers", "arguments", "timeout", "expected_status",
         "verify_tls", "max_retries", "secrets"),
        ("type", "url"),
    ),
}
_ALL_PROVIDER_KEYS = tuple(dict.fromkeys(k for allowed, _ in _PROVIDERS.values() for k in allowed))
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_FUNC = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def activity(read: fields.Reader, node: Node, path: str) -> dict[str, Any] | None:
    """The activity as plain data, or None when it is malformed (problems recorded)."""
    refused = False
    if isinstance(node, Map):
        for key in _METHOD_ONLY:
            if key in node.entries:
                refused = True
                read.fail(node.entries[key][1], f"{path}.{key}", f"{key!r} is a Chaos Toolkit "
                          "method feature that a native fault does not have; write the "
                          "experiment as a Chaos Toolkit one (method:, rollbacks:) to use it, "
                          "or remove it", "unknown")
        node = Map({k: v for k, v in node.entries.items() if k not in _METHOD_ONLY}, node.line)
    values = read.mapping(node, path, allowed=_ACTIVITY, required=("provider",))
    if values is None:
        return None
    ok = True
    if "type" in values:
        kind = read.string(values["type"], f"{path}.type", what="the activity type")
        if kind is not None and kind != "action":
            read.fail(values["type"], f"{path}.type", f"a fault runs an action, not a {kind!r}; "
                      "write type: action (probes belong in steady_state)")
            ok = False
    name = None
    if "name" in values:
        name = read.string(values["name"], f"{path}.name", what="an activity name")
        ok = ok and name is not None
    provider = _provider(read, values["provider"], f"{path}.provider") \
        if "provider" in values else None
    if provider is None or not ok or refused:
        return None
    data: dict[str, Any] = yamlsafe.plain(node)
    data["type"] = "action"
    data["name"] = name or provider
    return data


def provider(read: fields.Reader, node: Node, path: str, *, templated: bool = False) -> str | None:
    """Checks a provider; a default activity name for it, or None (problems recorded)."""
    return _provider(read, node, path, templated)


def _templated(node: Node) -> bool:
    return isinstance(node, Scalar) and isinstance(node.value, str) and "${" in node.value


def _provider(read: fields.Reader, node: Node, path: str, templated: bool = False) -> str | None:
    """Checks the provider; returns a default activity name for it (or None if bad)."""
    if not isinstance(node, Map) or "type" not in node.entries:
        read.mapping(node, path, allowed=_ALL_PROVIDER_KEYS, required=("type",))
        return None
    kind = read.choice(node.entries["type"][1], f"{path}.type", tuple(_PROVIDERS),
                       what="provider type")
    if kind is None:
        return None
    allowed, required = _PROVIDERS[kind]
    values = read.mapping(node, path, allowed=allowed, required=required,
                          what=f"key for a {kind} provider")
    if values is None or any(key not in values for key in required):
        return None
    if templated:  # a ${name} is resolved at run time: there is nothing to check yet
        values = {k: v for k, v in values.items() if k in required or not _templated(v)}
    if kind == "python":
        return _python(read, values, path)
    if kind == "process":
        return _process(read, values, path)
    return _http(read, values, path, templated)


def _python(read: fields.Reader, values: dict[str, Node], path: str) -> str | None:
    module = read.string(values["module"], f"{path}.module", what="a module name")
    if module is not None and not MODULE.fullmatch(module):
        read.fail(values["module"], f"{path}.module",
                  f"{module!r} is not a Python module path (e.g. chaosk8s.pod.actions)")
        module = None
    func = read.string(values["func"], f"{path}.func", what="a function name")
    if func is not None and not _FUNC.fullmatch(func):
        read.fail(values["func"], f"{path}.func", f"{func!r} is not a Python function name")
        func = None
    args_ok = _arguments(read, values, path, mapping_only=True)
    secrets_ok = _secrets(read, values, path)
    return func if module and func and args_ok and secrets_ok else None


def _process(read: fields.Reader, values: dict[str, Node], path: str) -> str | None:
    command = read.string(values["path"], f"{path}.path", what="a program path")
    ok = _arguments(read, values, path, mapping_only=False) and _secrets(read, values, path)
    if "timeout" in values:
        ok = read.number(values["timeout"], f"{path}.timeout", low=0, open_low=True) \
            is not None and ok
    return command.rsplit("/", 1)[-1] if command and ok else None


def _http(read: fields.Reader, values: dict[str, Node], path: str,
          templated: bool = False) -> str | None:
    url = read.string(values["url"], f"{path}.url", what="a URL")
    if url is not None and not (templated and "${" in url) \
            and (bad := url_problem(url)) is not None:
        read.fail(values["url"], f"{path}.url", bad)
        url = None
    ok = _arguments(read, values, path, mapping_only=True) and _secrets(read, values, path)
    if "method" in values:
        ok = read.choice(values["method"], f"{path}.method", _METHODS, what="HTTP method") \
            is not None and ok
    if "headers" in values:
        ok = read.string_map(values["headers"], f"{path}.headers") is not None and ok
    if "timeout" in values:
        ok = _http_timeout(read, values["timeout"], f"{path}.timeout") and ok
    if "max_retries" in values:
        ok = read.integer(values["max_retries"], f"{path}.max_retries", low=0) is not None and ok
    if "expected_status" in values:
        ok = read.integer(values["expected_status"], f"{path}.expected_status", low=100,
                          high=599) is not None and ok
    if "verify_tls" in values:
        ok = read.boolean(values["verify_tls"], f"{path}.verify_tls") is not None and ok
    return url if url and ok else None


def _http_timeout(read: fields.Reader, node: Node, path: str) -> bool:
    """Seconds, or ``[connect, read]`` as requests takes it (chaoslib passes it through)."""
    if isinstance(node, yamlsafe.Seq) and len(node.items) == 2:
        return all(read.number(item, probs.index_path(path, i), low=0, open_low=True)
                   is not None for i, item in enumerate(node.items))
    return read.number(node, path, low=0, open_low=True) is not None


def _arguments(
    read: fields.Reader, values: dict[str, Node], path: str, *, mapping_only: bool
) -> bool:
    """python/http take a mapping of arguments; process takes a string or a list."""
    if "arguments" not in values:
        return True
    node, at = values["arguments"], f"{path}.arguments"
    if mapping_only and isinstance(node, Map):
        return True
    if mapping_only or isinstance(node, Map):
        want = "a mapping of argument names to values" if mapping_only \
            else "command-line arguments as a string or a list"
        read.fail(node, at, f"expected {want}, found {fields.found(node)}", "type")
        return False
    if isinstance(node, Scalar):
        return read.string(node, at, what="command-line arguments") is not None
    return read.strings(node, at, what="command-line arguments") is not None


def _secrets(read: fields.Reader, values: dict[str, Node], path: str) -> bool:
    if "secrets" not in values:
        return True
    return read.strings(values["secrets"], f"{path}.secrets", what="secret names") is not None


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL with a host, or None."""
    shown = probs.short(url)
    try:
        parts = urllib.parse.urlsplit(url.strip())
        _port = parts.port  # raises ValueError on a port that is not a number
    except ValueError as error:
        return f"{shown} is not a valid URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{shown} is not an http:// or https:// URL with a host"
    return None
