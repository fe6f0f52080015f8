"""Reports from a journal: Markdown and HTML (with a plot) for people, JUnit XML for CI,
``ticks.csv`` with every probe on every tick, and a Chaos Toolkit journal for the tools
that read those.

Reports are pure functions of the journal (``gameday report JOURNAL`` regenerates them
at any time), so what a reviewer reads is always what was recorded. The journal is read
once, streaming (``scan``); a journal whose hash chain is broken still gets its reports,
with the break at the top of every one, and ``Written.integrity`` tells the caller.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from runner import errors
from runner.report import aside, csvout, ctk, html, junit, markdown, scan, summary


@dataclasses.dataclass(frozen=True)
class Written:
    """What ``write`` produced: the files, and the journal's integrity problems (if any)."""

    paths: tuple[Path, ...]
    integrity: tuple[str, ...]
    journal: Path


def _save(path: Path, produce: Callable[[Path], None]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        produce(path)
    except OSError as exc:
        raise errors.InputError(
            f"Cannot write the report {path}: {exc.strerror}. Choose a writable directory "
            "with --out; the journal itself is unchanged.") from exc


def write(journal_path: Path | str, out_dir: Path | None = None, *,
          key: bytes | None = None, plot_aside: bool = False) -> Written:
    """Write every format for a journal (a file, or a run directory) into ``out_dir``
    (default: beside the journal); ``key`` verifies a keyed (HMAC) chain. ``plot_aside``
    draws the plot in a forked helper meanwhile (``aside``; only from a process without
    other threads)."""
    with aside.Plotter(plot_aside) as plotter:
        found = scan.scan(journal_path, key=key)
        facts = summary.summarize(found)
        plotter.submit(facts)
        md, xml, chaos = markdown.render(facts), junit.render(facts), ctk.render(found.record)
        table = list(csvout.chunks(facts))
        plot = plotter.result(facts)
    out = out_dir if out_dir is not None else found.path.parent
    texts = (("report.md", md), ("report.html", html.render(facts, plot)),
             ("junit.xml", xml), ("chaostoolkit-journal.json", chaos))
    written: list[Path] = []
    for name, text in texts:
        _save(out / name, lambda p, t=text: p.write_text(t, encoding="utf-8"))  # type: ignore[misc]
        written.append(out / name)
    _save(out / "ticks.csv", lambda p: csvout.write(p, table))
    written.append(out / "ticks.csv")
    return Written(tuple(written), facts.integrity, found.path)


def write_all(journal_path: Path, out_dir: Path) -> list[Path]:
    """Write every report format for a journal into ``out_dir``; return the paths."""
    return list(write(journal_path, out_dir).paths)
