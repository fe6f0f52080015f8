"""gameday's own metrics, derived from the journal as it is written (a ``ports.Sink``).

The journal writer calls every sink with each event it has made durable; this sink turns
those events into Prometheus metrics with the official ``prometheus_client``: run and
phase, tick, per-probe e-value and p-value, guardrails, faults live, aborts and reverts
with their timings and timestamps (Grafana annotations), lease and game-day state. How
the registry leaves the process (``/metrics``, a Pushgateway, a node_exporter textfile)
is ``runner.adapters.telemetry_outputs``.

Decisions:
- Derived from the journal only, never from the engine's memory: the metrics say what the
  journal says, so a dashboard and a reviewer reading the journal never disagree, and
  "reverted" appears only for reverts whose success the journal recorded.
- A metric must never hurt a run: ``emit`` swallows its own failures (counted in
  ``gameday_telemetry_errors_total`` and said once on stderr) instead of raising into
  the journal writer, and does constant work per probe per tick (no I/O).
- One registry per sink (not the process-global one), so tests and a game day's several
  runs never collide; a run's series keep its ``run_id`` and ``experiment`` labels after it
  ends (a game day's earlier runs stay visible; there are a handful per process).
- Timestamps (``*_timestamp_seconds``) are wall-clock seconds from the events' ``ts``,
  so Grafana can place annotations at the exact moment ("series value as timestamp").
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import prometheus_client
from prometheus_client import Counter, Gauge, Histogram

prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

PHASES = ("preflight", "baseline", "inject", "watch", "revert", "recovery", "done")
RUN = ("run_id", "experiment")
REVERT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
E_VALUE_CAP = 1e300  # e-values past this are "overwhelming"; Prometheus floats stop at 1.8e308


def _e_value(log_e: object) -> float | None:
    if not isinstance(log_e, int | float) or math.isnan(log_e):
        return None
    return E_VALUE_CAP if log_e > math.log(E_VALUE_CAP) else math.exp(log_e)


class Metrics:
    """Every series gameday exports, registered in one registry."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        r = registry

        def gauge(name: str, doc: str, labels: tuple[str, ...] = RUN) -> Gauge:
            return Gauge(name, doc, labels, registry=r)

        def counter(name: str, doc: str, labels: tuple[str, ...] = RUN) -> Counter:
            return Counter(name, doc, labels, registry=r)

        probe, guard = (*RUN, "probe"), (*RUN, "guardrail")
        self.info = gauge("gameday_run_info", "A run (1); labels say what it runs.",
                          (*RUN, "platform", "owner"))
        self.live = gauge("gameday_run_live", "1 while the run is live, 0 once it ended.")
        self.started = gauge("gameday_run_started_timestamp_seconds", "When the run started.")
        self.finished = gauge("gameday_run_finished_timestamp_seconds",
                              "When the run journaled its verdict.", (*RUN, "verdict"))
        self.exit_code = gauge("gameday_run_exit_code", "The run's exit code (DESIGN.md §5).",
                               (*RUN, "verdict"))
        self.runs = counter("gameday_runs_total", "Runs ended, by verdict.", ("verdict",))
        self.phase = gauge("gameday_run_phase", "1 for the run's current phase, else 0.",
                           (*RUN, "phase"))
        self.tick = gauge("gameday_run_tick", "The last tick of the phase.", (*RUN, "phase"))
        self.ticks = gauge("gameday_run_ticks", "Ticks planned for the phase.", (*RUN, "phase"))
        self.window = gauge("gameday_run_window_seconds", "The fault window's length.")
        self.e_value = gauge("gameday_probe_e_value", "The probe's e-value (evidence "
                             "against the steady state; abort past 1/alpha).", probe)
        self.p_value = gauge("gameday_probe_p_value", "The probe's anytime-valid p-value.",
                             probe)
        self.ratio = gauge("gameday_probe_bad_ratio", "Bad events / events in the last tick.",
                           probe)
        self.events = gauge("gameday_probe_events", "Events (requests) in the last tick.", probe)
        self.no_data = counter("gameday_probe_no_data_ticks_total", "Ticks without data.", probe)
        self.combined = gauge("gameday_steady_state_e_value", "The combined e-value.")
        self.threshold = gauge("gameday_steady_state_e_value_threshold",
                               "The e-value at which the run aborts (1/alpha of the test).")
        self.rejected = gauge("gameday_steady_state_rejected", "1 once the test rejected.")
        self.guard_value = gauge("gameday_guardrail_value", "The guardrail's last value.", guard)
        self.guard_ok = gauge("gameday_guardrail_in_bounds", "1 when within bounds.", guard)
        self.guard_fired = counter("gameday_guardrail_fired_total", "Times it fired.", guard)
        self.faults_live = gauge("gameday_faults_live",
                                 "Faults injected and not yet observed reverted.")
        self.injected = counter("gameday_faults_injected_total", "Faults that took effect.")
        self.aborts = counter("gameday_aborts_total", "Aborts, by kind.", (*RUN, "kind"))
        self.abort_at = gauge("gameday_abort_timestamp_seconds", "When the run aborted.",
                              (*RUN, "kind"))
        self.detection = gauge("gameday_abort_detection_seconds",
                               "From the start of the fault window to the abort.")
        self.abort_to_reverted = gauge(
            "gameday_abort_to_reverted_seconds",
            "From the abort to the last revert observed to succeed (only when all did).")
        self.reverts = counter("gameday_reverts_total", "Revert results, by outcome and by "
                               "whom (run, gameday revert, guard).", (*RUN, "outcome", "by"))
        self.revert_at = gauge("gameday_revert_timestamp_seconds", "When a revert ended.",
                               (*RUN, "fault", "outcome"))
        self.revert_seconds = Histogram("gameday_revert_duration_seconds",
                                        "How long reverts took, retries included.",
                                        ("outcome",), buckets=REVERT_BUCKETS, registry=r)
        self.lease_expiry = gauge("gameday_lease_expiry_timestamp_seconds",
                                  "When the run's lease expires unless renewed.")
        self.lease_held = gauge("gameday_lease_held", "1 while the run holds its lease.")
        self.day_state = gauge("gameday_day_experiment_state",
                               "1 for a game-day experiment's current state.",
                               ("day", "experiment", "state"))
        self.events_total = counter("gameday_journal_events_total", "Journal events seen.",
                                    ("type",))
        self.last_event = Gauge("gameday_last_event_timestamp_seconds",
                                "When the last journal event was written.", registry=r)
        self.errors = Counter("gameday_telemetry_errors_total",
                              "Events the telemetry could not turn into metrics.", registry=r)


