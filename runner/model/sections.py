"""The small top-level sections: target, blast_radius, prometheus, abort, recovery.

Decisions: ``prometheus.url`` is ``sandbox`` (the local sandbox's own Prometheus) or an
absolute http(s) URL, and a Kubernetes target must name a real one. ``timeout``
defaults to ``min(5s, tick)`` and may not exceed the tick (a slow query must not eat the
next tick). Header values may hold ``${ENV_VAR}`` references, resolved here from the
injected environment; an unset variable is a problem. The connection keys Prometheus
itself spells (``authorization``, ``basic_auth``, ``tls_config``...) are read by
``http_config``. On Kubernetes the blast radius
must list the namespaces the experiment may touch. ``abort`` lists what ends the fault
window: absent means the defaults (steady-state, guardrail, no-data after 3 ticks); when
present, ``guardrail`` is on only if listed, while ``no-data`` can be lengthened but never
switched off (being blind is never safe) and the steady-state test is always on.
``burn-rate: {slo: 99.9%, windows: [[5m, 14.4], [1h, 6]]}`` aborts when every window burns
the error budget faster than its factor (``slo``; the events default to the ratio probe).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from runner.model import (
    activities,
    document,
    durations,
    fields,
    http_config,
    probes,
    slo,
    syntax,
)
from runner.model import experiment as model
from runner.model import problems as probs
from runner.model.yamlsafe import Map, Node, Scalar

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TICKS = re.compile(r"\s*(\d+)\s*ticks?\s*")
_ABORT_WORDS = ("steady-state", "guardrail")
_ABORT_KEYS = ("no-data", "alert", "burn-rate")


def target(read: fields.Reader, node: Node | None) -> model.Target:
    if node is None:
        return model.Target()
    values = read.mapping(node, "target", allowed=("platform", "namespace", "selector",
                                                   "context"))
    if values is None:
        return model.Target()
    platform = "local"
    if "platform" in values:
        platform = read.choice(values["platform"], "target.platform", ("local", "kubernetes"),
                               what="platform") or "local"
    text: dict[str, str | None] = {}
    for key in ("namespace", "selector", "context"):
        text[key] = read.string(values[key], f"target.{key}", what=f"a {key}") \
            if key in values else None
    if text["selector"] is not None and (bad := syntax.label_selector(text["selector"])):
        read.fail(values["selector"], "target.selector", bad)
    if text["namespace"] is not None and (bad := syntax.namespace(text["namespace"])):
        read.fail(values["namespace"], "target.namespace", bad)
    return model.Target(
        platform="kubernetes" if platform == "kubernetes" else "local",
        namespace=text["namespace"], selector=text["selector"], context=text["context"],
    )


def blast_radius(
    read: fields.Reader, node: Node | None, tgt: model.Target, top: Node
) -> model.BlastRadius:
    kubernetes = tgt.platform == "kubernetes"
    if node is None:
        if kubernetes:
            read.fail(top, "blast_radius", "on kubernetes, list the namespaces this experiment "
                      "may touch: blast_radius: {namespaces: [...]}", "missing")
        return model.BlastRadius()
    values = read.mapping(node, "blast_radius", allowed=("max_pods", "max_fraction",
                                                         "namespaces", "allow_production"))
    if values is None:
        return model.BlastRadius()
    max_pods = max_fraction = None
    namespaces: tuple[str, ...] = ()
    allow = False
    if "max_pods" in values:
        max_pods = read.integer(values["max_pods"], "blast_radius.max_pods", low=1)
    if "max_fraction" in values:
        max_fraction = read.parsed(values["max_fraction"], "blast_radius.max_fraction",
                                   durations.parse_ratio, low=0, high=1, open_low=True)
    if "namespaces" in values:
        namespaces = read.strings(values["namespaces"], "blast_radius.namespaces",
                                  what="namespace names") or ()
        for index, name in enumerate(namespaces):
            if (bad := syntax.namespace(name)) is not None:
                read.fail(values["namespaces"], f"blast_radius.namespaces[{index}]", bad)
    if "allow_production" in values:
        allow = bool(read.boolean(values["allow_production"], "blast_radius.allow_production"))
    if kubernetes and not namespaces and "namespaces" not in values:
        read.fail(node, "blast_radius", "on kubernetes, list the namespaces this experiment "
                  "may touch in blast_radius.namespaces", "missing")
    return model.BlastRadius(max_pods, max_fraction, namespaces, allow)


_PROMETHEUS_KEYS = ("url", "tick", "timeout", "retries", "headers", "authorization",
                    "basic_auth", "bearer_token_file", "tls_config", "proxy_url")
_AUTH_KEYS = ("authorization", "basic_auth", "bearer_token_file")


def prometheus(
    read: fields.Reader, node: Node | None, tgt: model.Target, environ: Mapping[str, str],
    top: Node, *, base: Path | None = None,
) -> model.PrometheusConfig:
    """The ``prometheus:`` block; file paths are taken relative to ``base`` (the file's
    directory), as Prometheus takes them relative to its config file."""
    values = {} if node is None else read.mapping(
        node, "prometheus", allowed=_PROMETHEUS_KEYS) or {}
    url = model.SANDBOX_PROMETHEUS
    if "url" in values:
        url = read.string(values["url"], "prometheus.url", what="a URL") or url
        if url != model.SANDBOX_PROMETHEUS and (bad := activities.url_problem(url)):
            read.fail(values["url"], "prometheus.url", f"{bad}; or write 'sandbox' for the "
                      "local sandbox's Prometheus")
    if tgt.platform == "kubernetes" and url == model.SANDBOX_PROMETHEUS:
        read.fail(values.get("url", node or top), "prometheus.url", "a kubernetes target needs "
                  "the URL of the Prometheus that scrapes it (e.g. http://prometheus:9090); "
                  "'sandbox' is the local sandbox's", "missing")
    tick = model.PrometheusConfig.tick
    if "tick" in values:
        tick = read.duration(values["tick"], "prometheus.tick") or tick
    timeout = min(model.PrometheusConfig.timeout, tick)
    if "timeout" in values:
        timeout = read.duration(values["timeout"], "prometheus.timeout") or timeout
        if timeout > tick:
            read.fail(values["timeout"], "prometheus.timeout", f"the query timeout "
                      f"({timeout:g}s) is longer than the tick ({tick:g}s); a slow query would "
                      "eat the next tick, so lower it", "conflict")
    retries = model.PrometheusConfig.retries
    if "retries" in values:
        given = read.integer(values["retries"], "prometheus.retries", low=0, high=10)
        retries = retries if given is None else given
    headers = _headers(read, values["headers"], environ) if "headers" in values else {}
    conn = http_config.Connection(read, environ, base)
    auth, basic = conn.auth(values, headers)
    tls = conn.tls(values["tls_config"]) if "tls_config" in values else model.TLSConfig()
    if "tls_config" in values and url.startswith("http://"):
        read.fail(values["tls_config"], "prometheus.tls_config", "tls_config applies to an "
                  "https:// URL only; change prometheus.url to https:// or remove tls_config",
                  "conflict")
    proxy = conn.proxy(values["proxy_url"]) if "proxy_url" in values else None
    return model.PrometheusConfig(url=url.rstrip("/"), tick=tick, timeout=timeout,
                                  headers=headers, retries=retries, authorization=auth,
                                  basic_auth=basic, tls=tls, proxy_url=proxy)


def _headers(read: fields.Reader, node: Node, environ: Mapping[str, str]) -> dict[str, str]:
    raw = read.string_map(node, "prometheus.headers")
    if raw is None or not isinstance(node, Map):
        return {}
    resolved: dict[str, str] = {}
    for name, value in raw.items():
        path = probs.key_path("prometheus.headers", name)
        line = node.entries[name][0]
        if _HEADER_NAME.fullmatch(name) is None:
            read.problems.add(path, line, f"{name!r} is not a valid HTTP header name")
        text, missing = document.expand(value, environ)
        for variable in missing:
            read.problems.add(path, line, f"environment variable {variable} is not set; "
                              f"export it before running, or remove the header", "env")
        resolved[name] = text
    return resolved


def abort(read: fields.Reader, node: Node | None, tick: float,
          steady: model.SteadyState | None = None) -> model.AbortPolicy:
    """``steady`` lends its ratio probe to a ``burn-rate`` condition that names no events."""
    if node is None:
        return model.AbortPolicy()
    items = read.sequence(node, "abort", what="abort conditions") or []
    guardrail = False
    no_data: int | None = None
    alerts: list[str] = []
    burn_rates: list[model.BurnRate] = []
    for index, item in enumerate(items):
        path = probs.index_path("abort", index)
        if isinstance(item, Scalar) and isinstance(item.value, str):
            if item.value == "guardrail":
                guardrail = True
            elif item.value != "steady-state":
                read.fail(item, path, probs.unknown_message(
                    "abort condition", item.value, (*_ABORT_WORDS, *_ABORT_KEYS)), "unknown")
            continue
        values = read.mapping(item, path, allowed=_ABORT_KEYS, what="abort condition")
        if values is None:
            continue
        if len(values) != 1:
            read.fail(item, path, "each abort item holds one condition: "
                      "'no-data: 3 ticks', 'alert: <PromQL>' or 'burn-rate: {...}'", "conflict")
        if "burn-rate" in values:
            rule = slo.burn_rate(read, values["burn-rate"], f"{path}.burn-rate",
                                 probes=steady.probes if steady is not None else ())
            if rule is not None:
                burn_rates.append(rule)
        if "no-data" in values:
            if no_data is not None:
                read.fail(values["no-data"], f"{path}.no-data", "no-data is given twice",
                          "duplicate")
            no_data = _no_data(read, values["no-data"], f"{path}.no-data", tick) or no_data
        if "alert" in values:
            query = read.string(values["alert"], f"{path}.alert", what="a PromQL alert query")
            if query is not None and (bad := syntax.promql(query)) is not None:
                read.fail(values["alert"], f"{path}.alert", bad)
            elif query is not None:
                alerts.append(query.strip())
    default = model.AbortPolicy.no_data_ticks
    return model.AbortPolicy(guardrail=guardrail, alerts=tuple(alerts),
                             no_data_ticks=default if no_data is None else no_data,
                             burn_rates=tuple(burn_rates))


def _no_data(read: fields.Reader, node: Node, path: str, tick: float) -> int | None:
    """``3``, ``"3 ticks"`` or a duration such as ``45s`` (rounded up to whole ticks)."""
    if isinstance(node, Scalar) and isinstance(node.value, str):
        match = _TICKS.fullmatch(node.value)
        if match is not None:
            node = Scalar(int(match.group(1)), node.text, node.line)
        else:
            seconds = read.duration(node, path)
            return None if seconds is None else probes.ticks(seconds, tick)
    return read.integer(node, path, low=1)


def recovery(read: fields.Reader, node: Node | None, tick: float) -> model.Recovery:
    if node is None:
        return model.Recovery()
    values = read.mapping(node, "recovery", allowed=("within",), required=("within",))
    if values is None or "within" not in values:
        return model.Recovery()
    within = read.duration(values["within"], "recovery.within")
    if within is not None and within < tick:
        read.fail(values["within"], "recovery.within", f"the recovery window ({within:g}s) is "
                  f"shorter than one tick ({tick:g}s); give it at least one tick")
    return model.Recovery(within=within)
