"""Loading Chaos Toolkit experiments: every problem at once, nothing imported or run.

The corpus (tests/ctk/corpus) validates under both ``chaos validate`` and gameday; these
are the refusals and mappings gameday adds: path and line for every problem, vault and
other secret backends refused naming the key, keys chaos would accept and ignore refused
with the reason, refs resolved as chaoslib's cache resolves them, and the mapping into
the engine's model (faults, method steps, the rollback group, strategies).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner import errors
from runner.model import experiment as model
from runner.model import loader
from tests.ctk import conftest as ctk


def check(doc: dict[str, Any]) -> list[tuple[str, int | None, str]]:
    text = json.dumps({"title": "t", "description": "d", "method": [], **doc}, indent=1)
    return [(p.path, p.line, p.message) for p in loader.check_text(text, "<test>")]


def load(doc: dict[str, Any]) -> model.Experiment:
    text = json.dumps({"title": "t", "description": "d", "method": [], **doc}, indent=1)
    return loader.load_text(text, "<test>")


ACTION = {"type": "action", "name": "a", "provider": {"type": "process", "path": "true"}}


@pytest.mark.parametrize("path", sorted(ctk.CORPUS.iterdir()), ids=lambda p: p.name)
def test_every_corpus_experiment_validates_and_maps_into_the_model(path: Path) -> None:
    assert loader.check(path) == []
    exp = loader.load(path)
    assert exp.method is not None and exp.ctk is not None
    assert [f.name for f in exp.faults] == [s.name for s in exp.method.actions]
    assert "method" in exp.document


def test_every_problem_is_reported_at_once_with_its_path_and_line() -> None:
    found = check({
        "secrets": {"k8s": {"token": {"type": "vault", "path": "a/b"}}},
        "steady-state-hypothesis": {"title": "h", "probes": [
            {"type": "probe", "name": "p", "tolerance": 1.5,
             "provider": {"type": "http", "url": "http://x"}}]},
        "method": [{**ACTION, "timeout": 3}, {"ref": "nope"},
                   {**ACTION, "pauses": {"after": "soon"}}],
        "rollbacks": [{**ACTION, "background": True}],
        "runtime": {"rollbacks": {"strategy": "sometimes"}},
        "tittle": "typo",
    })
    assert [p for p, _line, _m in found] == [  # in file order
        "method[0].timeout", "method[1].ref", "method[2].pauses.after",
        "secrets.k8s.token.type", "steady-state-hypothesis.probes[0].tolerance",
        "rollbacks[0].background", "runtime.rollbacks.strategy", "tittle"]
    assert all(line is not None for _p, line, _m in found)
    messages = " | ".join(m for _p, _l, m in found)
    assert "did you mean 'title'" in messages
    assert "reads no secret store" in messages and "Vault" in messages
    assert "provider.timeout" in messages


def test_a_vault_secret_is_refused_naming_its_key_when_loading() -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        load({"secrets": {"db": {"password": {"type": "vault", "path": "secret/db"}}}})
    assert caught.value.exit_code == errors.ExitCode.INVALID
    assert "secrets.db.password.type" in caught.value.message
    assert "{type: env, key: NAME}" in caught.value.message


def test_validation_never_imports_or_runs_a_provider(tmp_path: Path) -> None:
    (tmp_path / "sneaky.py").write_text(
        f"open({str(tmp_path / 'imported')!r}, 'w').write('x')\ndef f(): pass\n")
    doc = {"method": [{"type": "action", "name": "x", "provider": {
        "type": "python", "module": "sneaky", "func": "f"}}],
        "controls": [{"name": "c", "provider": {"type": "python", "module": "sneaky"}}]}
    assert check(doc) == []
    assert not (tmp_path / "imported").exists()


def test_a_ref_resolves_like_chaoslibs_cache_the_hypothesis_probe_winning() -> None:
    probe = {"type": "probe", "name": "same", "tolerance": True,
             "provider": {"type": "python", "module": "os.path", "func": "exists",
                          "arguments": {"path": "/"}}}
    exp = load({"steady-state-hypothesis": {"title": "h", "probes": [probe]},
                "method": [{**ACTION, "name": "same"}, {"ref": "same"}],
                "rollbacks": [{"ref": "same"}]})
    assert exp.method is not None
    assert exp.method.steps[1].activity["type"] == "probe"  # the later (hypothesis) one
    assert exp.method.steps[1].checked
    assert exp.method.rollbacks[0]["name"] == "same"


def test_the_method_maps_onto_steps_pauses_background_and_the_rollback_group() -> None:
    exp = load({"configuration": {"wait": 2},
                "method": [{**ACTION, "pauses": {"before": 1, "after": "${wait}"},
                            "background": True},
                           {"type": "probe", "name": "p", "tolerance": 0,
                            "provider": {"type": "process", "path": "true"}}],
                "rollbacks": [ACTION, {**ACTION, "name": "b"}],
                "runtime": {"hypothesis": {"strategy": "continously"},
                            "rollbacks": {"strategy": "deviated"}}})
    method = exp.method
    assert method is not None
    first, probe = method.steps
    assert (first.kind, first.background, first.pause_before, first.pause_after) == (
        "action", True, 1, "${wait}")
    assert (probe.kind, probe.checked) == ("probe", True)
    assert [r["name"] for r in method.rollbacks] == ["a", "b"]
    assert (method.hypothesis_strategy, method.rollback_strategy) == ("continuously",
                                                                      "deviated")
    assert exp.steady_state.probes == () and exp.duration == 0.0


def test_inline_secrets_never_reach_the_journaled_document() -> None:
    exp = load({"secrets": {"api": {"token": "hunter2-is-secret"}}})
    assert "hunter2-is-secret" not in json.dumps(exp.document)
    assert exp.ctk is not None and exp.ctk.secrets["api"]["token"] == "hunter2-is-secret"


def test_the_gameday_extension_adds_native_probes_and_reports_problems_under_its_path() -> None:
    native = {"name": "gameday", "target": {"platform": "local"},
              "prometheus": {"url": "sandbox", "tick": "1s"}, "duration": "5s",
              "steady_state": {"baseline": "3s", "probes": [
                  {"name": "errors", "ratio": {"errors": 'e{code="500"}', "total": "t"},
                   "max": 0.01}]}}
    exp = load({"extensions": [{"name": "other", "anything": 1}, native]})
    assert [p.name for p in exp.steady_state.probes] == ["errors"]
    assert exp.duration == 5.0 and exp.prometheus.tick == 1.0
    assert exp.ctk is not None and exp.ctk.target_given
    found = check({"extensions": [{**native, "duration": "soon", "abort": ["nope"]}]})
    assert {p for p, _l, _m in found} >= {"extensions[0].duration", "extensions[0].abort[0]"}


def test_native_faults_refuse_method_only_keys_instead_of_ignoring_them() -> None:
    text = """
