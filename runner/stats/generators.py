"""Seeded generators of whole game days (baseline then fault window) for the simulations.

Every family the acceptance grid names, each one drawn jointly over the baseline and the
window (ticks 0..B−1 are the baseline), so that dependence, storms and scrape lag carry
across the fault start as they would on a real service. A draw returns (n, e), shape
(runs, B + W); ``mean_ratio`` is the long-run error ratio the family is tuned to.

Families (parameters are ours, chosen to differ from and be harsher than the issue's):
- ``binomial``: Poisson traffic, independent requests.
- ``beta``: per-tick rate ~ Beta(mean, ICC); dispersion 1 + (n − 1)·ICC.
- ``traffic``: ``beta`` whose traffic jumps ×``jump`` at the fault start.
- ``bursty``: traffic on/off (a tick is empty with probability 0.45, else ×1.8), and a
  heavy-tailed (log-normal) volume when on.
- ``lag``: ``beta`` errors whose counts (n and e alike) are partly scraped a tick late:
  a share U(0.05, 0.45) of each tick moves into the next one.
- ``latency``: log-normal latencies counted at a bucket above the threshold (bucket
  ratio > 1: conservative) or at it.
- ``pauses``: latency with timeouts clustered in short pauses: Poisson(κ) pauses a tick,
  each Exp(mean ``pause`` s) long, during which every request is slow; they carry a
  share ``pause_share`` of the slow requests, independent background slowness the rest.
- ``storms``: cross-tick retry storms: a storm starts with probability ν a tick and lasts
  U{3..8} ticks, adding a failing client's errors (ratio ``storm``·p) on top of a calmer
  background; ν is set so the long-run mean is the target.
- ``ar1``: AR(1) log-rate (coefficient ``ar``, marginal sd ``sigma``), mean ratio target.
- ``diurnal``: rate and traffic on a sinusoid (random phase), peaking at (1 + A)·mean.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
Family = Literal["binomial", "beta", "traffic", "bursty", "lag", "latency", "pauses", "storms",
                 "ar1", "diurnal"]


@dataclasses.dataclass(frozen=True)
class Gen:
    """One family with its parameters (only those of its family are read)."""

    family: Family = "binomial"
    icc: float = 0.0
    jump: float = 1.0
    bucket_ratio: float = 1.0
    lat_sigma: float = 0.8
    pause_share: float = 0.6  # share of slow requests that come from pauses
    pause: float = 0.3  # mean pause length, seconds
    tick_seconds: float = 15.0
    storm: float = 5.0  # storm error ratio, as a multiple of the long-run mean
    ar: float = 0.97
    sigma: float = 0.6
    amplitude: float = 0.5
    period: float = 90.0
    label: str = ""

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        if self.family in ("beta", "traffic", "lag") and self.icc:
            extra = f" ×{self.jump:g}" if self.family == "traffic" else ""
            return f"{self.family} icc={self.icc:g}{extra}"
        return self.family


def _beta_rates(rng: np.random.Generator, mean: FloatArray, icc: float,
                shape: tuple[int, int]) -> FloatArray:
    if icc <= 0:
        return np.broadcast_to(mean, shape).astype(np.float64)
    m = np.clip(np.broadcast_to(mean, shape), 1e-12, 1 - 1e-12)
    a = m * (1.0 - icc) / icc
    b = (1.0 - m) * (1.0 - icc) / icc
    return np.asarray(rng.beta(a, b), dtype=np.float64)


def _levels(p_base: float, p_window: float, base: int, window: int) -> FloatArray:
    return np.concatenate([np.full(base, p_base), np.full(window, p_window)])[np.newaxis, :]


def _binomial(rng: np.random.Generator, n: FloatArray, p: FloatArray) -> FloatArray:
    return rng.binomial(n.astype(np.int64), np.clip(p, 0.0, 1.0)).astype(np.float64)


def tested_latency_rate(gen: Gen, p: float) -> float:
    """Share of requests counted slow when the share above the threshold is p."""
    if gen.bucket_ratio == 1.0:
        return p
    z = float(special.ndtri(1.0 - p)) + math.log(gen.bucket_ratio) / gen.lat_sigma
    return float(special.ndtr(-z))


def draw(rng: np.random.Generator, gen: Gen, *, runs: int, base: int, window: int,
         p_base: float, p_window: float, per_tick: float) -> tuple[FloatArray, FloatArray]:
    """(n, e) of shape (runs, base + window) for ``gen``; rates p_base then p_window."""
    ticks = base + window
    shape = (runs, ticks)
    level = _levels(p_base, p_window, base, window)
    lam = np.full(shape, float(per_tick))
    f = gen.family
    if f == "traffic":
        lam[:, base:] *= gen.jump
    if f == "bursty":
        on = rng.random(shape) >= 0.45
        lam = np.where(on, 1.8 * per_tick * rng.lognormal(-0.5, 1.0, shape), 0.0)
    if f == "diurnal":
        phase = rng.uniform(0.0, 2 * math.pi, (runs, 1))
        wave = np.sin(2 * math.pi * np.arange(ticks) / gen.period + phase)
        lam = lam * (1.0 + gen.amplitude * wave)
        level = level * (1.0 + gen.amplitude * wave)
    n = rng.poisson(lam).astype(np.float64)
    if f in ("beta", "traffic", "bursty", "lag"):
        e = _binomial(rng, n, _beta_rates(rng, level, gen.icc, shape))
    elif f == "latency":
        q = np.vectorize(lambda p: tested_latency_rate(gen, p))(level)
        e = _binomial(rng, n, q)
    elif f == "pauses":
        e = _pauses(rng, gen, n, level)
    elif f == "storms":
        e = _storms(rng, gen, n, level)
    elif f == "ar1":
        e = _binomial(rng, n, _ar1(rng, gen, level, shape))
    else:
        e = _binomial(rng, n, level)
    if f == "lag":
        n, e = _scrape_lag(rng, n, e)
    return n, e


def _pauses(rng: np.random.Generator, gen: Gen, n: FloatArray, level: FloatArray) -> FloatArray:
    # A share `pause_share` of the slow requests comes from pauses (every request in a
    # pause is slow); pauses arrive at κ = pause_share·p·tick/pause a tick.
    shape = n.shape
    kappa = np.broadcast_to(gen.pause_share * level * gen.tick_seconds / gen.pause, shape)
    count = rng.poisson(kappa)
    total = np.where(count > 0, rng.gamma(np.maximum(count, 1), gen.pause), 0.0)
    share = np.minimum(1.0, total / gen.tick_seconds)
    in_pauses = rng.binomial(n.astype(np.int64), share).astype(np.float64)
    background = (1.0 - gen.pause_share) * level
    return np.asarray(in_pauses + _binomial(rng, n - in_pauses, background), dtype=np.float64)


def _storms(rng: np.random.Generator, gen: Gen, n: FloatArray, level: FloatArray) -> FloatArray:
    runs, ticks = n.shape
    mean_len = 5.5  # U{3..8}
    calm = 0.4  # background at 0.4·mean; storms carry the other 0.6
    nu = (1.0 - calm) / (gen.storm * mean_len)
    active = np.zeros((runs, ticks), dtype=bool)
    starts = rng.random((runs, ticks)) < nu
    lengths = rng.integers(3, 9, (runs, ticks))
    for t in range(ticks):
        s = starts[:, t]
        if s.any():
            for k in range(int(lengths[s, t].max())):
                if t + k < ticks:
                    active[s & (lengths[:, t] > k), t + k] = True
    rate = np.where(active, gen.storm * level + calm * level, calm * level)
    return _binomial(rng, n, rate)


def _ar1(rng: np.random.Generator, gen: Gen, level: FloatArray,
         shape: tuple[int, int]) -> FloatArray:
    runs, ticks = shape
    innov = gen.sigma * math.sqrt(1.0 - gen.ar**2)
    x = np.empty(shape)
    x[:, 0] = rng.normal(0.0, gen.sigma, runs)
    shocks = rng.normal(0.0, innov, shape)
    for t in range(1, ticks):
        x[:, t] = gen.ar * x[:, t - 1] + shocks[:, t]
    return np.asarray(np.minimum(1.0, level * np.exp(x - gen.sigma**2 / 2.0)), dtype=np.float64)


def _scrape_lag(rng: np.random.Generator, n: FloatArray,
                e: FloatArray) -> tuple[FloatArray, FloatArray]:
    share = rng.uniform(0.05, 0.45, n.shape)
    moved_n = np.floor(share * n)
    moved_e = rng.hypergeometric(e.astype(np.int64), (n - e).astype(np.int64),
                                 moved_n.astype(np.int64), size=None).astype(np.float64)
    n2, e2 = n - moved_n, e - moved_e
    n2[:, 1:] += moved_n[:, :-1]
    e2[:, 1:] += moved_e[:, :-1]
    return n2, e2
