"""Experiment dataclasses: what the engine runs, frozen and free of I/O.

These are in-memory values (kopf's split): the file as loaded is kept separately as
``Experiment.document`` (a plain JSON-able mapping, secrets redacted) for the journal.
All durations are seconds (float); all latencies are seconds. The one exception to "no
I/O" is ``PrometheusConfig.secret_values``, which reads the credential files it names
(through an injectable reader) so the journal can scrub their contents by value.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Literal

from runner.model.ctk import spec as ctk_spec

Platform = Literal["local", "kubernetes"]
TestMode = Literal["default", "fast"]

_SECRET_HEADER = re.compile(r"authori[sz]ation|token|key|secret|cookie|passw|credential",
                            re.IGNORECASE)

#: The special Prometheus URL meaning "the local sandbox's own Prometheus".
SANDBOX_PROMETHEUS = "sandbox"


@dataclasses.dataclass(frozen=True)
class Target:
    """What the experiment hits. ``selector`` is a label selector (``app=checkout``)."""

    platform: Platform = "local"
    namespace: str | None = None
    selector: str | None = None
    context: str | None = None  # kube context; None = current context / in-cluster


@dataclasses.dataclass(frozen=True)
class BlastRadius:
    """Upper bounds the runner enforces on the actual selection, before any fault."""

    max_pods: int | None = None
    max_fraction: float | None = None
    namespaces: tuple[str, ...] = ()
    allow_production: bool = False


@dataclasses.dataclass(frozen=True)
class Authorization:
    """An ``Authorization: <type> <credentials>`` header (Prometheus ``authorization``).

    ``credentials_file`` is read at connection time (Prometheus re-reads it per request;
    gameday once per run), so a mounted Secret works and the value is never in the file.
    """

    type: str = "Bearer"
    credentials: str | None = dataclasses.field(default=None, repr=False)
    credentials_file: str | None = None


@dataclasses.dataclass(frozen=True)
class BasicAuth:
    """HTTP basic authentication (Prometheus ``basic_auth``)."""

    username: str
    password: str | None = dataclasses.field(default=None, repr=False)
    password_file: str | None = None


@dataclasses.dataclass(frozen=True)
class TLSConfig:
    """How the server's certificate is checked and which client certificate is shown."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False


def _read_secret(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


@dataclasses.dataclass(frozen=True)
class PrometheusConfig:
    """Where the steady state is read, and how to connect (Prometheus' own ``http_config``
    keys: ``authorization``, ``basic_auth``, ``tls_config``, ``proxy_url``; plus ``headers``).

    Secrets (header values, passwords, credentials) are never journaled: the loader
    redacts the document by key, and ``secret_values`` gives the values themselves so a
    writer can scrub them wherever they turn up. ``retries`` is how many times a failed
    query is tried again (connection errors, timeouts, 5xx, 429), all within ``timeout``.
    """

    url: str = SANDBOX_PROMETHEUS
    tick: float = 15.0
    timeout: float = 5.0
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict, repr=False)
    retries: int = 2
    authorization: Authorization | None = None
    basic_auth: BasicAuth | None = None
    tls: TLSConfig = dataclasses.field(default_factory=TLSConfig)
    proxy_url: str | None = None

    def secret_values(
        self, read: Callable[[str], str | None] = _read_secret
    ) -> tuple[str, ...]:
        """Every secret value this config carries or points to, longest first.

        Values of secret-looking headers (``Authorization``, ``X-Api-Key``, ``Cookie``...,
        and their part after a scheme such as ``Bearer``; a tenant header is not a secret
        and is left out, though the loader redacts every header in the document), basic-auth
        passwords and their ``user:password`` base64 form, authorization credentials,
        the contents of ``password_file`` / ``credentials_file`` (read now with ``read``,
        stripped as Prometheus strips them; an unreadable file gives nothing), and the
        password in the URL's or the proxy URL's userinfo.
        """
        found: set[str] = set()
        for name, value in self.headers.items():
            if _SECRET_HEADER.search(name):
                found.add(value.strip())
                found.add(value.strip().partition(" ")[2].strip())
        auth = self.authorization
        if auth is not None:
            found.add(auth.credentials or "")
            found.add((read(auth.credentials_file) or "") if auth.credentials_file else "")
        basic = self.basic_auth
        if basic is not None:
            password = basic.password or ""
            if basic.password_file:
                password = read(basic.password_file) or ""
            found.add(password)
            if password:
                pair = f"{basic.username}:{password}".encode()
                found.add(base64.b64encode(pair).decode("ascii"))
        for url in (self.url, self.proxy_url or ""):
            userinfo = urllib.parse.urlsplit(url).password
            found.add(urllib.parse.unquote(userinfo) if userinfo else "")
        return tuple(sorted((v for v in found if v), key=lambda v: (-len(v), v)))


