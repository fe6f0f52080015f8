"""Recovery with positive evidence: an always-valid upper bound of the error ratio.

After a revert the question is not "did a fresh test fail to reject for a few ticks?"
(a service still at 2·p0 always passes that: the fresh test needs ≥ 5 ticks) but "is
the error ratio shown to be below p0?". So each probe gets an upper confidence sequence
U_t: P(∃ t: true ratio > U_t) ≤ α, and the probe is *back* once U_t ≤ p0. The engine
adds the guardrails (in bounds on that tick).

Construction. For each m on the grid GRID·p0 an e-process against H0_m, "the error
ratio is at least m" (each tick's conditional mean count ≥ m·n_t), from the factors

    log G_s(m) = −θ_s·e_s + (m·n_s/(φ_s − 1))·log(1 + (φ_s − 1)(1 − e^{−θ_s})),

the negative-binomial lower tail: exp(−θe)/E_NB[exp(−θe)] with mean m·n_s and variance
φ_s·m·n_s. That expectation decreases as the mean grows, so the factor has conditional
mean ≤ 1 under every ratio ≥ m (a composite null). The tilt θ_s is predictable, from
e^{−θ} = qφ/(1 + q(φ − 1)) (the optimum when the ratio is q·m), and each m averages two
e-processes (an average of e-processes is one): 0.8 on a fixed q aimed at "back to the
baseline's ratio" (q = max(baseline/m, 0.1)), 0.2 on a plug-in q = R̂/m from a short
forgetting estimate R̂, which wins when the service comes back above its baseline. (The
plug-in alone remembered the fault's in-flight tail for several ticks and bet nothing
meanwhile.)

The question is whether the service is back *from some tick on*: the first ticks after
a revert still carry the fault's in-flight requests, and a product over every tick would
never forgive them. So each e-process is a mixture over start times,
Σ_s π_s Π_{u=s..t} G_u with π_1 = 0.6 and π_s = 0.4·2^−(s−1) after (Σ π_s = 1: still an
e-process; no transient costs log(1/0.6) = 0.5 nats, a transient of k ≥ 1 ticks about
log 2.5 + (k − 1)·log 2), updated as A_t = (A_{t−1} + π_t)·G_t.

U_t is the smallest grid m such that every grid m' ≥ m has been rejected (its average
reached 1/α at some tick): if the true ratio is μ ≥ m_k, then U_t ≤ μ needs H0_{m_k}
rejected, which has probability ≤ α. A service still at 2·p0 (or at p0) is therefore
"back" in at most α of runs, whatever the traffic.

The assumption (journaled with each recovery tick as ``phi``): a tick's count is at most
as dispersed, in its lower tail, as a negative binomial with φ_t = 1 + (φ_b − 1)·max(1,
n_t/n̄_b), the bound fast mode uses, from the baseline with its margin (even for
default-mode probes). When the baseline holds fewer than 10 errors, dispersion cannot be
measured and φ_b is STATS.md's margin 1.5: an assumption, not a measurement. A probe
whose plan bets on blocks pools its ticks the same way here.
Several probes: the service is back when every one is (an intersection–union test:
each one's "not back" is kept at α, no correction needed).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TypedDict

from runner.stats.plan import MonitorPlan, Obs, usable

#: The grid of candidate bounds, as multiples of p0: 2^(k/3), k = −12..12 (p0/16..16·p0).
GRID: tuple[float, ...] = tuple(2.0 ** (k / 3.0) for k in range(-12, 13))
#: The plug-in ratio q = R̂/m is kept in [Q_MIN, Q_MAX] (θ finite, and θ > 0).
Q_MIN = 0.02
Q_MAX = 0.98
#: The fixed tilt aims at the baseline's ratio, but never below this share of m.
Q_FIXED_MIN = 0.1
#: Its weight in the average with the plug-in (recovery means back to the baseline).
FIXED_WEIGHT = 0.8
PRIOR_Q = 0.5  # the tilt's prior when the plan has no baseline ratio
#: Memory of the ratio estimate, in null errors' worth of requests (it only sizes θ; short,
#: so that the in-flight tail of the fault does not freeze the tilt for long).
MEMORY_ERRORS = 2.0
#: Weight of a start at the first tick with data; later starts share the rest,
#: halving: π_1 = FIRST_START, π_s = (1 − FIRST_START)·2^−(s−1) for s ≥ 2 (Σ π_s = 1).
FIRST_START = 0.6
START_DECAY = 0.5


@dataclasses.dataclass(frozen=True)
class ProbeRecovery:
    """One probe's recovery parameters, fixed from the monitor plan."""

    name: str
    p0: float
    phi: float
    n_bound: float | None
    block: int
    prior: float = PRIOR_Q  # the tilt's prior ratio, as a multiple of p0 (the baseline's)

    def phi_at(self, n: float) -> float:
        scale = n / self.n_bound if self.n_bound else 1.0
        return 1.0 + (self.phi - 1.0) * (scale if scale > 1.0 else 1.0)


