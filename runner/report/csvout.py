"""``ticks.csv``: every tick with every probe's numbers, beside the reports.

The reports summarise; this file keeps the full data in a form a spreadsheet, pandas or
``grep`` reads (the journal stays the record). One row per tick (wall-clock time, phase,
tick number, the combined log e-value and the decision), then a group of columns per
probe named ``<probe>:<field>`` — ``n``, ``e``, ``log_e``, ``p_value``, ``significant``
(and ``quantile_s`` where the journal has bucket counts) for statistical probes,
``value``, ``in_bounds``, ``fired`` for guardrails. Missing values are empty cells.

Decision: one row per tick rather than one per (tick, probe): the same numbers without
repeating the tick's columns per probe, which at 10 000 ticks × 100 probes is the
difference between one second and several. ``pandas.melt`` gives the long form back.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from runner.report import series, summary, tables

HEAD = ("time_utc", "ts", "phase", "tick", "combined_log_e", "reject")
STAT_FIELDS = ("n", "e", "log_e", "p_value", "significant")
GUARD_FIELDS = ("value", "in_bounds", "fired")
CHUNK = 2000  # ticks formatted at a time (bounded memory)


def _header(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def columns(facts: summary.Facts) -> list[tuple[str, str]]:
    """(probe, field) for every probe column, in the file's order."""
    out: list[tuple[str, str]] = []
    for p in facts.probes:
        if p.name not in facts.series.probes:
            continue
        fields = GUARD_FIELDS if p.info.guardrail else STAT_FIELDS + (
            ("quantile_s",) if p.name in facts.series.has_buckets else ())
        out += [(p.name, f) for f in fields]
    return out


def chunks(facts: summary.Facts) -> Iterator[str]:
    """The file's text, ``CHUNK`` ticks at a time (the header first)."""
    s = facts.series
    wanted = columns(facts)
    ts = np.frombuffer(s.ts, dtype=np.float64)
    matrix = np.empty((len(s), 2 + len(wanted)), dtype=np.float64)
    matrix[:, 0] = np.frombuffer(s.log_e, dtype=np.float64)
    matrix[:, 1] = np.frombuffer(s.reject, dtype=np.int8)
    for k, (name, field) in enumerate(wanted, start=2):
        matrix[:, k] = tables.col(facts, name, field)
    yield _header([*HEAD[:4], *HEAD[4:], *(f"{n}:{f}" for n, f in wanted)]) + "\n"
    for start in range(0, len(s), CHUNK):
        stop = min(len(s), start + CHUNK)
        cells = np.empty((stop - start, matrix.shape[1]), dtype=object)
        for k in range(matrix.shape[1]):
            cells[:, k] = _texts(matrix[start:stop, k])
        heads = (_prefix(ts[i], s.phase[i], s.tick[i]) for i in range(start, stop))
        yield "\n".join(f"{h},{','.join(r)}" for h, r in zip(heads, cells.tolist(),
                                                            strict=True)) + "\n"


def write(path: Path, text: Iterable[str]) -> None:
    """Write ``ticks.csv`` from ``chunks`` (or a list of them, rendered earlier)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(text)


def _texts(values: npt.NDArray[np.float64]) -> npt.NDArray[np.object_]:
    """Each value as ``%.10g`` (NaN: an empty cell), formatting each distinct value once:
    most columns (counts, flags, guardrail values) repeat a few values over every tick.
    Distinct by bit pattern, so -0.0 keeps its sign."""
    distinct, where = np.unique(np.ascontiguousarray(values).view(np.uint64),
                                return_inverse=True)
    texts = np.array(["" if math.isnan(v) else format(v, ".10g")
                      for v in distinct.view(np.float64).tolist()], dtype=object)
    return texts[where]


def _prefix(ts: float, phase: int, tick: int) -> str:
    when = "" if math.isnan(ts) else datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).isoformat(
        timespec="milliseconds")
    return f"{when},{ts:.3f},{series.PHASES[phase] if phase >= 0 else ''},{tick}"