@dataclasses.dataclass(frozen=True)
class RatioProbe:
    """Error ratio from two counter selectors; tested against ``max`` (or the baseline).

    ``errors`` and ``total`` are PromQL series selectors of counters
    (``http_requests_total{app="x",code=~"5.."}``); gameday takes per-tick deltas itself.
    ``max`` None means: compare with the pre-fault baseline instead of a fixed SLO.
    """

    name: str
    errors: str
    total: str
    max: float | None = None
    weight: float = 1.0
    mode: TestMode = "default"


@dataclasses.dataclass(frozen=True)
class LatencyProbe:
    """Latency quantile SLO from a Prometheus histogram: P(latency > max) <= 1 - quantile."""

    name: str
    histogram: str  # metric base name, without _bucket/_count
    max: float  # seconds
    quantile: float = 0.99
    match: str = ""  # label matchers, e.g. '{app="checkout"}'
    weight: float = 1.0
    mode: TestMode = "default"


@dataclasses.dataclass(frozen=True)
class GaugeProbe:
    """A deterministic guardrail on a PromQL expression that returns one series.

    Fires after ``for_ticks`` consecutive ticks outside [min, max]. Outside alpha.
    """

    name: str
    query: str
    min: float | None = None
    max: float | None = None
    for_ticks: int = 1


@dataclasses.dataclass(frozen=True)
class ReadyReplicasProbe:
    """A guardrail on a workload's ready replicas, read from the platform's API."""

    name: str
    workload: str  # Deployment or StatefulSet name (kubernetes), service name (local)
    kind: Literal["Deployment", "StatefulSet"] = "Deployment"
    namespace: str | None = None
    min: int = 1
    for_ticks: int = 1


Probe = RatioProbe | LatencyProbe | GaugeProbe | ReadyReplicasProbe
StatProbe = RatioProbe | LatencyProbe
Guardrail = GaugeProbe | ReadyReplicasProbe


@dataclasses.dataclass(frozen=True)
class SteadyState:
    """The hypothesis. ``alpha`` is the false-abort budget for the whole run."""

    alpha: float = 0.05
    baseline: float = 60.0
    probes: tuple[Probe, ...] = ()
    min_effect: float = 2.0  # smallest violation worth catching, as a multiple psi of p0
    #: seconds of Prometheus history to replay before any fault (None: none asked for)
    history: float | None = None
    #: what a false-abort estimate above alpha does: warn (with the numbers) or refuse
    history_above_alpha: Literal["warn", "refuse"] = "warn"
    #: the abort threshold: the model's own (slo), or calibrated on the history (history)
    against: Literal["slo", "history"] = "slo"

    @property
    def stat_probes(self) -> tuple[StatProbe, ...]:
        return tuple(p for p in self.probes if isinstance(p, RatioProbe | LatencyProbe))

    @property
    def guardrails(self) -> tuple[Guardrail, ...]:
        return tuple(p for p in self.probes if isinstance(p, GaugeProbe | ReadyReplicasProbe))


@dataclasses.dataclass(frozen=True)
class PodKillFault:
    """Kill ``count`` (or ``fraction`` of) pods/replicas matching ``selector``."""

    selector: str | None = None
    count: int | None = None
    fraction: float | None = None
    namespace: str | None = None
    grace_period: float | None = None
    seed: int | None = None
    name: str = "pod-kill"


@dataclasses.dataclass(frozen=True)
class LatencyFault:
    """Add latency to traffic of the selected pods/replicas; expires by itself."""

    selector: str | None = None
    delay: float = 0.1
    jitter: float = 0.0
    correlation: float = 0.0
    direction: Literal["to", "from", "both"] = "to"
    namespace: str | None = None
    name: str = "latency"