@dataclasses.dataclass(frozen=True)
class RecoveryPlan:
    alpha: float
    probes: tuple[ProbeRecovery, ...]


def plan(monitor: MonitorPlan) -> RecoveryPlan:
    """The recovery watch's parameters: each probe's p0, dispersion bound and block."""
    from runner.stats import dispersion

    out = []
    for p in monitor.probes:
        errors = (p.baseline_ratio or 0.0) * (p.n_mean or 0.0) * p.baseline_ticks
        if p.phi is not None:  # fast mode's bound
            phi = p.phi
        elif p.phi_hat is not None and errors >= dispersion.MIN_ERRORS:
            phi = float(dispersion.phi_bound(p.phi_hat, max(p.baseline_ticks, 2)))
        else:  # too few errors to measure dispersion: STATS.md's stated margin
            phi = dispersion.PHI_MARGIN * max(1.0, p.phi_hat or 1.0)
        prior = min(Q_MAX, max(Q_MIN, (p.baseline_ratio or 0.0) / p.p0))
        out.append(ProbeRecovery(p.name, p.p0, phi, p.n_mean, max(1, p.block_ticks), prior))
    return RecoveryPlan(alpha=monitor.alpha, probes=tuple(out))


@dataclasses.dataclass(frozen=True)
class ProbeRecoveryState:
    log_w: tuple[float, ...]  # per grid point: start-time mixture, plug-in tilt
    log_f: tuple[float, ...]  # per grid point: start-time mixture, fixed tilt
    rejected: tuple[bool, ...]
    e_acc: float
    n_acc: float
    ticks: int = 0
    block_n: float = 0.0
    block_e: float = 0.0
    block_count: int = 0


@dataclasses.dataclass(frozen=True)
class RecoveryState:
    tick: int
    probes: tuple[ProbeRecoveryState, ...]


def start(rplan: RecoveryPlan) -> RecoveryState:
    """Fresh e-processes for every probe and grid point; the estimate at the prior."""
    fresh = []
    for p in rplan.probes:
        n0 = MEMORY_ERRORS / p.p0
        fresh.append(ProbeRecoveryState(log_w=tuple(-math.inf for _ in GRID),
                                        log_f=tuple(-math.inf for _ in GRID),
                                        rejected=tuple(False for _ in GRID),
                                        e_acc=p.prior * p.p0 * n0, n_acc=n0))
    return RecoveryState(tick=0, probes=tuple(fresh))


def log_factor(n: float, e: float, m: float, phi: float, q: float) -> float:
    """One tick's log factor against H0_m for the plug-in q (in [Q_MIN, Q_MAX])."""
    if phi - 1.0 < 1e-9:  # Poisson limit
        return math.log(q) * e + m * n * (1.0 - q)
    g = q * phi / (1.0 + q * (phi - 1.0))  # e^{-θ}
    return math.log(g) * e + (m * n / (phi - 1.0)) * math.log1p((phi - 1.0) * (1.0 - g))


def _log_start(k: int) -> float:
    """log π_k for a start at the k-th tick with data (k ≥ 1)."""
    if k == 1:
        return math.log(FIRST_START)
    return math.log(1.0 - FIRST_START) + (k - 1) * math.log(START_DECAY)


def _restart(prev: float, log_pi: float) -> float:
    """log(A + π): the running mixture over start times, with a new start of weight π."""
    top = prev if prev > log_pi else log_pi
    return top + math.log(math.exp(prev - top) + math.exp(log_pi - top))