title: native
steady_state:
  probes: [{name: e, ratio: {errors: 'a{c="5"}', total: b}, max: 0.01}]
faults:
  - action: {provider: {type: process, path: "true"}, pauses: {after: 1}, background: true}
duration: 1m
"""
    found = [(p.path, p.message) for p in loader.check_text(text, "<native>")]
    assert [p for p, _m in found] == ["faults[0].action.pauses", "faults[0].action.background"]
    assert all("Chaos Toolkit method feature" in m for _p, m in found)


def test_validating_a_chaos_toolkit_file_imports_no_client_and_no_chaoslib() -> None:
    import subprocess
    import sys

    probe = ("import sys; from runner.model import loader; loader.load(sys.argv[1]); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('chaoslib', "
             "'chaosaddons', 'numpy', 'requests', 'click', 'tests')))")
    done = subprocess.run([sys.executable, "-c", probe, str(ctk.CORPUS / "17-controls.json")],
                          capture_output=True, text=True, check=True, timeout=60,
                          env=ctk.env_for(Path("/nonexistent"), "-"))
    assert done.stdout.strip() == "[]"


def test_ready_replicas_in_the_extension_on_kubernetes_is_refused_not_ignored() -> None:
    found = check({"extensions": [{
        "name": "gameday", "target": {"platform": "kubernetes", "namespace": "shop",
                                      "selector": "app=x"},
        "blast_radius": {"max_pods": 1, "namespaces": ["shop"]},
        "prometheus": {"url": "http://127.0.0.1:9090"},
        "steady_state": {"probes": [
            {"name": "errors", "ratio": {"errors": 'e{c="5"}', "total": "t"}, "max": 0.01},
            {"name": "ready", "ready_replicas": {"workload": "checkout"}, "min": 2}]}}]})
    assert [p for p, _l, _m in found] == ["extensions[0].steady_state.probes"]
    assert "gauge probe" in found[0][2]
