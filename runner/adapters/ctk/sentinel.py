"""The steady-state hypothesis and the safeguards of a Chaos Toolkit run, as ``ports.Sentinel``.

``Hypothesis`` runs the experiment's hypothesis with chaoslib's own
``run_steady_state_hypothesis`` (its probes, their controls, ``within_tolerance``) at
the run's safe points, per strategy:

=====================  ========================  ==========================================
strategy               checked                   where
=====================  ========================  ==========================================
(none: gameday's)      before, during, after     baseline; every safe point of the method
                                                 and the window, at most once per
                                                 ``frequency`` seconds, and once when the
                                                 method ends; right after the reverts
default                before, after             as ``chaos run``, but "after" comes after
                                                 the reverts (see below)
before-method-only     before
after-method-only      after
during-method-only     during
continuously           before, during, after
=====================  ========================  ==========================================

A check that is not met (a probe failed, or its output is outside its tolerance) is a
``Halt(kind="tolerance", broken=True)``: before any fault the run is refused (exit 3),
during the window it aborts and reverts (exit 1), after the reverts the run is broken
(exit 1). Each check is journaled (``tolerance``: when, met, every probe's run).

Where this differs from ``chaos run``, on purpose: "after" is checked after the
reverts (chaos checks it before its rollbacks; gameday's end-of-method "during" check
covers that moment under its default strategy); a failed "during" check aborts (chaos
only counts it, unless ``--fail-fast``); and a before-check failure exits 3 where
chaos exits 0 with ``steady_state_met: false``. ``frequency`` defaults to
``DEFAULT_FREQUENCY`` (chaos run's own default); inside pauses the safe points come
once a second, so checks are at least a second apart there.

``Safeguards`` runs the probes of chaostoolkit-addons' safeguard control as that control
does (a plain one once before anything, ``background`` once soon, ``frequency`` every so
many seconds), in daemon threads, and ends the run through gameday's abort
(``Halt(kind="safeguard")``: refused before any fault, exit 4 "stopped" in the window).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from runner import ports
from runner.adapters import chaos
from runner.adapters.ctk import activities as activities_mod
from runner.adapters.ctk import session as session_mod

DEFAULT_FREQUENCY = 1.0
_DURING = ("inject", "pause", "watch")
_WHEN = {None: ("before", "during", "after"), "default": ("before", "after"),
         "before-method-only": ("before",), "after-method-only": ("after",),
         "during-method-only": ("during",), "continuously": ("before", "during", "after")}


def _probe_run(run: Mapping[str, Any]) -> dict[str, Any]:
    activity = run.get("activity") or {}
    return {"name": activity.get("name"), "status": run.get("status"),
            "tolerance_met": run.get("tolerance_met"), "output": chaos.tail(run.get("output")),
            "exception": chaos.tail("".join(run.get("exception") or [])) or None}


class Hypothesis:
    """The hypothesis checks (see the module docstring)."""

    name = "chaostoolkit-hypothesis"

    def __init__(self, session: session_mod.Session, strategy: str | None = None,
                 frequency: float | None = None,
                 monotonic: Any = time.monotonic) -> None:
        self.session = session
        self.when = _WHEN[strategy]
        self.strategy = strategy
        self.frequency = DEFAULT_FREQUENCY if frequency is None else frequency
        self._monotonic = monotonic
        self._done: set[str] = set()
        self._last_during: float | None = None
        self.states: list[tuple[str, dict[str, Any]]] = []

    @property
    def has_probes(self) -> bool:
        return bool(self.session.spec.hypothesis)

    def check(self, point: ports.Checkpoint) -> ports.Halt | None:
        if point.record is not None and self.session.warnings and "warned" not in self._done:
            self._done.add("warned")  # what chaos run warns about, journaled once
            for message in self.session.warnings:
                point.record("warning", {"phase": point.phase, "message": message})
        if not self.has_probes:
            return None
        when = self._due(point)
        if when is None:
            return None
        met, probes = self.run()
        self.states.append((when, {"steady_state_met": met, "probes": probes}))
        if point.record is not None:
            point.record("tolerance", {"when": when, "met": met, "phase": point.phase,
                                       "strategy": self.strategy or "gameday",
                                       "probes": [_probe_run(p) for p in probes]})
        if met:
            return None
        failed = next((p for p in probes if p.get("tolerance_met") is False), probes[-1]
                      if probes else {})
        name = (failed.get("activity") or {}).get("name", "?")
        why = "failed to run" if failed.get("status") == "failed" \
            else f"returned {activities_mod._short(failed.get('output'))}, outside its tolerance"
        title = self.session.spec.hypothesis_title or "the steady-state hypothesis"
        moment = {"before": "before the method", "during": "during the method",
                  "after": "after the reverts"}[when]
        return ports.Halt("tolerance", f"the steady-state hypothesis {title!r} is not met "
                          f"{moment}: probe {name!r} {why}", broken=True,
                          evidence={"when": when, "probe": name,
                                    "output": chaos.tail(failed.get("output"))})

    def _due(self, point: ports.Checkpoint) -> str | None:
        if point.phase == "baseline" and "before" in self.when and "before" not in self._done:
            self._done.add("before")
            return "before"
        if point.phase == "after" and "after" in self.when and "after" not in self._done:
            self._done.add("after")
            return "after"
        if point.phase not in _DURING or "during" not in self.when:
            return None
        now = self._monotonic()
        end_of_method = point.phase == "watch" and "method-end" not in self._done
        if end_of_method:
            self._done.add("method-end")
        if end_of_method or self._last_during is None \
                or now - self._last_during >= self.frequency:
            self._last_during = now
            return "during"
        return None

    def run(self) -> tuple[bool, list[dict[str, Any]]]:
        """chaoslib's ``run_steady_state_hypothesis``; a crash in it is "not met"."""
        from chaoslib.hypothesis import run_steady_state_hypothesis

        s = self.session
        try:
            state = run_steady_state_hypothesis(s.document, s.configuration, s.secrets,
                                                dry=None, event_registry=None)
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is not met
            return False, [{"activity": {"name": "(hypothesis)"}, "status": "failed",
                            "exception": [f"{type(exc).__name__}: {exc}"],
                            "tolerance_met": False}]
        if state is None:
            return True, []
        return bool(state.get("steady_state_met")), list(state.get("probes") or [])