def _advance(p: ProbeRecovery, s: ProbeRecoveryState, n: float, e: float,
             threshold: float) -> ProbeRecoveryState:
    phi = p.phi_at(n)
    rate = s.e_acc / s.n_acc
    log_pi = _log_start(s.ticks + 1)
    logs, fixed, rejected = [], [], []
    for k, mult in enumerate(GRID):
        m = min(1.0, mult * p.p0)
        q = min(Q_MAX, max(Q_MIN, rate / m))
        q_fix = min(Q_MAX, max(Q_FIXED_MIN, p.prior * p.p0 / m))
        lw = _restart(s.log_w[k], log_pi) + log_factor(n, e, m, phi, q)
        lf = _restart(s.log_f[k], log_pi) + log_factor(n, e, m, phi, q_fix)
        logs.append(lw)
        fixed.append(lf)
        top = lw if lw > lf else lf
        both = top + math.log((1.0 - FIXED_WEIGHT) * math.exp(lw - top)
                              + FIXED_WEIGHT * math.exp(lf - top))
        rejected.append(s.rejected[k] or both >= threshold)
    keep = math.exp(-n * p.p0 / (phi * MEMORY_ERRORS))
    return ProbeRecoveryState(log_w=tuple(logs), log_f=tuple(fixed), rejected=tuple(rejected),
                              e_acc=keep * s.e_acc + e, n_acc=keep * s.n_acc + n,
                              ticks=s.ticks + 1)


def upper_bound(p: ProbeRecovery, s: ProbeRecoveryState) -> float | None:
    """U_t: the smallest grid m with every m' ≥ m rejected; None while none is."""
    bound: float | None = None
    for k in range(len(GRID) - 1, -1, -1):
        if not s.rejected[k]:
            break
        bound = min(1.0, GRID[k] * p.p0)
    return bound


class ProbeRecoveryDict(TypedDict):
    name: str
    p0: float
    phi: float
    upper_bound: float | None
    back: bool
    ticks: int


class RecoveryStepDict(TypedDict):
    tick: int
    probes: list[ProbeRecoveryDict]
    back: bool
    alpha: float


@dataclasses.dataclass(frozen=True)
class RecoveryStep:
    """After one tick: each probe's upper bound and whether the statistics say back."""

    tick: int
    names: tuple[str, ...]
    p0: tuple[float, ...]
    upper: tuple[float | None, ...]
    ticks: tuple[int, ...]
    alpha: float
    phi: tuple[float, ...] = ()

    @property
    def back(self) -> bool:
        return all(u is not None and u <= p for u, p in zip(self.upper, self.p0, strict=True))

    def sentence(self) -> str:
        """'upper bound 0.0042 < p0 0.01 (probe)' per probe, for the journal and verdict."""
        parts = []
        for name, u, p in zip(self.names, self.upper, self.p0, strict=True):
            shown = "none yet" if u is None else f"{u:.3g}"
            rel = "≤" if u is not None and u <= p else "not below"
            parts.append(f"{name}: {1 - self.alpha:.0%} upper bound {shown} {rel} p0 {p:.3g}")
        return "; ".join(parts)

    def to_dict(self) -> RecoveryStepDict:
        return RecoveryStepDict(
            tick=self.tick, back=self.back, alpha=self.alpha,
            probes=[ProbeRecoveryDict(name=n, p0=p, phi=f, upper_bound=u,
                                      back=u is not None and u <= p, ticks=t)
                    for n, p, f, u, t in zip(self.names, self.p0, self.phi or
                                             tuple(1.0 for _ in self.names), self.upper,
                                             self.ticks, strict=True)])


def step(rplan: RecoveryPlan, state: RecoveryState, obs: Mapping[str, Obs | None],
         ) -> tuple[RecoveryState, RecoveryStep]:
    """One tick of the recovery watch (no data for a probe leaves it untouched)."""
    threshold = math.log(1.0 / rplan.alpha)
    new: list[ProbeRecoveryState] = []
    for p, s in zip(rplan.probes, state.probes, strict=True):
        o = obs.get(p.name)
        if o is None or not usable(o):
            new.append(s)
            continue
        n, e = o.n, min(max(o.e, 0.0), o.n)
        if p.block > 1 and s.block_count + 1 < p.block:
            new.append(dataclasses.replace(s, block_n=s.block_n + n, block_e=s.block_e + e,
                                           block_count=s.block_count + 1))
            continue
        new.append(_advance(p, s, n + s.block_n, e + s.block_e, threshold))
    result = RecoveryState(tick=state.tick + 1, probes=tuple(new))
    return result, RecoveryStep(
        tick=result.tick, names=tuple(p.name for p in rplan.probes),
        p0=tuple(p.p0 for p in rplan.probes),
        upper=tuple(upper_bound(p, s) for p, s in zip(rplan.probes, new, strict=True)),
        ticks=tuple(s.ticks for s in new), alpha=rplan.alpha,
        phi=tuple(p.phi for p in rplan.probes))


def back_ticks(rplan: RecoveryPlan, series: Sequence[Mapping[str, Obs | None]]) -> int:
    """The first tick at which every probe is back (0: never); for tests and simulation."""
    state = start(rplan)
    for obs in series:
        state, decision = step(rplan, state, obs)
        if decision.back:
            return decision.tick
    return 0
