"""Validation rules, one small document each: the problem lands on the right path and line.

Each case is a minimal valid local experiment with one section replaced, so the only
problems reported are the ones the case is about.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import errors
from runner.model import loader
from tests.model.conftest import problems_of

PROBES = """\
steady_state:
  probes:
    - name: error ratio
      ratio: {errors: errors_total, total: requests_total}
"""
FAULTS = """\
faults:
  - pod-kill: {count: 1}
"""
TAIL = "duration: 1m\n"


def document(
    *, head: str = "", probes: str = PROBES, faults: str = FAULTS, tail: str = TAIL
) -> str:
    """title on line 1, then ``head``, the probes, the faults and the tail, in that order."""
    return "title: a case\n" + head + probes + faults + tail


def test_the_base_document_is_valid() -> None:
    assert problems_of(document()) == []


CASES: list[tuple[str, str, tuple[str, int, str]]] = [
    # (what, document, expected (path, line, kind))
    ("version must be 1", document(head="version: 2\n"), ("version", 2, "value")),
    ("a bool is not a version", document(head="version: true\n"), ("version", 2, "type")),
    ("an unknown top-level key gets a suggestion",
     document(head="steady_stat: {}\n"), ("steady_stat", 2, "unknown")),
    ("platform is local or kubernetes",
     document(head="target: {platform: k8s}\n"), ("target.platform", 2, "value")),
    ("a selector must parse",
     document(head="target: {selector: 'app in web'}\n"), ("target.selector", 2, "value")),
    ("kubernetes needs an allow-list of namespaces",
     document(head="target: {platform: kubernetes, namespace: shop}\n"
              "prometheus: {url: 'http://p:9090'}\n",
              faults="faults:\n  - pod-kill: {selector: app=x}\n"),
     ("blast_radius", 1, "missing")),
    ("kubernetes needs a real Prometheus URL",
     document(head="target: {platform: kubernetes, namespace: shop, selector: app=x}\n"
              "blast_radius: {namespaces: [shop]}\n"),
     ("prometheus.url", 1, "missing")),
    ("a kubernetes fault needs a namespace",
     document(head="target: {platform: kubernetes, selector: app=x}\n"
              "blast_radius: {namespaces: [shop]}\nprometheus: {url: 'http://p:9090'}\n"),
     ("faults[0].pod-kill", 10, "missing")),
    ("production needs allow_production",
     document(head="target: {platform: kubernetes, namespace: prod, selector: app=x}\n"
              "blast_radius: {namespaces: [prod]}\nprometheus: {url: 'http://p:9090'}\n"),
     ("target.namespace", 2, "conflict")),
    ("count above max_pods",
     document(head="blast_radius: {max_pods: 1}\n",
              faults="faults:\n  - pod-kill: {count: 2}\n"),
     ("faults[0].pod-kill.count", 8, "conflict")),
    ("fraction above max_fraction",
     document(head="blast_radius: {max_fraction: 0.25}\n",
              faults="faults:\n  - pod-kill: {fraction: 50%}\n"),
     ("faults[0].pod-kill.fraction", 8, "conflict")),
    ("a URL needs a scheme and a host",
     document(head="prometheus: {url: 'prometheus:9090'}\n"), ("prometheus.url", 2, "value")),
    ("a timeout longer than the tick",
     document(head="prometheus: {tick: 5s, timeout: 6s}\n"), ("prometheus.timeout", 2, "conflict")),
    ("a header value is text", document(head="prometheus: {headers: {X-Org: [1]}}\n"),
     ("prometheus.headers.X-Org", 2, "type")),
    ("a header name is a token",
     document(head="prometheus: {headers: {'bad header': x}}\n"),
     ('prometheus.headers["bad header"]', 2, "value")),
    ("min_effect above one",
     document(probes=PROBES.replace("  probes:", "  min_effect: 1\n  probes:")),
     ("steady_state.min_effect", 3, "value")),
    ("a probe without a kind",
     document(probes="steady_state:\n  probes:\n    - name: x\n      max: 1%\n"),
     ("steady_state.probes[0]", 4, "missing")),
    ("a probe without a name", document(probes=PROBES.replace("name: error ratio", "weight: 1")),
     ("steady_state.probes[0].name", 4, "missing")),
    ("a ratio max is below 1",
     document(probes=PROBES + "      max: 1.5\n"), ("steady_state.probes[0].max", 6, "value")),
    ("a ratio max of 0 is refused",
     document(probes=PROBES + "      max: 0%\n"), ("steady_state.probes[0].max", 6, "value")),
    ("weights are positive",
     document(probes=PROBES + "      weight: 0\n"), ("steady_state.probes[0].weight", 6, "value")),
    ("mode is default or fast",
     document(probes=PROBES + "      mode: turbo\n"), ("steady_state.probes[0].mode", 6, "value")),
    ("a ratio probe takes no min",
     document(probes=PROBES + "      min: 1\n"), ("steady_state.probes[0].min", 6, "unknown")),
    ("a latency probe needs max",
     document(probes=PROBES + "    - name: p99\n      latency: {histogram: h_seconds}\n"),
     ("steady_state.probes[1]", 7, "missing")),
    ("a latency threshold without a unit is refused, not read as seconds",
     document(probes=PROBES + "    - name: p99\n      latency: {histogram: h_seconds}\n"
              "      max: 300\n"),
     ("steady_state.probes[1].max", 8, "value")),
    ("a quantile lies strictly inside 0..1",
     document(probes=PROBES + "    - name: p99\n      latency: {histogram: h}\n"
              "      quantile: 1\n      max: 1s\n"),
     ("steady_state.probes[1].quantile", 8, "value")),
    ("latency matchers are in braces",
     document(probes=PROBES + "    - name: p99\n      latency: {histogram: h, match: 'app=x'}\n"
              "      max: 1s\n"),
     ("steady_state.probes[1].latency.match", 7, "value")),
    ("a gauge min above its max",
     document(probes=PROBES + "    - name: g\n      gauge: up\n      min: 3\n      max: 2\n"),
     ("steady_state.probes[1].min", 8, "conflict")),
    ("guardrails alone are not a steady state",
     document(probes="steady_state:\n  probes:\n    - name: g\n      gauge: up\n      min: 1\n"),
     ("steady_state.probes", 4, "missing")),
    ("ready_replicas kind is Deployment or StatefulSet",
     document(probes=PROBES + "    - name: r\n      ready_replicas: {workload: w, kind: Pod}\n"),
     ("steady_state.probes[1].ready_replicas.kind", 7, "value")),
    ("an empty probe list", document(probes="steady_state:\n  probes: []\n"),
     ("steady_state.probes", 3, "missing")),
    ("an empty fault list", document(faults="faults: []\n"), ("faults", 6, "missing")),
    ("a fault is a mapping", document(faults="faults:\n  - pod-kill\n"), ("faults[0]", 7, "type")),
    ("two kinds in one fault",
     document(faults="faults:\n  - pod-kill: {}\n    latency: {delay: 1s}\n"),
     ("faults[0]", 7, "conflict")),
    ("revert only on actions",
     document(faults="faults:\n  - pod-kill: {}\n    revert: {}\n"),
     ("faults[0].revert", 8, "conflict")),
    ("explicit fault names are unique",
     document(faults="faults:\n  - pod-kill: {}\n    name: k\n  - pod-kill: {}\n    name: k\n"),
     ("faults[1].name", 9, "duplicate")),
    ("a fraction of zero", document(faults="faults:\n  - pod-kill: {fraction: 0}\n"),
     ("faults[0].pod-kill.fraction", 7, "value")),
    ("a latency direction",
     document(faults="faults:\n  - latency: {delay: 1s, direction: up}\n"),
     ("faults[0].latency.direction", 7, "value")),
    ("a zero delay", document(faults="faults:\n  - latency: {delay: 0s}\n"),
     ("faults[0].latency.delay", 7, "value")),
    ("a provider type", document(faults="faults:\n  - action: {provider: {type: shell}}\n"),
     ("faults[0].action.provider.type", 7, "value")),
    ("a python provider needs func",
     document(faults="faults:\n  - action: {provider: {type: python, module: m}}\n"),
     ("faults[0].action.provider.func", 7, "missing")),
    ("python arguments are a mapping",
     document(faults="faults:\n  - action: {provider: {type: python, module: m, func: f, "
              "arguments: [1]}}\n"),
     ("faults[0].action.provider.arguments", 7, "type")),
    ("a process provider takes no func",
     document(faults="faults:\n  - action: {provider: {type: process, path: /bin/true, "
              "func: f}}\n"),
     ("faults[0].action.provider.func", 7, "unknown")),
    ("an http provider needs a URL",
     document(faults="faults:\n  - action: {provider: {type: http, url: 'ftp://x'}}\n"),
     ("faults[0].action.provider.url", 7, "value")),
    ("a zero duration", document(tail="duration: 0\n"), ("duration", 8, "value")),
    ("a window shorter than a tick", document(tail="duration: 5s\n"), ("duration", 8, "value")),
    ("an unknown abort condition",
     document(tail=TAIL + "abort: [alerts]\n"), ("abort[0]", 9, "unknown")),
    ("an abort item with two conditions",
     document(tail=TAIL + "abort: [{no-data: 3, alert: up}]\n"), ("abort[0]", 9, "conflict")),
    ("recovery within a tick",
     document(tail=TAIL + "recovery: {within: 1s}\n"), ("recovery.within", 9, "value")),
    ("a seed is a whole number", document(tail=TAIL + "seed: 1.5\n"), ("seed", 9, "type")),
    ("a quoted number is not a number",
     document(probes=PROBES.replace("probes:", "alpha: '0.01'\n  probes:")),
     ("steady_state.alpha", 3, "type")),
]


@pytest.mark.parametrize(("what", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_reports_one_problem_on_the_right_path_and_line(
    what: str, text: str, expected: tuple[str, int, str]
) -> None:
    assert problems_of(text) == [expected], what


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = document(
        head="version: 3\n",
        probes=PROBES + "      mode: turbo\n",
        faults="faults:\n  - latency: {delai: 1s}\n",
        tail="duration: never\n",
    )
    assert problems_of(text) == [
        ("version", 2, "value"),
        ("steady_state.probes[0].mode", 7, "value"),
        ("faults[0].latency.delai", 9, "unknown"),
        ("duration", 10, "value"),
    ]


def test_an_unknown_key_is_answered_with_the_closest_known_one() -> None:
    text = document(faults="faults:\n  - pod-kill: {cuont: 1}\n")
    (problem,) = loader.check_text(text, "<typo>")
    assert str(problem) == (
        "faults[0].pod-kill.cuont (line 7): unknown key 'cuont' — did you mean 'count'?"
    )


def test_a_typo_of_a_required_key_is_reported_once_not_twice() -> None:
    text = document(faults="faults:\n  - latency: {dealy: 1s}\n")
    assert problems_of(text) == [("faults[0].latency.dealy", 7, "unknown")]


def test_a_duplicate_key_and_a_schema_problem_are_both_reported() -> None:
    text = document(tail="duration: 1m\nduration: 2m\nseed: x\n")
    assert problems_of(text) == [("duration", 9, "duplicate"), ("seed", 10, "type")]


def test_default_fault_names_are_made_unique_without_touching_explicit_ones() -> None:
    faults = (
        "faults:\n  - pod-kill: {}\n  - pod-kill: {}\n    name: pod-kill-2\n  - pod-kill: {}\n"
    )
    loaded = loader.load_text(document(faults=faults), "<names>", environ={})
    assert [f.name for f in loaded.faults] == ["pod-kill", "pod-kill-2", "pod-kill-3"]


def test_a_game_day_file_given_as_an_experiment_is_named_for_what_it_is() -> None:
    day = Path(__file__).resolve().parents[2] / "experiments" / "day-local.yaml"
    found = loader.check(day)
    assert [(p.path, p.line) for p in found] == [("kind", 5)], found
    assert "gameday day run" in found[0].message
    with pytest.raises(errors.ValidationFailed):
        loader.load(day)
