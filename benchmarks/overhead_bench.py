"""Benchmark: what the live view and gameday's own metrics cost per tick, beside the runner.

A run of 20 probes (18 error-ratio probes, 2 guardrails) at a 1 s tick is driven through
the real engine with fake ports and a fake clock, writing a real (fsynced) journal: that
is the runner's own per-tick cost, the baseline. Its journal events are then handed, in
order, to each sink a real run builds, and the CPU time of each is measured the same way
(``time.process_time``: every thread of this process, so the /metrics server's too):

- plain lines (CI), the ``rich`` live view drawing to a terminal, the metrics sink
  (prometheus_client updates), one ``/metrics`` scrape per tick over real loopback HTTP
  (the scraper is another process; what is counted is gameday's server side), and a
  textfile write per tick (what ``--metrics-textfile`` / ``--pushgateway`` cost at most).

Pass: live view + metrics + one scrape per tick ≤ 1 % of one core at a 1 s tick (10 ms per
tick). Prints a Markdown table; exits 1 when the budget is exceeded.

    python -m benchmarks.overhead_bench [--ticks 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runner import testing
from runner.adapters import telemetry_outputs
from runner.cli import live
from runner.engine import clock as clock_mod
from runner.engine import run as run_mod
from runner.journal import writer
from runner.model import experiment as model

SCRAPER = ("import sys, urllib.request\n"
           "for _ in range(int(sys.argv[2])):\n"
           "    urllib.request.urlopen(sys.argv[1], timeout=5).read()\n")
PROBES = 20
BUDGET = 0.01  # of one core


def experiment(ticks: int) -> model.Experiment:
    ratios = tuple(model.RatioProbe(name=f"service {i} error ratio", errors=f"e{i}",
                                    total=f"t{i}", max=0.01) for i in range(PROBES - 2))
    guards = (model.GaugeProbe(name="ready replicas", query="r", min=2),
              model.GaugeProbe(name="targets up", query="u", min=1))
    return model.Experiment(
        title="overhead benchmark: 20 probes at 1 s",
        target=model.Target(platform="local", selector="app=demo"),
        prometheus=model.PrometheusConfig(url="http://127.0.0.1:1", tick=1.0),
        steady_state=model.SteadyState(alpha=0.05, baseline=30.0, probes=ratios + guards),
        faults=(model.PodKillFault(count=1, name="kill"),),
        duration=float(ticks), abort=model.AbortPolicy(no_data_ticks=3),
    )


def script(call: int, probe: model.Probe) -> Any:
    from runner import ports

    if isinstance(probe, model.GaugeProbe):
        return ports.Value(3.0)
    return ports.Counts(n=1000, e=2 if call % 3 else 3)


def engine_run(ticks: int, folder: Path) -> tuple[float, list[Mapping[str, Any]]]:
    """CPU seconds of one run through the real engine and journal, and its events."""
    sink = testing.MemorySink()
    clock = testing.FakeClock()
    started = time.process_time()
    with writer.JournalWriter(folder / "journal.jsonl", now=clock.time,
                              listeners=[sink.emit]) as jw:
        ports_ = run_mod.RunPorts(testing.ScriptedMetrics(script), testing.FakePlatform(),
                                  testing.RecordingActivities(), clock, jw, clock_mod.Cancel())
        outcome = run_mod.Run(experiment(ticks), ports_, run_id="bench", seed=1).execute()
    cpu = time.process_time() - started
    assert outcome.verdict == "held", outcome
    return cpu, list(sink.events)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@dataclasses.dataclass
class Row:
    what: str
    cpu: list[float] = dataclasses.field(default_factory=list)


def replay(events: Sequence[Mapping[str, Any]], emit: Callable[[Mapping[str, Any]], None],
           after_tick: Callable[[], None] | None = None) -> float:
    started = time.process_time()
    for event in events:
        emit(event)
        if after_tick is not None and event.get("type") == "tick":
            after_tick()
    return time.process_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=300, help="fault-window ticks per run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = {k: Row(k) for k in ("engine + journal (the runner itself)", "plain lines (CI)",
                                "live view (rich, terminal)", "metrics sink (updates)",
                                "one /metrics scrape per tick", "one textfile write per tick")}
    ticks = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            folder = Path(tmp) / f"run{i}"
            cpu, events = engine_run(args.ticks, folder)
            ticks = sum(1 for e in events if e["type"] == "tick")
            rows["engine + journal (the runner itself)"].cpu.append(cpu)
            plain = live.PlainSink(io.StringIO())
            rows["plain lines (CI)"].cpu.append(replay(events, plain.emit))
            view = live.LiveSink(Terminal(), force_terminal=True, width=120)
            rows["live view (rich, terminal)"].cpu.append(replay(events, view.emit))
            view.close()
            cfg = telemetry_outputs.Config(listen=("127.0.0.1", 0))
            with telemetry_outputs.open_telemetry(cfg, err=io.StringIO(),
                                                  now=time.monotonic) as tel:
                rows["metrics sink (updates)"].cpu.append(replay(events, tel.sink.emit))
                url = tel.url or ""

                started = time.process_time()
                scraper = subprocess.run(  # the client is another process: not counted
                    [sys.executable, "-c", SCRAPER, url, str(ticks)], check=True, timeout=300)
                rows["one /metrics scrape per tick"].cpu.append(time.process_time() - started)
                assert scraper.returncode == 0
                from prometheus_client import write_to_textfile

                target = str(Path(tmp) / "gameday.prom")
                started = time.process_time()
                for _ in range(ticks):
                    write_to_textfile(target, tel.sink.registry)
                rows["one textfile write per tick"].cpu.append(time.process_time() - started)
    print(f"## overhead per tick: {PROBES} probes, 1 s tick, {ticks} ticks per run, "
          f"median of {args.repeat} runs (CPU time)\n")
    print("| part | CPU per tick | share of one core at a 1 s tick |\n|---|---|---|")
    per_tick = {}
    for row in rows.values():
        per_tick[row.what] = statistics.median(row.cpu) / ticks
        print(f"| {row.what} | {per_tick[row.what] * 1000:.3f} ms | "
              f"{per_tick[row.what] * 100:.3f} % |")
    ours = (per_tick["live view (rich, terminal)"] + per_tick["metrics sink (updates)"]
            + per_tick["one /metrics scrape per tick"])
    verdict = "PASS" if ours <= BUDGET else "FAIL"
    print(f"\nlive view + metrics + a scrape per tick: {ours * 1000:.2f} ms per tick = "
          f"{ours * 100:.2f} % of one core (budget {BUDGET:.0%}): {verdict}")
    return 0 if ours <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
