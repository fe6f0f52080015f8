"""Reports from a journal: Markdown and HTML (with a plot) for people, JUnit XML for CI,
and a Chaos Toolkit journal for the tools that read those.

Reports are pure functions of the journal (``gameday report JOURNAL`` regenerates them
at any time), so what a reviewer reads is always what was recorded.
"""

from __future__ import annotations

from pathlib import Path

from runner import errors
from runner.journal import reader
from runner.report import ctk, html, junit, markdown, summary


def write_all(journal_path: Path, out_dir: Path, *, key: bytes | None = None) -> list[Path]:
    """Write every report format for a journal into ``out_dir``; return the paths.

    ``key`` verifies a keyed (HMAC) journal; without it such a journal reads as unverified.
    """
    read = reader.read(journal_path, key=key)
    facts = summary.summarize(read)
    written: list[Path] = []
    rendered = (("report.md", markdown.render(facts)), ("report.html", html.render(facts)),
                ("junit.xml", junit.render(facts)),
                ("chaostoolkit-journal.json", ctk.render(read)))
    for name, text in rendered:
        path = out_dir / name
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise errors.InputError(
                f"Cannot write the report {path}: {exc.strerror}. Choose a writable directory "
                "with --out; the journal itself is unchanged.") from exc
        written.append(path)
    return written
