"""One Chaos Toolkit run's chaoslib state: configuration, secrets, the activity cache, controls.

Decisions:

- Configuration and secrets are resolved when the run starts, by chaoslib's own
  ``load_configuration`` / ``load_secrets`` (inline values, ``env`` with ``default`` and
  ``env_var_type``), with ``--var`` / ``--var-file`` merged exactly as ``chaos run``
  merges them (``chaoslib.merge_vars``: vars override configuration, var files give
  configuration and secrets, a ``.env`` file sets environment variables). A missing
  environment variable refuses the run (exit 3) naming it, before anything is touched.
- Configuration probes (``type: probe``, chaoslib's dynamic configuration) run in
  ``dynamic()``, called from the platform's preflight: inside the run, so a failure is
  journaled; as in chaoslib a failed one is left out of the configuration (with a
  warning) rather than refusing the run.
- Secret values are handed to the journal writer to scrub by value (``secret_values``);
  the journal holds the experiment as written, its placeholders unresolved.
- Controls: the experiment is given to chaoslib as a deep copy (controls may change it).
  A control module that cannot be imported gets chaos run's own warning, then the run
  goes on without it. Safeguards (``chaosaddons.controls.safeguards``) are not handed to
  chaoslib (their way to stop a run is a signal to the whole process): their probes are
  run by ``sentinel.Safeguards`` and end the run through gameday's abort.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from runner import errors
from runner.model import experiment as model

SAFEGUARDS = "chaosaddons.controls.safeguards"
Warn = Callable[[str], None]


def _strip_safeguards(controls: Any) -> Any:
    if not isinstance(controls, list):
        return controls
    return [c for c in controls if not (isinstance(c, Mapping) and
                                        (c.get("provider") or {}).get("module") == SAFEGUARDS)]


def safeguard_probes(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The probes of every safeguard control declared at the experiment's top level."""
    probes: list[dict[str, Any]] = []
    for control in document.get("controls") or []:
        provider = control.get("provider") or {} if isinstance(control, Mapping) else {}
        if provider.get("module") == SAFEGUARDS:
            probes.extend(copy.deepcopy((provider.get("arguments") or {}).get("probes") or []))
    return probes


class Session:
    """chaoslib's state for one run (see the module docstring)."""

    def __init__(self, exp: model.Experiment, *, var: Mapping[str, Any] | None = None,
                 var_files: Iterable[str] = (), warn: Warn | None = None) -> None:
        assert exp.ctk is not None
        self.exp = exp
        self.spec = exp.ctk
        self.warn: Warn = warn or (lambda _message: None)
        self.var = dict(var or {})
        self.var_files = list(var_files)
        doc = copy.deepcopy(dict(self.spec.document))
        if "controls" in doc:
            doc["controls"] = _strip_safeguards(doc["controls"])
        self.document: dict[str, Any] = doc
        self.configuration: dict[str, Any] = {}
        self.secrets: dict[str, Any] = {}
        self.warnings: list[str] = []
        self._opened = False
        logging.getLogger("chaostoolkit").setLevel(logging.CRITICAL)

    # -- resolving ---------------------------------------------------------------------

    def resolve(self) -> None:
        """Static configuration and secrets (environment, vars); raises ``PreflightRefused``."""
        from chaoslib import merge_vars
        from chaoslib.configuration import load_configuration
        from chaoslib.exceptions import ChaosException
        from chaoslib.secret import load_secrets

        config_vars, secret_vars = merge_vars(self.var, self.var_files)
        try:
            self.configuration = load_configuration(
                copy.deepcopy(dict(self.spec.configuration)), config_vars)
            self.secrets = load_secrets(copy.deepcopy(dict(self.spec.secrets)),
                                        self.configuration, secret_vars)
        except (ChaosException, KeyError, ValueError, TypeError) as exc:
            raise errors.PreflightRefused(
                f"Refused before any fault: {self.exp.source}: the configuration or secrets "
                f"cannot be resolved ({exc}). Set the environment variable it names (or give "
                "--var / --var-file) and run again. Nothing was injected.") from exc

    def dynamic(self) -> list[str]:
        """Run the configuration probes (chaoslib's dynamic configuration); warnings."""
        if not any(isinstance(v, Mapping) and v.get("type") == "probe"
                   for v in self.configuration.values()):
            return []
        from chaoslib.configuration import load_dynamic_configuration

        before = set(self.configuration)
        self.configuration = load_dynamic_configuration(
            copy.deepcopy(self.configuration), self.secrets)
        lost = sorted(before - set(self.configuration))
        return [f"configuration probe {name!r} failed; {name!r} is not set (as chaos run "
                "does, the run goes on without it)" for name in lost]

    def secret_values(self) -> tuple[str, ...]:
        found: set[str] = set()

        def visit(value: Any) -> None:
            if isinstance(value, Mapping):
                for inner in value.values():
                    visit(inner)
            elif isinstance(value, str) and len(value) >= 4:
                found.add(value)

        visit(self.secrets)
        return tuple(sorted(found, key=lambda v: (-len(v), v)))

    # -- chaoslib's process-wide state ---------------------------------------------------

    def open(self) -> list[str]:
        """Fill the activity cache, warn about missing control modules, configure controls."""
        from chaoslib.caching import cache_activities
        from chaoslib.control import initialize_controls

        if self._opened:
            return self.warnings
        self._opened = True
        cache_activities(self.document)
        for name, module in self.spec.controls:
            if module != SAFEGUARDS and not _importable(module):
                message = (f"Could not find Python module '{module}' in control '{name}'. "
                           "Did you install the Python module? The experiment will carry on "
                           "running nonetheless.")
                self.warnings.append(message)
                self.warn(message)
        initialize_controls(self.document, self.configuration, self.secrets)
        return self.warnings

    def control(self, level: str, scope: str, state: Any = None,
                context: Mapping[str, Any] | None = None) -> None:
        """Apply the controls of ``level`` (experiment, method, rollback) for ``scope``."""
        from chaoslib.control import apply_controls
        from chaoslib.exceptions import InterruptExecution

        try:
            apply_controls(level=level, experiment=self.document,
                           context=self.document if context is None else context,
                           scope=scope, state=state, configuration=self.configuration,
                           secrets=self.secrets)
        except InterruptExecution as exc:
            raise errors.Interrupted(f"interrupted by a {scope}-{level} control: {exc}") from exc

    def close(self, journal: Mapping[str, Any] | None = None) -> None:
        """After the run: the experiment's after-controls, cleanup, the cache cleared."""
        from chaoslib.caching import clear_cache
        from chaoslib.control import cleanup_controls

        if not self._opened:
            return
        self._opened = False
        try:
            self.control("experiment", "after", state=journal)
        except errors.GamedayError as exc:
            self.warn(f"an after-experiment control interrupted: {exc.message}")
        finally:
            try:
                cleanup_controls(self.document)
            except Exception as exc:  # noqa: BLE001 - cleanup never hides the run's outcome
                self.warn(f"a control's cleanup failed ({type(exc).__name__}: {exc})")
            clear_cache()


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
