"""``chaos report`` (chaostoolkit-reporting) renders gameday's ``chaostoolkit-journal.json``.

The Chaos Toolkit run's journal is made by a real ``gameday run``; a native run's by the
engine on its fakes (tests/engine). Both go through chaostoolkit-reporting: its
``generate_report`` (the part that reads the journal; it crashed with ``KeyError:
'method'`` before), and the ``chaos report`` command itself when pandoc is there.
Skipped, saying so, where chaostoolkit-reporting is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runner import report
from tests.ctk import conftest as ctk
from tests.engine import conftest as engine

pytestmark = pytest.mark.skipif(importlib.util.find_spec("chaosreport") is None,
                                reason="chaostoolkit-reporting is not installed "
                                "(pip install -e '.[test]' installs it)")


_RENDER = """
import json, sys
import chaosreport
print(chaosreport.generate_report(json.load(open(sys.argv[1])), "markdown"))
"""


def _render(journal: dict[str, Any], tmp: Path) -> str:
    """chaosreport's rendering, in its own process (importing it installs an import hook
    that warns on every later import)."""
    path = tmp / "for-chaosreport.json"
    path.write_text(json.dumps(journal))
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", _RENDER, str(path)],
                          capture_output=True, text=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_chaos_report_renders_the_journal_of_a_chaos_toolkit_run(tmp_path: Path,
                                                                  base: str) -> None:
    ran = ctk.run_gameday(ctk.CORPUS / "03-break-and-fix.json", tmp_path, base)
    assert ran.code == 1 and ran.journal is not None and ran.run_dir is not None
    text = _render(ran.journal, tmp_path)
    assert "What is the impact of the backend failing on the front service?" in text
    assert "break-the-backend" in text and "front-service-must-be-ok" in text
    assert ran.journal["deviated"] is True
    assert ran.journal["steady_states"]["before"]["steady_state_met"] is True
    assert any(not s["steady_state_met"] for s in ran.journal["steady_states"]["during"])
    assert [r["activity"]["name"] for r in ran.journal["rollbacks"]] == ["fix-the-backend"]
    try:
        import pypandoc

        pypandoc.get_pandoc_version()
    except (ImportError, OSError):
        pytest.skip("pandoc is not installed: chaos report converts with it "
                    "(pip install pypandoc-binary)")
    out = tmp_path / "report.md"
    done = subprocess.run(["chaos", "--no-version-check", "--no-log-file", "report",
                           "--export-format=markdown",
                           str(ran.run_dir / "chaostoolkit-journal.json"), str(out)],
                          capture_output=True, text=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL, env=ctk.env_for(tmp_path, base))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "break-the-backend" in out.read_text()


def test_chaos_report_renders_the_journal_of_a_native_run(
        harness: Callable[..., engine.Harness], tmp_path: Path) -> None:
    run = harness()
    outcome = run.run()
    assert outcome.verdict == "held"
    written = report.write(run.journal_path)
    journal = json.loads((written.journal.parent / "chaostoolkit-journal.json").read_text())
    assert [a["name"] for a in journal["experiment"]["method"]] == [
        r["activity"]["name"] for r in journal["run"]]
    assert journal["status"] == "completed" and journal["deviated"] is False
    text = _render(journal, tmp_path)
    assert "engine test" in text


@pytest.fixture
def harness(tmp_path: Path) -> Callable[..., engine.Harness]:
    from runner import testing
    from runner.engine import clock as clock_mod

    def build() -> engine.Harness:
        return engine.Harness(
            exp=engine.make_experiment(), metrics=testing.ScriptedMetrics(engine.healthy),
            platform=testing.FakePlatform(), activities=testing.RecordingActivities(),
            clock=testing.FakeClock(), cancel=clock_mod.Cancel(),
            journal_path=tmp_path / "run" / "journal.jsonl", sink=testing.MemorySink())

    return build
