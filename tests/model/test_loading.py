"""Loading valid experiments: the file becomes exactly the dataclasses the engine runs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from runner import errors
from runner.model import experiment as model
from runner.model import loader
from tests.model.conftest import ENV, VALID

FULL = model.Experiment(
    title="Checkout survives losing one of three pods",
    owner="payments-sre",
    description="A pod kill, added latency and a scale-down, watched by three probes.",
    target=model.Target("kubernetes", "shop-staging", "app=checkout", "staging"),
    blast_radius=model.BlastRadius(2, 0.5, ("shop-staging",), False),
    prometheus=model.PrometheusConfig(
        url="http://prometheus:9090",
        tick=15.0,
        timeout=4.0,
        headers={"Authorization": "Bearer s3cr3t-token", "X-Scope-OrgID": "tenant-1"},
    ),
    steady_state=model.SteadyState(
        alpha=0.01,
        baseline=300.0,
        min_effect=3.0,
        probes=(
            model.RatioProbe(
                "checkout error ratio",
                'http_requests_total{app="checkout",code=~"5.."}',
                'http_requests_total{app="checkout"}',
                max=0.01,
                weight=2.0,
                mode="fast",
            ),
            model.RatioProbe(
                "checkout errors against the baseline",
                'http_requests_total{code="503"}',
                "http_requests_total",
            ),
            model.LatencyProbe(
                "checkout p99", "http_request_duration_seconds", 0.3, 0.99, '{app="checkout"}'
            ),
            model.GaugeProbe(
                "ready replicas",
                'kube_deployment_status_replicas_available{deployment="checkout"}',
                min=2.0,
                max=3.0,
                for_ticks=3,
            ),
            model.ReadyReplicasProbe(
                "checkout pods ready", "checkout", "StatefulSet", "shop-staging", 2, 1
            ),
        ),
    ),
    faults=(
        model.PodKillFault("app=checkout", 1, None, "shop-staging", 0.0, 7, "pod-kill"),
        model.PodKillFault(
            "app=checkout,tier in (web,api)", None, 0.5, "shop-staging", None, 42, "pod-kill-2"
        ),
        model.LatencyFault(
            "app=checkout", 0.2, 0.02, 25.0, "both", "shop-staging", "slow checkout"
        ),
        model.ActionFault(
            action={
                "provider": {
                    "type": "python",
                    "module": "chaosk8s.deployment.actions",
                    "func": "scale_deployment",
                    "arguments": {"name": "checkout", "replicas": 1, "api_token": "hunter2"},
                },
                "type": "action",
                "name": "scale_deployment",
            },
            revert={
                "name": "scale back",
                "provider": {
                    "type": "python",
                    "module": "chaosk8s.deployment.actions",
                    "func": "scale_deployment",
                    "arguments": {"name": "checkout", "replicas": 3},
                },
                "type": "action",
            },
            name="scale_deployment",
        ),
    ),
    duration=300.0,
    abort=model.AbortPolicy(
        guardrail=True,
        no_data_ticks=3,
        alerts=('ALERTS{alertname="CheckoutDown",alertstate="firing"}',),
    ),
    recovery=model.Recovery(within=150.0),
    seed=42,
)


def test_the_full_example_loads_into_exactly_the_expected_dataclasses() -> None:
    loaded = loader.load(VALID / "full.yaml", environ=ENV)
    bare = dataclasses.replace(loaded, source=FULL.source, document={}, sha256="")
    assert bare == FULL


def test_the_loaded_experiment_records_its_source_and_the_sha256_of_its_bytes() -> None:
    path = VALID / "full.yaml"
    loaded = loader.load(path, environ=ENV)
    assert loaded.source == str(path)
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_document_is_json_able_and_its_secrets_are_redacted() -> None:
    loaded = loader.load(VALID / "full.yaml", environ=ENV)
    text = json.dumps(loaded.document)
    assert "s3cr3t-token" not in text and "hunter2" not in text
    headers = loaded.document["prometheus"]["headers"]
    assert headers == {"Authorization": "<redacted>", "X-Scope-OrgID": "<redacted>"}
    arguments = loaded.document["faults"][3]["action"]["provider"]["arguments"]
    assert arguments == {"name": "checkout", "replicas": 1, "api_token": "<redacted>"}
    assert loaded.document["steady_state"]["baseline"] == "5m"  # as written, not as parsed


def test_header_environment_references_are_resolved_from_the_given_environment() -> None:
    loaded = loader.load(VALID / "full.yaml", environ={"GAMEDAY_PROM_TOKEN": "abc"})
    assert loaded.prometheus.headers["Authorization"] == "Bearer abc"


def test_an_unset_header_variable_is_a_problem_at_the_header() -> None:
    problems = loader.check(VALID / "full.yaml", environ={})
    assert [(p.path, p.line, p.kind) for p in problems] == [
        ("prometheus.headers.Authorization", 13, "env")
    ]


def test_a_minimal_local_experiment_takes_the_documented_defaults() -> None:
    loaded = loader.load(VALID / "local_minimal.yaml", environ={})
    assert loaded.target == model.Target()
    assert loaded.prometheus == model.PrometheusConfig(url="sandbox", tick=15.0, timeout=5.0)
    assert loaded.steady_state.alpha == 0.05 and loaded.steady_state.baseline == 60.0
    assert loaded.faults == (model.PodKillFault(count=1),)
    assert loaded.abort == model.AbortPolicy()
    assert loaded.recovery == model.Recovery()
    assert loaded.duration == 60.0


def test_anchors_merge_keys_and_x_extension_keys_are_understood() -> None:
    loaded = loader.load(VALID / "anchors_and_merges.yaml", environ={})
    first, second = loaded.faults
    assert first == model.LatencyFault("app=web", 0.15, 0.01, name="latency")
    assert second == model.LatencyFault("app=api", 0.3, 0.01, name="latency-2")
    ratios = loaded.steady_state.stat_probes
    assert all(isinstance(r, model.RatioProbe) for r in ratios)
    assert [getattr(r, "errors", None) for r in ratios] == ['errors_total{code=~"5.."}'] * 2
    assert ratios[1].max == pytest.approx(0.005)


def test_text_and_bytes_load_alike() -> None:
    data = (VALID / "local_minimal.yaml").read_bytes()
    from_bytes = loader.load_text(data, "demo.yaml", environ={})
    from_text = loader.load_text(data.decode(), "demo.yaml", environ={})
    assert from_bytes == from_text
    assert from_bytes.source == "demo.yaml"


def test_check_returns_nothing_for_a_valid_file() -> None:
    assert loader.check(VALID / "local_minimal.yaml", environ={}) == []


def test_a_timeout_defaults_to_the_tick_when_the_tick_is_shorter_than_five_seconds() -> None:
    text = (VALID / "local_minimal.yaml").read_text() + "prometheus: {tick: 2s}\n"
    text = text.replace("duration: 1m", "duration: 30s")
    loaded = loader.load_text(text, "<tick>", environ={})
    assert (loaded.prometheus.tick, loaded.prometheus.timeout) == (2.0, 2.0)


def test_an_abort_list_turns_the_guardrail_off_unless_it_names_it() -> None:
    base = (VALID / "local_minimal.yaml").read_text()
    listed = loader.load_text(base + "abort: [steady-state, {no-data: 5}]\n", "<a>", environ={})
    assert listed.abort == model.AbortPolicy(guardrail=False, no_data_ticks=5)


def test_no_data_accepts_ticks_a_count_or_a_duration_rounded_up_to_ticks() -> None:
    base = (VALID / "local_minimal.yaml").read_text()
    for written, ticks in (("2 ticks", 2), ("1 tick", 1), ("4", 4), ("20s", 2), ("45s", 3)):
        loaded = loader.load_text(base + f"abort: [{{no-data: {written}}}]\n", "<n>", environ={})
        assert loaded.abort.no_data_ticks == ticks, written


def test_an_action_module_is_never_imported_while_validating() -> None:
    module = "gameday_test_module_that_does_not_exist"
    text = (VALID / "local_minimal.yaml").read_text().replace(
        "  - pod-kill: {}",
        f"  - action: {{provider: {{type: python, module: {module}.actions, func: boom}}}}",
    )
    loaded = loader.load_text(text, "<action>", environ={})
    assert loaded.faults[0].name == "boom"
    assert module not in sys.modules


def test_importing_the_loader_pulls_in_no_heavy_or_forbidden_package() -> None:
    code = (
        "import sys, runner.model.loader\n"
        "heavy = ('numpy', 'scipy', 'chaoslib', 'click', 'kubernetes', 'requests', 'jinja2')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_loading_a_missing_file_never_raises_anything_but_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError) as caught:
        loader.load(tmp_path / "absent.yaml")
    assert not isinstance(caught.value, errors.ValidationFailed)
