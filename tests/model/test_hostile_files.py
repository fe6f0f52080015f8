"""Malformed and hostile files: each is refused quickly, with the right path, line and kind.

Every file of ``corpus/`` is listed here with the problems it must produce; a corpus
file without an entry fails the suite, so the corpus and the expectations stay in step.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runner import errors
from runner.model import loader, yamlsafe
from tests.model.conftest import CORPUS, ENV

# file -> [(path, line, kind, a fragment of the message)], in file order.
EXPECTED: dict[str, list[tuple[str, int | None, str, str]]] = {
    "alias_bomb.yaml": [("e[5]", 6, "unsafe", "alias bomb")],
    "python_tag.yaml": [
        ("title", 1, "unsafe", "'!!python/object/apply:os.system' is not allowed on a list")
    ],
    "custom_tag.yaml": [("prometheus.headers.Authorization", 5, "unsafe", "'!vault'")],
    "binary.yaml": [("", None, "file", "looks binary (a NUL byte at line 1)")],
    "utf16.yaml": [("", None, "file", "save it as UTF-8")],
    "latin1.yaml": [("", None, "file", "is not UTF-8 text (byte 0xe9 at line 1)")],
    "control_character.yaml": [("", 1, "yaml", "control character #x0007")],
    "deep_nesting.yaml": [("", 2, "unsafe", "nested deeper than 64 levels")],
    "duplicate_keys.yaml": [
        ("faults[0].latency.delay", 10, "duplicate", "duplicate key 'delay' (first at line 8)")
    ],
    "multi_document.yaml": [("", 5, "unsafe", "more than one YAML document")],
    "empty.yaml": [("", None, "missing", "the file is empty")],
    "comments_only.yaml": [("", None, "missing", "the file is empty")],
    "top_level_list.yaml": [("", 1, "type", "top level must be a mapping")],
    "syntax_error.yaml": [("", 6, "yaml", "flow mapping that starts at line 5")],
    "unknown_key_typo.yaml": [
        ("faults[1].latency.delai", 8, "unknown", "unknown key 'delai' — did you mean 'delay'?")
    ],
    "wrong_types.yaml": [
        ("title", 1, "type", "found a list"),
        ("steady_state.alpha", 3, "type", "expected a number, found 'high'"),
        ("faults[0].pod-kill.count", 8, "type", "expected a whole number, found 'two'"),
    ],
    "bad_durations.yaml": [
        ("prometheus.tick", 2, "value", "found '15x'"),
        ("steady_state.probes[0].max", 7, "value", "found '300 ms'"),
        ("duration", 10, "value", "found '5 minutes'"),
    ],
    "negative_count.yaml": [("faults[0].pod-kill.count", 7, "value", "at least 1, found -1")],
    "count_and_fraction.yaml": [("faults[0].pod-kill", 8, "conflict", "not both")],
    "missing_title.yaml": [("title", 1, "missing", "'title' is required")],
    "bad_alpha.yaml": [("steady_state.alpha", 3, "value", "less than 0.5, found 0.5")],
    "unknown_fault_kind.yaml": [("faults[0].cpu-hog", 7, "unknown", "pod-kill, latency or action")],
    "action_without_provider.yaml": [
        ("faults[0].action.provider", 8, "missing", "'provider' is required")
    ],
    "action_probe_type.yaml": [("faults[0].action.type", 8, "value", "not a 'probe'")],
    "recursive_alias.yaml": [("loop[1]", 2, "unsafe", "points into itself")],
    "undefined_alias.yaml": [  # the tree is whole, so the schema is checked too
        ("title", 1, "yaml", "no anchor &nowhere"),
        ("steady_state", 1, "missing", "'steady_state' is required"),
        ("faults", 1, "missing", "'faults' is required"),
        ("duration", 1, "missing", "'duration' is required"),
    ],
    "duplicate_probe_names.yaml": [
        ("steady_state.probes[1].name", 6, "duplicate", "'errors' is already used")
    ],
    "chaos_toolkit.json": [("secrets.app.token.type", 5, "unknown", "reads no secret store")],
    "missing_env.yaml": [
        ("prometheus.headers.Authorization", 5, "env", "GAMEDAY_TEST_SURELY_UNSET is not set")
    ],
    "outside_blast_radius.yaml": [
        ("faults[0].pod-kill.namespace", 10, "conflict", "outside blast_radius.namespaces")
    ],
    "four_problems.yaml": [
        ("steady_state.alpha", 3, "value", "found 2"),
        ("steady_state.probes[0].wieght", 7, "unknown", "did you mean 'weight'?"),
        ("faults[0].pod-kill.count", 9, "value", "at least 1, found 0"),
        ("duration", 10, "value", "found 'soon'"),
    ],
    "expression_not_selector.yaml": [
        ("steady_state.probes[0].ratio.errors", 6, "value", "do not wrap it in rate()")
    ],
    "short_baseline.yaml": [("steady_state.baseline", 4, "value", "at least 3 ticks")],
}


def test_the_corpus_has_at_least_twenty_files_and_each_has_expectations() -> None:
    files = sorted(p.name for p in CORPUS.iterdir())
    assert len(files) >= 20
    assert set(files) == set(EXPECTED)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_file_reports_its_problems_with_path_line_and_kind(name: str) -> None:
    found = loader.check(CORPUS / name, environ=ENV)
    assert [(p.path, p.line, p.kind) for p in found] == [e[:3] for e in EXPECTED[name]]
    for problem, (*_where, fragment) in zip(found, EXPECTED[name], strict=True):
        assert fragment in problem.message


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loading_a_corpus_file_raises_an_input_error_that_names_the_file(name: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        loader.load(CORPUS / name, environ=ENV)
    assert caught.value.exit_code == errors.ExitCode.INVALID
    assert name in caught.value.message
    assert "Traceback" not in caught.value.message


def test_a_validation_failure_lists_every_problem_in_one_message() -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        loader.load(CORPUS / "four_problems.yaml", environ=ENV)
    failure = caught.value
    assert len(failure.problems) == 4
    assert failure.message.splitlines()[0].endswith("4 problems found; nothing was run.")
    assert "  - faults[0].pod-kill.count (line 9): must be at least 1, found 0" in failure.message


def test_a_python_tag_is_never_constructed(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    text = f'title: !!python/object/apply:os.system ["touch {sentinel}"]\n'
    problems = loader.check_text(text, "<python tag>")
    assert [(p.path, p.kind) for p in problems if p.path == "title"] == [("title", "unsafe")]
    assert not sentinel.exists()


@pytest.mark.timeout(10)
def test_a_file_over_one_mebibyte_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:  # sparse: refused from its size, never read
        stream.truncate(yamlsafe.MAX_BYTES + 1)
    with pytest.raises(errors.InputError, match=r"larger than 1024 KiB \(1048577 bytes\)"):
        loader.load(huge)


@pytest.mark.timeout(10)
def test_a_huge_text_given_in_memory_is_refused_too() -> None:
    text = "title: x\n" + "# padding\n" * (yamlsafe.MAX_BYTES // 10 + 1)
    with pytest.raises(errors.InputError, match="larger than 1024 KiB"):
        loader.load_text(text, "<huge>")


@pytest.mark.timeout(10)
def test_a_document_of_a_million_values_stops_at_the_value_cap() -> None:
    text = "title: x\nlist: [" + ",".join(["1"] * 300_000) + "]\n"
    problems = loader.check_text(text, "<many>")
    assert [(p.kind, p.line) for p in problems] == [("unsafe", 2)]
    assert "more than 50000 values" in problems[0].message


@pytest.mark.timeout(10)
def test_nesting_a_hundred_thousand_levels_deep_is_refused_without_recursion() -> None:
    problems = loader.check_text("a: " + "[" * 100_000, "<deep>")
    assert [(p.kind, p.line) for p in problems] == [("unsafe", 1)]


@pytest.mark.timeout(10)
def test_a_device_that_never_ends_is_read_only_up_to_the_cap() -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero on this system")
    with pytest.raises(errors.InputError, match="larger than 1024 KiB"):
        loader.load("/dev/zero")


def test_a_directory_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="is a directory; give the path of an"):
        loader.load(tmp_path)


def test_a_missing_file_is_an_input_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(errors.InputError, match=r"nope\.yaml: no such file"):
        loader.load(missing)
    assert [p.kind for p in loader.check(missing)] == ["file"]


def test_a_file_without_read_permission_is_an_input_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file, so permissions cannot be tested as root")
    locked = tmp_path / "locked.yaml"
    locked.write_text("title: x\n")
    locked.chmod(0)
    try:
        with pytest.raises(errors.InputError, match="permission denied"):
            loader.load(locked)
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_a_long_hostile_value_is_cut_short_in_the_message() -> None:
    text = "title: x\nduration: " + "z" * 100_000 + "\n"
    problems = loader.check_text(text, "<long>")
    duration = [p for p in problems if p.path == "duration"]
    assert len(duration) == 1
    assert len(str(duration[0])) < 300
