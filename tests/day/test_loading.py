"""A game-day file is validated like an experiment: every problem at once, with its path
and line, unknown keys refused with a suggestion, nothing imported or run; a bad day is
exit 2 before anything starts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner import errors
from runner.day import loader
from tests.day.conftest import ROOT, gameday

EXPERIMENT = """
version: 1
title: {title}
target: {{platform: local, selector: app=demo}}
prometheus: {{url: sandbox, tick: 5s}}
steady_state:
  baseline: 15s
  probes:
    - name: errors
      ratio: {{errors: 'req_total{{code="500"}}', total: req_total}}
      max: 1%
faults: [{{latency: {{delay: 50ms}}}}]
duration: 30s
"""


def day(tmp_path: Path, body: str, *, experiments: tuple[str, ...] = ("a", "b")) -> Path:
    for name in experiments:
        (tmp_path / f"{name}.yaml").write_text(EXPERIMENT.format(title=f"exp {name}"))
    path = tmp_path / "day.yaml"
    path.write_text(textwrap.dedent(body).lstrip())
    return path


def messages(path: Path) -> list[str]:
    return [str(p) for p in loader.check(path)]


def test_a_valid_day_runs_its_experiments_after_what_they_need(tmp_path: Path) -> None:
    path = day(tmp_path, """
        kind: gameday
        title: order
        experiments:
          - {id: second, file: b.yaml, needs: [first]}
          - {id: first, file: a.yaml}
          - {id: third, file: a.yaml, on_broken: continue}
    """)
    loaded = loader.load(path)
    assert [e.id for e in loaded.experiments] == ["first", "second", "third"]
    assert loaded.experiments[1].needs == ("first",)
    assert loaded.experiments[2].on_broken == "continue"
    assert loaded.experiments[0].on_broken == "stop"  # the default
    assert loaded.experiments[0].experiment.title == "exp a"
    assert loaded.sha256 and loaded.experiments[0].file_sha256


def test_defaults_fill_in_and_overrides_win(tmp_path: Path) -> None:
    path = day(tmp_path, """
        kind: gameday
        title: layers
        defaults:
          prometheus: {timeout: 1s}
          steady_state: {alpha: 0.01}
          blast_radius: {max_pods: 1}
        experiments:
          - {id: plain, file: a.yaml}
          - id: tuned
            file: b.yaml
            overrides: {prometheus: {tick: 2s}, steady_state: {alpha: 0.1}, duration: 10s}
    """)
    plain, tuned = loader.load(path).experiments
    assert plain.experiment.prometheus.tick == 5.0  # the experiment's own
    assert plain.experiment.prometheus.timeout == 1.0  # the day's default
    assert plain.experiment.steady_state.alpha == 0.01
    assert plain.experiment.blast_radius.max_pods == 1
    assert tuned.experiment.prometheus.tick == 2.0 and tuned.experiment.duration == 10.0
    assert tuned.experiment.steady_state.alpha == 0.1
    assert tuned.experiment.steady_state.probes == plain.experiment.steady_state.probes


def test_unknown_keys_are_refused_with_a_suggestion_everywhere(tmp_path: Path) -> None:
    path = day(tmp_path, """
        kind: gameday
        title: typos
        experiment:
          - {id: a, file: a.yaml}
        gates:
          - error_budget: {slo: 99%, total: t, bad: b}
    """)
    found = messages(path)
    assert any("'experiment'" in m and "did you mean 'experiments'" in m and "(line 3)" in m
               for m in found), found
    assert any("did you mean 'error-budget'" in m and "(line 6)" in m for m in found), found
    entry = day(tmp_path, """
        kind: gameday
        title: typos
        experiments:
          - {id: a, file: a.yaml, need: [b], onbroken: stop}
          - {id: b, file: b.yaml, overrides: {duraton: 5s}}
    """)
    found = messages(entry)
    assert any("did you mean 'needs'" in m for m in found), found
    assert any("did you mean 'on_broken'" in m for m in found), found
    assert any("overrides.duraton" in m and "did you mean 'duration'" in m for m in found)


def test_a_cycle_in_needs_names_the_cycle(tmp_path: Path) -> None:
    path = day(tmp_path, """
        kind: gameday
        title: cycle
        experiments:
          - {id: a, file: a.yaml, needs: [c]}
          - {id: b, file: b.yaml, needs: [a]}
          - {id: c, file: a.yaml, needs: [b]}
    """)
    (found,) = messages(path)
    assert "need each other" in found and "a → c → b → a" in found, found


def test_duplicate_ids_unknown_needs_and_missing_files_are_all_said_at_once(
        tmp_path: Path) -> None:
    path = day(tmp_path, """
        kind: gameday
        title: many
        experiments:
          - {id: a, file: a.yaml}
          - {id: a, file: b.yaml}
          - {id: c, file: nowhere.yaml, needs: [aa]}
    """)
    found = messages(path)
    assert any("experiments[1].id (line 5)" in m and "already used" in m and "line 4" in m
               for m in found), found
    assert any("experiments[2].needs" in m and "'aa'" in m for m in found), found
    assert any("experiments[2].file (line 6)" in m and "nowhere.yaml: no such file" in m
               and str(tmp_path / "nowhere.yaml") in m for m in found), found


def test_a_problem_in_an_experiment_file_names_the_file_and_its_line(tmp_path: Path) -> None:
    path = day(tmp_path, """
        kind: gameday
        title: inner
        defaults:
          prometheus: {tick: fast}
        experiments:
          - {id: a, file: a.yaml}
          - {id: b, file: b.yaml}
    """)
    (tmp_path / "b.yaml").write_text(EXPERIMENT.format(title="b").replace("50ms", "-5ms"))
    found = messages(path)
    # a problem of the day's defaults is said once, at the day's line, however many inherit
    assert [m for m in found if "fast" in m] == [m for m in found if m.startswith(
        "defaults.prometheus.tick (line 4)")]
    assert len([m for m in found if "fast" in m]) == 1
    assert any(m.startswith("experiments[1] (line 7): in b.yaml, faults[0].latency.delay "
                            "(line 12)") for m in found), found


def test_inline_experiments_are_validated_in_place(tmp_path: Path) -> None:
    path = day(tmp_path, """
        kind: gameday
        title: inline
        experiments:
          - id: here
            inline:
              title: inline one
              steady_state: {probes: [{name: e, ratio: {errors: 'x{c="5"}', total: x}}]}
              faults: [{latency: {delay: 10ms}}]
              duraton: 30s
    """, experiments=())
    found = messages(path)
    assert any(m.startswith("experiments[0].inline.duraton (line 9)") and "'duration'" in m
               for m in found), found


def test_the_window_and_the_gates_are_checked(tmp_path: Path) -> None:
    path = day(tmp_path, """
        kind: gameday
        title: when
        when: {days: [tue, wendsday], hours: "14:00-25:00", timezone: Europe/Berlinn,
               freeze: [2026-13-01, "2026-12-30..2026-12-20"]}
        gates:
          - error-budget: {slo: 120%, total: 'sum(rate(x[5m])', bad: y}
          - burn-rate: {slo: 99.9%, windows: [[5m]]}
        experiments: [{id: a, file: a.yaml}]
    """)
    found = messages(path)
    for expected in ("'wendsday'", "'14:00-25:00' is not an hour range", "Europe/Berlinn",
                     "'2026-13-01' is not a date", "ends before it starts",
                     "gates[0].error-budget.slo", "unclosed '('", "gates[1].burn-rate.windows[0]",
                     "gates[1].burn-rate"):
        assert any(expected in m for m in found), (expected, found)


def test_yaml_that_would_run_code_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = day(tmp_path, f"""
        kind: gameday
        title: !!python/object/apply:os.system ["touch {marker}"]
        experiments: [{{id: a, file: a.yaml}}]
    """)
    found = messages(path)
    assert found and not marker.exists()


@pytest.mark.parametrize("command", ["run", "plan"])
def test_a_malformed_day_is_exit_2_with_every_problem_and_nothing_started(
        tmp_path: Path, home: Path, command: str) -> None:
    path = day(tmp_path, """
        kind: gameday
        title: broken
        experiments:
          - {id: a, file: a.yaml, needs: [b]}
          - {id: b, file: b.yaml, needs: [a]}
          - {id: b, file: missing.yaml}
          - {id: d, file: a.yaml, nedds: []}
    """)
    done = gameday("day", command, path, "--journal-dir", tmp_path / "j", timeout=120) \
        if command == "run" else gameday("day", command, path, timeout=120)
    assert done.returncode == errors.ExitCode.INVALID, done.stdout + done.stderr
    assert "problems found; nothing was run" in done.stderr
    for expected in ("need each other", "already used", "missing.yaml: no such file",
                     "did you mean 'needs'"):
        assert expected in done.stderr, (expected, done.stderr)
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "j").exists()


def test_gameday_validate_reads_day_files_too(tmp_path: Path) -> None:
    good = day(tmp_path, """
        kind: gameday
        title: ok
        experiments: [{id: a, file: a.yaml}]
    """)
    assert gameday("validate", good).returncode == 0
    assert gameday("validate", ROOT / "experiments/day-local.yaml",
                   ROOT / "experiments/day-k8s.yaml").returncode == 0
    good.write_text(good.read_text().replace("file: a.yaml", "file: a.yaml, on_broken: halt"))
    bad = gameday("validate", good)
    assert bad.returncode == 2 and "on_broken" in bad.stderr and "halt" in bad.stderr
