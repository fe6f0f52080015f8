"""Label selectors: the kubectl grammar, matching, and the Chaos Mesh/Kubernetes forms."""

from __future__ import annotations

import pytest

from gameday_k8s import selectors


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=checkout", {"app": "checkout"}, True),
        ("app==checkout", {"app": "checkout", "tier": "web"}, True),
        ("app=checkout", {"app": "cart"}, False),
        ("app!=checkout", {}, True),
        ("app!=checkout", {"app": "checkout"}, False),
        ("tier in (web, api)", {"tier": "api"}, True),
        ("tier in (web,api)", {}, False),
        ("tier notin (web,api)", {}, True),
        ("tier notin (web,api)", {"tier": "web"}, False),
        ("canary", {"canary": ""}, True),
        ("!canary", {"canary": "yes"}, False),
        ("app=checkout,tier in (web,api),!canary", {"app": "checkout", "tier": "web"}, True),
        ("app.kubernetes.io/name=shop", {"app.kubernetes.io/name": "shop"}, True),
    ],
)
def test_selectors_match_like_kubectl(selector: str, labels: dict[str, str],
                                      expected: bool) -> None:
    assert selectors.parse(selector).matches(labels) is expected


@pytest.mark.parametrize("text", ["app=", "=x", "app in ()", "app in (a b)", "a=b=c", "@x"])
def test_invalid_selectors_are_rejected_with_the_clause(text: str) -> None:
    if text == "app=":  # an empty value is valid in Kubernetes
        assert selectors.parse(text).matches({"app": ""})
        return
    with pytest.raises(selectors.SelectorError):
        selectors.parse(text)


def test_an_empty_selector_is_recognisable_so_callers_can_refuse_it() -> None:
    assert selectors.parse("  ").is_empty
    assert not selectors.parse("app=x").is_empty


def test_a_selector_prints_back_in_canonical_form() -> None:
    parsed = selectors.parse("app==checkout , tier in (web,api),!canary")
    assert str(parsed) == "app=checkout,tier in (web,api),!canary"
    assert selectors.parse(str(parsed)) == parsed


def test_a_selector_splits_into_chaos_mesh_labels_and_expressions() -> None:
    parsed = selectors.parse("app=cart,tier in (web),!canary,env!=dev")
    assert parsed.equality_labels() == {"app": "cart"}
    assert parsed.expressions() == [
        {"key": "tier", "operator": "In", "values": ["web"]},
        {"key": "canary", "operator": "DoesNotExist"},
        {"key": "env", "operator": "NotIn", "values": ["dev"]},
    ]


def test_a_workload_label_selector_object_becomes_a_selector() -> None:
    body = {"matchLabels": {"app": "db"},
            "matchExpressions": [{"key": "tier", "operator": "Exists"}]}
    parsed = selectors.from_label_selector(body)
    assert str(parsed) == "app=db,tier"
    assert parsed.matches({"app": "db", "tier": "x"})
    assert not parsed.matches({"app": "db"})