@dataclasses.dataclass(frozen=True)
class ActionFault:
    """A generic Chaos Toolkit action and the action that reverts it (plain dicts)."""

    action: Mapping[str, Any]
    revert: Mapping[str, Any] | None = None
    name: str = "action"


Fault = PodKillFault | LatencyFault | ActionFault


@dataclasses.dataclass(frozen=True)
class BurnWindow:
    """One window of a multi-window burn-rate rule: hot when the burn rate exceeds ``factor``."""

    seconds: float
    factor: float


@dataclasses.dataclass(frozen=True)
class BurnRate:
    """An error-budget burn-rate rule (the SRE workbook's multi-window alert).

    The burn rate over a window is the error ratio there divided by the budget
    ``1 - slo``; the rule is hot when *every* window is above its factor (a fast and a
    slow window together: the fast one reacts, the slow one confirms). ``bad`` (or
    ``good``) and ``total`` are counter series selectors; gameday takes their increase
    over each window itself.
    """

    slo: float
    windows: tuple[BurnWindow, ...]
    total: str
    bad: str | None = None
    good: str | None = None


@dataclasses.dataclass(frozen=True)
class AbortPolicy:
    """Abort conditions; any one ends the fault window. The steady-state test is always on.

    ``burn_rates`` are evaluated each tick by a sentinel of the adapter layer (they need
    Prometheus windows, not the tick's samples): hot in the window is a broken steady
    state (exit 1), hot before any fault refuses the run (exit 3).
    """

    guardrail: bool = True
    no_data_ticks: int = 3
    alerts: tuple[str, ...] = ()
    burn_rates: tuple[BurnRate, ...] = ()


@dataclasses.dataclass(frozen=True)
class Recovery:
    """After the revert, the steady state must come back within ``within`` seconds."""

    within: float | None = None


StepKind = Literal["action", "probe"]
#: ``None`` means "not chosen": gameday's own default (rollbacks: always).
RollbackStrategy = Literal["default", "always", "never", "deviated"]


@dataclasses.dataclass(frozen=True)
class Step:
    """One activity of a method (Chaos Toolkit's ``method``), in order.

    ``activity`` is the activity as written (a ``ref`` resolved to the activity it names),
    with its ``${name}`` placeholders: they are substituted at run time by the activity
    runner, never at load. A pause is seconds or a ``${name}`` text resolved at run time.
    ``checked`` is True for a probe whose ``tolerance`` is enforced.
    """

    index: int
    kind: StepKind
    name: str
    activity: Mapping[str, Any]
    background: bool = False
    pause_before: float | str | None = None
    pause_after: float | str | None = None
    checked: bool = False


@dataclasses.dataclass(frozen=True)
class Method:
    """A sequence of activities and the group of reverts that undoes it (its rollbacks).

    The rollbacks are one revert group: registered before the first step, run in their
    order on every exit path. ``rollback_strategy`` None is gameday's "always";
    otherwise the strategy means what it means to ``chaos run`` (runner.engine.rollbacks).
    ``hypothesis_strategy`` None is gameday's default (before, during, after), and
    ``hypothesis_frequency`` None is the adapter's documented default.
    """

    steps: tuple[Step, ...] = ()
    rollbacks: tuple[Mapping[str, Any], ...] = ()
    rollback_strategy: RollbackStrategy | None = None
    hypothesis_strategy: str | None = None
    hypothesis_frequency: float | None = None

    @property
    def actions(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind == "action")


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A validated experiment. ``document`` is the file as loaded (secrets redacted)."""

    title: str
    target: Target
    prometheus: PrometheusConfig
    steady_state: SteadyState
    faults: tuple[Fault, ...]
    duration: float
    version: int = 1
    owner: str | None = None
    description: str | None = None
    blast_radius: BlastRadius = dataclasses.field(default_factory=BlastRadius)
    abort: AbortPolicy = dataclasses.field(default_factory=AbortPolicy)
    recovery: Recovery = dataclasses.field(default_factory=Recovery)
    seed: int | None = None
    source: str = "<memory>"
    document: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    sha256: str = ""
    method: Method | None = None  # a Chaos Toolkit method (then ``faults`` are its actions)
    ctk: ctk_spec.Spec | None = None  # what only the Chaos Toolkit adapters read
