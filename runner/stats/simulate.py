"""Thousands of simulated game days through the shipped pipeline, vectorised across runs.

For each run (arrays shaped (runs, baseline + window), e.g. from ``generators.draw``)
this does what ``plan.calibrate`` and ``monitor.step`` do for one, with the same
functions on arrays: the baseline's upper bound and gate, its dispersion, the dependence
check and its remedy (block betting, or refusal), fast mode's admission, then the
window's e-process, and returns the tick each run would abort at (0 = held). A test
(tests/stats/test_simulate.py) checks a few runs against the facade itself, so the CI
grid and the benchmark measure what ships.

Randomness is injected by the callers (``numpy.random.Generator``); nothing here draws.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from runner.stats import baseline, betting, dependence, dispersion, negbin

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Method = Literal["default", "fast", "baseline"]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """Per run: abort tick (1-based within the window, 0 = held) and what the plan did."""

    abort: IntArray
    passed: BoolArray  # the baseline gate let the run through (no problem for this probe)
    flagged: BoolArray  # dependence seen: block betting or refusal
    refused: BoolArray  # refused for dependence (part of ``passed`` = False)
    fast: BoolArray  # fast mode granted (method "fast" only)
    block: IntArray


def first_crossing(paths: npt.ArrayLike, threshold: float) -> IntArray:
    """1-based index of the first tick with path ≥ threshold per run; 0 = never."""
    hit = np.asarray(paths) >= threshold
    first = np.argmax(hit, axis=-1) + 1
    return np.asarray(np.where(hit.any(axis=-1), first, 0), dtype=np.int64)


def _blocked(n: FloatArray, e: FloatArray, length: int,
             ) -> tuple[FloatArray, FloatArray, IntArray]:
    """Pool each run's ticks *with traffic* in blocks of ``length`` (as the monitor does).

    Returns block arrays and, per block, the window tick (1-based) at which it completes.
    """
    has = n > 0
    order = np.argsort(~has, axis=-1, kind="stable")
    n_c = np.take_along_axis(np.where(has, n, 0.0), order, axis=-1)
    e_c = np.take_along_axis(np.where(has, e, 0.0), order, axis=-1)
    blocks = n.shape[1] // length
    count = has.sum(axis=-1)
    cut = blocks * length
    bn = n_c[:, :cut].reshape(n.shape[0], blocks, length).sum(axis=-1)
    be = e_c[:, :cut].reshape(n.shape[0], blocks, length).sum(axis=-1)
    last = np.arange(1, blocks + 1) * length - 1  # compressed index of each block's last tick
    complete = last[np.newaxis, :] < count[:, np.newaxis]
    bn = np.where(complete, bn, 0.0)  # an incomplete block never bets
    be = np.where(complete, be, 0.0)
    at = np.take_along_axis(order, np.minimum(last, n.shape[1] - 1)[np.newaxis, :]
                            .repeat(n.shape[0], 0), axis=-1) + 1
    return bn, be, np.asarray(at, dtype=np.int64)


def _sizing(nb: FloatArray, eb: FloatArray) -> tuple[FloatArray, FloatArray]:
    phi = np.maximum(np.nan_to_num(dispersion.pearson_dispersion(nb, eb), nan=1.0), 1.0)
    return phi, dispersion.mean_traffic(nb)


def _default(nw: FloatArray, ew: FloatArray, p0: FloatArray, alpha: float, block: IntArray,
             phi: FloatArray, nbar: FloatArray, psi_prior: float) -> IntArray:
    out = np.zeros(nw.shape[0], dtype=np.int64)
    thr = math.log(1.0 / alpha)
    for length in np.unique(block):
        m = block == length
        if length == 1:
            paths = betting.log_e_paths(nw[m], ew[m], p0[m], psi_prior=psi_prior, phi=phi[m],
                                        n_disp=nbar[m])
            out[m] = first_crossing(paths, thr)
            continue
        bn, be, at = _blocked(nw[m], ew[m], int(length))
        paths = betting.log_e_paths(bn, be, p0[m], psi_prior=psi_prior, phi=phi[m],
                                    n_disp=nbar[m] * length)
        k = first_crossing(paths, thr)
        out[m] = np.where(k > 0, np.take_along_axis(at, np.maximum(k - 1, 0)[:, None], 1)[:, 0],
                          0)
    return out


def run(n: FloatArray, e: FloatArray, *, base: int, p0: float | None, alpha: float,
        method: Method = "default", psi_prior: float = 2.0) -> Outcome:
    """The shipped pipeline on every run. ``p0`` None (or method "baseline"): p0* mode."""
    nb, eb, nw, ew = n[:, :base], e[:, :base], n[:, base:], e[:, base:]
    runs = n.shape[0]
    _, _, flagged, block, refused = dependence.diagnose_arrays(nb, eb)
    phi, nbar = _sizing(nb, eb)
    if method == "baseline" or p0 is None:
        upper = baseline.upper_bounds(nb, eb, baseline.ALPHA_SHARE * alpha)
        p0_run = np.minimum(1.0, (1.0 + baseline.MARGIN) * np.nan_to_num(upper, nan=1.0))
        alpha_test = alpha * (1.0 - baseline.ALPHA_SHARE)
        passed = np.isfinite(upper)
    else:
        upper = baseline.upper_bounds(nb, eb, alpha)
        p0_run = np.full(runs, p0)
        alpha_test = alpha
        passed = np.nan_to_num(upper, nan=1.0) < p0
    passed = passed & ~refused
    abort = _default(nw, ew, p0_run, alpha_test, block, phi, nbar, psi_prior)
    fast = np.zeros(runs, dtype=np.bool_)
    if method == "fast":
        bound, ok = dispersion.accepts(nb, eb, flagged, p0_run)
        fast = ok & (block == 1)
        if fast.any():
            paths = negbin.log_e_paths(nw[fast], ew[fast], p0_run[fast], bound[fast], nbar[fast],
                                       psi_prior=psi_prior, phi=phi[fast], n_disp=nbar[fast])
            abort[fast] = first_crossing(paths, math.log(1.0 / alpha_test))
    return Outcome(abort=abort, passed=passed, flagged=flagged, refused=refused, fast=fast,
                   block=block)


def clopper_pearson(k: int, n: int, confidence: float = 0.99) -> tuple[float, float]:
    """One-sided Clopper–Pearson bounds (lower, upper) at ``confidence`` each."""
    if n <= 0:
        return 0.0, 1.0
    a = 1.0 - confidence
    lo = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, a))
    hi = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1.0 - a))
    return lo, hi


def recovery_back(n: FloatArray, e: FloatArray, *, base: int, p0: float, alpha: float,
                  ) -> IntArray:
    """The recovery watch (``recovery.step``) on every run: first tick shown back, 0 = never.

    One probe per run, per-tick bets (no blocks); φ_b from the baseline as ``recovery.plan``.
    """
    from runner.stats import recovery

    nb, eb, nw, ew = n[:, :base], e[:, :base], n[:, base:], e[:, base:]
    runs = n.shape[0]
    ticks = (nb > 0).sum(axis=-1)
    raw = dispersion.pearson_dispersion(nb, eb)
    phi_hat = np.nan_to_num(raw, nan=1.0)
    errors = np.where(nb > 0, eb, 0.0).sum(axis=-1)
    measured = np.isfinite(raw) & (errors >= dispersion.MIN_ERRORS)
    phi_b = np.where(measured, dispersion.phi_bound(phi_hat, np.maximum(ticks, 2)),
                     dispersion.PHI_MARGIN * np.maximum(1.0, phi_hat))[:, np.newaxis]
    nbar = dispersion.mean_traffic(nb)[:, np.newaxis]
    grid = np.minimum(1.0, np.asarray(recovery.GRID) * p0)[np.newaxis, :]
    n0 = recovery.MEMORY_ERRORS / p0
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.nan_to_num(errors / np.where(nb > 0, nb, 0.0).sum(axis=-1), nan=0.0)
    prior = np.clip(ratio / p0, recovery.Q_MIN, recovery.Q_MAX)[:, np.newaxis]
    e_acc = prior * p0 * n0
    n_acc = np.full((runs, 1), n0)
    log_w = np.full((runs, grid.shape[1]), -np.inf)
    log_f = np.full((runs, grid.shape[1]), -np.inf)
    rejected = np.zeros_like(log_w, dtype=np.bool_)
    seen = np.zeros((runs, 1))
    out = np.zeros(runs, dtype=np.int64)
    thr = math.log(1.0 / alpha)
    for t in range(nw.shape[1]):
        nt = nw[:, t:t + 1]
        has = nt > 0
        et = np.clip(ew[:, t:t + 1], 0.0, nt)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(nbar > 0, nt / nbar, 1.0)
        phi = 1.0 + (phi_b - 1.0) * np.maximum(scale, 1.0)
        log_pi = np.where(seen == 0, math.log(recovery.FIRST_START),
                          math.log(1.0 - recovery.FIRST_START)
                          + seen * math.log(recovery.START_DECAY))
        both = []
        for q in (np.clip((e_acc / n_acc) / grid, recovery.Q_MIN, recovery.Q_MAX),
                  np.clip(prior * p0 / grid, recovery.Q_FIXED_MIN, recovery.Q_MAX)):
            gq = q * phi / (1.0 + q * (phi - 1.0))
            both.append(np.log(gq) * et
                        + (grid * nt / (phi - 1.0)) * np.log1p((phi - 1.0) * (1.0 - gq)))
        log_w = np.where(has, np.logaddexp(log_w, log_pi) + both[0], log_w)
        log_f = np.where(has, np.logaddexp(log_f, log_pi) + both[1], log_f)
        seen = seen + has
        mixed = np.logaddexp(math.log(1.0 - recovery.FIXED_WEIGHT) + log_w,
                             math.log(recovery.FIXED_WEIGHT) + log_f)
        rejected = rejected | (mixed >= thr)
        keep = np.where(has, np.exp(-nt * p0 / (phi * recovery.MEMORY_ERRORS)), 1.0)
        e_acc = keep * e_acc + np.where(has, et, 0.0)
        n_acc = keep * n_acc + np.where(has, nt, 0.0)
        # back: every grid point at or above p0 rejected (U_t ≤ p0)
        at_p0 = int(np.searchsorted(np.asarray(recovery.GRID), 1.0 - 1e-12))
        back = rejected[:, at_p0:].all(axis=-1)
        out = np.where((out == 0) & back, t + 1, out)
    return out