class TelemetrySink:
    """A ``ports.Sink`` that keeps ``registry`` in step with the journal."""

    def __init__(self, registry: prometheus_client.CollectorRegistry | None = None, *,
                 on_change: Callable[[bool], None] | None = None,
                 err: TextIO | None = None) -> None:
        self.registry = registry or prometheus_client.CollectorRegistry()
        self.m = Metrics(self.registry)
        self._on_change = on_change
        self._err = err or sys.stderr
        self._lock = threading.Lock()
        self._run: tuple[str, str] = ("", "")
        self._phase: str | None = None
        self._watch_started: float | None = None
        self._abort_at: float | None = None
        self._live: set[int] = set()
        self._revert_failed = False
        self._warned = False
        self._handlers: dict[str, Callable[[Mapping[str, Any]], None]] = {
            "run-started": self._run_started, "phase": self._phase_event, "tick": self._tick,
            "calibration": self._calibration, "fault-result": self._fault_result,
            "abort": self._abort, "revert-result": self._revert_result,
            "verdict": self._verdict, "lease": self._lease,
            "day-experiment": self._day_experiment,
        }

    def emit(self, event: Mapping[str, Any]) -> None:
        kind = str(event.get("type"))
        try:
            with self._lock:
                self.m.events_total.labels(kind).inc()
                self.m.last_event.set(float(event.get("ts") or 0.0))
                handler = self._handlers.get(kind)
                if handler is not None:
                    handler(event)
        except Exception as exc:  # noqa: BLE001 - a metric must never break a run
            self.m.errors.inc()
            if not self._warned:
                self._warned = True
                print(f"gameday: metrics could not follow a {kind} event ({exc}); the run "
                      "goes on, later events are still tried.", file=self._err, flush=True)
        if self._on_change is not None:
            self._on_change(kind in {"run-started", "abort", "revert-result", "verdict"})

    # -- runs and phases -------------------------------------------------------------

    def _run_started(self, ev: Mapping[str, Any]) -> None:
        self._run = (str(ev.get("run_id") or ""), str(ev.get("title") or ""))
        self._phase, self._watch_started, self._abort_at = None, None, None
        self._live, self._revert_failed = set(), False
        m = self.m
        m.info.labels(*self._run, str(ev.get("platform") or ""), str(ev.get("owner") or "")).set(1)
        m.live.labels(*self._run).set(1)
        m.started.labels(*self._run).set(float(ev["ts"]))
        m.faults_live.labels(*self._run).set(0)
        m.injected.labels(*self._run)
        m.rejected.labels(*self._run).set(0)
        if isinstance(ev.get("duration"), int | float):
            m.window.labels(*self._run).set(float(ev["duration"]))

    def _set_phase(self, phase: str) -> None:
        self._phase = phase
        for name in PHASES:
            self.m.phase.labels(*self._run, name).set(1 if name == phase else 0)

    def _phase_event(self, ev: Mapping[str, Any]) -> None:
        phase = str(ev.get("phase"))
        self._set_phase(phase)
        if isinstance(ev.get("ticks"), int):
            self.m.ticks.labels(*self._run, phase).set(ev["ticks"])
            self.m.tick.labels(*self._run, phase).set(0)
        if phase == "watch":
            self._watch_started = float(ev["ts"])

    def _verdict(self, ev: Mapping[str, Any]) -> None:
        verdict = str(ev.get("verdict"))
        self._set_phase("done")
        self.m.live.labels(*self._run).set(0)
        self.m.finished.labels(*self._run, verdict).set(float(ev["ts"]))
        self.m.exit_code.labels(*self._run, verdict).set(float(ev.get("exit_code") or 0))
        self.m.runs.labels(verdict).inc()

    # -- ticks ----------------------------------------------------------------------

    def _tick(self, ev: Mapping[str, Any]) -> None:
        m, run = self.m, self._run
        phase = str(ev.get("phase"))
        m.tick.labels(*run, phase).set(float(ev.get("tick") or 0))
        if isinstance(ev.get("of"), int):
            m.ticks.labels(*run, phase).set(ev["of"])
        for name, sample in (ev.get("samples") or {}).items():
            if sample is None:
                m.no_data.labels(*run, name).inc()
            elif "n" in sample:
                n, e = float(sample.get("n") or 0), float(sample.get("e") or 0)
                m.events.labels(*run, name).set(n)
                if n > 0:
                    m.ratio.labels(*run, name).set(e / n)
        stats = ev.get("stats") or {}
        for probe in stats.get("probes") or []:
            e_value = _e_value(probe.get("log_e"))
            if e_value is not None:
                m.e_value.labels(*run, probe["name"]).set(e_value)
            if isinstance(probe.get("p_value"), int | float):
                m.p_value.labels(*run, probe["name"]).set(probe["p_value"])
        if (combined := _e_value(stats.get("log_e"))) is not None:
            m.combined.labels(*run).set(combined)
        if (limit := _e_value(stats.get("threshold_log"))) is not None:
            m.threshold.labels(*run).set(limit)
        if stats.get("reject") and phase == "watch":
            m.rejected.labels(*run).set(1)
        for name, view in (ev.get("guardrails") or {}).items():
            if isinstance(view.get("value"), int | float):
                m.guard_value.labels(*run, name).set(view["value"])
            m.guard_ok.labels(*run, name).set(1 if view.get("in_bounds") else 0)
            if view.get("fired"):
                m.guard_fired.labels(*run, name).inc()

    def _calibration(self, ev: Mapping[str, Any]) -> None:
        if (limit := _e_value(ev.get("threshold_log"))) is not None:
            self.m.threshold.labels(*self._run).set(limit)

    # -- faults, aborts, reverts -----------------------------------------------------

    def _fault_result(self, ev: Mapping[str, Any]) -> None:
        if ev.get("ok"):
            self._live.add(int(ev.get("fault") or 0))
            self.m.injected.labels(*self._run).inc()
            self.m.faults_live.labels(*self._run).set(len(self._live))

    def _abort(self, ev: Mapping[str, Any]) -> None:
        kind, ts = str(ev.get("kind")), float(ev["ts"])
        self._abort_at = ts
        self.m.aborts.labels(*self._run, kind).inc()
        self.m.abort_at.labels(*self._run, kind).set(ts)
        if self._watch_started is not None:
            self.m.detection.labels(*self._run).set(ts - self._watch_started)

    def _revert_result(self, ev: Mapping[str, Any]) -> None:
        ok, ts = bool(ev.get("ok")), float(ev["ts"])
        outcome = "ok" if ok else "failed"
        fault = int(ev.get("fault") or 0)
        m, run = self.m, self._run
        m.reverts.labels(*run, outcome, str(ev.get("by") or "run")).inc()
        m.revert_at.labels(*run, str(fault), outcome).set(ts)
        if isinstance(ev.get("seconds"), int | float):
            m.revert_seconds.labels(outcome).observe(float(ev["seconds"]))
        if ok:
            self._live.discard(fault)
        else:
            self._revert_failed = True
        m.faults_live.labels(*run).set(len(self._live))
        if self._abort_at is not None and not self._live and not self._revert_failed:
            m.abort_to_reverted.labels(*run).set(ts - self._abort_at)

    # -- lease and game day (events of the guard and the day runner) ----------------

    def _lease(self, ev: Mapping[str, Any]) -> None:
        state = str(ev.get("state"))
        held = state in {"acquired", "renewed"}
        self.m.lease_held.labels(*self._run).set(1 if held else 0)
        if isinstance(ev.get("expires_at"), int | float):
            self.m.lease_expiry.labels(*self._run).set(float(ev["expires_at"]))

    def _day_experiment(self, ev: Mapping[str, Any]) -> None:
        day, experiment = str(ev.get("day") or ""), str(ev.get("id") or "")
        for state in ("queued", "gated", "running", "held", "broken", "refused", "skipped",
                      "error"):
            self.m.day_state.labels(day, experiment, state).set(
                1 if state == ev.get("state") else 0)
