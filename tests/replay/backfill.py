"""Backfill generated metric streams into a real Prometheus (generic; fold into fixtures).

``write_openmetrics`` writes series (counters, gauges) as OpenMetrics text, one family
at a time and each series in time order, as ``promtool tsdb create-blocks-from
openmetrics`` wants; ``create_blocks`` runs promtool into a TSDB directory; ``serve``
starts Debian's Prometheus on that TSDB (nothing scraped) and waits until it answers.
Decision: nothing here knows about gameday's experiments, so the game-day fixtures
(tests/fixtures/backfill.py, when it lands) and these can be folded into one.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from runner.sandbox import prometheus as launcher


@dataclasses.dataclass(frozen=True)
class Stream:
    """One series: family name, kind (counter/gauge), labels, times (s) and values."""

    family: str
    kind: str
    labels: Mapping[str, str]
    times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]

    @property
    def sample_name(self) -> str:
        return f"{self.family}_total" if self.kind == "counter" else self.family


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def write_openmetrics(path: Path, streams: Iterable[Stream]) -> Path:
    families: dict[str, list[Stream]] = {}
    for s in streams:
        families.setdefault(s.family, []).append(s)
    with path.open("w", encoding="utf-8") as out:
        for family, members in families.items():
            out.write(f"# TYPE {family} {members[0].kind}\n")
            for s in members:
                head = s.sample_name + _labels(s.labels)
                keep = ~np.isnan(s.values)
                out.writelines(f"{head} {v:.17g} {t:.3f}\n"
                               for t, v in zip(s.times[keep], s.values[keep], strict=True))
        out.write("# EOF\n")
    return path


def promtool() -> str | None:
    return shutil.which("promtool")


def create_blocks(openmetrics: Path, tsdb: Path, *, timeout: float = 300.0) -> Path:
    tool = promtool()
    if tool is None:
        raise RuntimeError("promtool is missing: apt-get install -y prometheus")
    tsdb.mkdir(parents=True, exist_ok=True)
    subprocess.run([tool, "tsdb", "create-blocks-from", "openmetrics", "-q",
                    str(openmetrics), str(tsdb)], check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return tsdb


def serve(tsdb: Path, run_dir: Path, extra_args: Sequence[str] = ()) -> launcher.PrometheusServer:
    """Prometheus on an existing TSDB, scraping nothing, retention long enough to keep it."""
    return launcher.start(run_dir, {}, data_dir=tsdb,
                          extra_args=["--storage.tsdb.retention.time=30d", *extra_args])
