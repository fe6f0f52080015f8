"""The evidence plot, drawn in a forked helper process while this one reads the journal.

matplotlib is most of what a report costs once the journal is read: importing it takes
about 0.7 s of CPU and drawing the figure 1.2–1.6 s, and neither can be made cheaper
without changing the picture. So ``gameday report`` forks a helper first: it imports
matplotlib while this process scans the journal, receives the facts (pickled: about
15 MB at 10 000 ticks × 20 probes) and draws the figure while this process renders the
text formats. The figure is the same PNG, byte for byte: the same code on the same data.

Decisions:
- Only on request (``write(..., plot_aside=True)``, which ``gameday report`` passes) and
  only in a process without other threads: forking one that has them (a run's live
  view, its lease renewal) can leave the child waiting on a lock no thread will release,
  so a run's own reports are drawn in-process as before.
- The helper can only make a report faster, never make one fail: if it cannot start,
  dies (it is polled while it draws) or fails, the plot is drawn here, where any error
  is raised as it always was.
- The wait for it is bounded (``WAIT_SECONDS``, then it is terminated).
- The helper is a daemon child, and leaving the ``with`` block closes its pipe and joins
  it, so a scan that fails (a journal that is not there) never leaves it behind.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import sys
import threading
import time
import types
from typing import Any

from runner.report import plots, summary

JOIN_SECONDS = 5.0
POLL_SECONDS = 0.5
#: A helper that neither answers nor dies in this long is given up (terminated) and the
#: plot drawn here: the wait is bounded whatever the helper does.
WAIT_SECONDS = 120.0


def _serve(conn: multiprocessing.connection.Connection) -> None:
    """The helper: import matplotlib, wait for the facts, draw, send the plot back."""
    try:
        plots.prepare()
        facts = conn.recv()
        conn.send((True, plots.render(facts)))
    except EOFError:
        pass  # the parent gave up (its scan failed): nothing to draw
    except BaseException:  # noqa: BLE001 - reported by the parent drawing it itself
        with contextlib.suppress(OSError):
            conn.send((False, None))
    finally:
        conn.close()


class Plotter:
    """Draws the plot for one report: in a forked helper when ``aside``, else here."""

    def __init__(self, aside: bool) -> None:
        self._conn: multiprocessing.connection.Connection | None = None
        self._proc: Any = None
        if not aside or threading.active_count() > 1:  # forking a threaded process: no
            return
        for stream in (sys.stdout, sys.stderr):  # the child flushes its copy when it ends
            if stream is not None:
                stream.flush()
        try:
            context = multiprocessing.get_context("fork")
            self._conn, child = context.Pipe()
            proc = context.Process(target=_serve, args=(child,), daemon=True,
                                   name="gameday-report-plot")
            proc.start()
            self._proc = proc
            child.close()
        except (ValueError, OSError):  # no fork on this platform, or no process left
            self._close()

    def __enter__(self) -> Plotter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: types.TracebackType | None) -> None:
        self._close()

    def submit(self, facts: summary.Facts) -> None:
        """Hand the facts to the helper (it starts drawing); nothing to do without one."""
        if self._conn is not None:
            try:
                self._conn.send(facts)
            except (OSError, ValueError):  # the helper is gone: drawn here instead
                self._close()

    def result(self, facts: summary.Facts) -> plots.Plot | None:
        """The plot: the helper's, or drawn here when there is no helper or it failed."""
        if self._conn is not None:
            ok, plot = False, None
            deadline = time.monotonic() + WAIT_SECONDS
            try:
                while not self._conn.poll(POLL_SECONDS):
                    if (not self._proc.is_alive() and not self._conn.poll(0)) \
                            or time.monotonic() > deadline:
                        break  # killed (out of memory?) or stuck, no answer: drawn here
                else:
                    ok, plot = self._conn.recv()
            except (EOFError, OSError):
                pass
            self._close()
            if ok:
                return plot
        return plots.render(facts)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(JOIN_SECONDS)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join()
            self._proc = None