class Safeguards:
    """chaostoolkit-addons' safeguards mapped onto gameday's abort (module docstring)."""

    name = "chaostoolkit-safeguards"

    def __init__(self, session: session_mod.Session, probes: list[dict[str, Any]]) -> None:
        self.session = session
        self.probes = probes
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._tripped: tuple[str, Any] | None = None
        self._started = False

    def _trip(self, name: str, output: Any) -> None:
        with self._lock:
            if self._tripped is None:
                self._tripped = (name, output)

    def _once(self, probe: dict[str, Any]) -> None:
        runner = activities_mod.Activities(self.session)
        try:
            output = runner.observe(probe)
        except Exception as exc:  # noqa: BLE001 - chaos's safeguard trips on a failed probe
            self._trip(str(probe.get("name")), f"failed: {exc}")
            return
        met, _detail = activities_mod.within(probe.get("tolerance"), output, self.session)
        if not met:
            self._trip(str(probe.get("name")), output)

    def _repeat(self, probe: dict[str, Any], every: float) -> None:
        for _ in range(1_000_000):
            if self._stop.is_set():
                return
            self._once(probe)
            if self._stop.wait(every):
                return

    def start(self) -> None:
        """Plain safeguards now (blocking, as the control does); the others in threads."""
        if self._started:
            return
        self._started = True
        for probe in self.probes:
            every = probe.get("frequency")
            if isinstance(every, int | float) and every > 0:
                target, args = self._repeat, (probe, float(every))
            elif probe.get("background"):
                target, args = self._once, (probe,)  # type: ignore[assignment]
            else:
                self._once(probe)
                continue
            threading.Thread(target=target, args=args, daemon=True,
                             name=f"safeguard-{probe.get('name')}").start()

    def check(self, point: ports.Checkpoint) -> ports.Halt | None:
        if not self.probes:
            return None
        if not self._started:
            self.start()
        with self._lock:
            tripped = self._tripped
        if tripped is None:
            return None
        name, output = tripped
        return ports.Halt("safeguard", f"safeguard {name!r} is outside its tolerance "
                          f"(returned {activities_mod._short(output)})", broken=False,
                          evidence={"safeguard": name, "output": chaos.tail(output)})

    def stop(self) -> None:
        self._stop.set()
