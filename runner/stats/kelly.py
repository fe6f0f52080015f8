"""The Kelly bet on one tick's error ratio, tabulated once and looked up in plain math.

The default test multiplies its wealth each tick by 1 + y·(r/p0 − 1) (``betting``). Which
y ∈ [0, Y_MAX] grows the wealth fastest depends on how noisy r is: with λ = n·p0 null
errors expected in the tick and a true ratio ψ·p0, the errors are about Poisson(ψ·λ), and
the growth-optimal ("Kelly") bet is

    y*(λ, ψ) = argmax_y E log(1 + y·(X/λ − 1)),   X ~ Poisson(ψ·λ),

0 when ψ ≤ 1, Y_MAX once λ is large (a tick is then nearly deterministic). This module
tabulates y* on a grid uniform in log λ and log ψ and interpolates bilinearly; the
scalar ``bet`` and the vectorised ``bets`` do the same arithmetic, so the engine's one
probe-tick and the simulation of thousands of runs give the same bets.

Decisions:
- The table is a sizing rule, not part of validity: any bet in [0, Y_MAX] chosen before
  the tick's errors are seen keeps the e-process valid. Poisson is the right shape for
  sizing (binomial with small p0), and overdispersion enters through an effective λ
  (``betting`` divides λ by the dispersion it expects).
- Y_MAX = 0.95 keeps every factor ≥ 0.05 (a zero-error tick costs at most 3 nats) and
  still reaches STATS.md's floor: at r = 2·p0 each tick gives log 1.95 = 0.668 nats, so
  ⌈log(20)/0.668⌉ = 5 ticks at α = 5 %, the floor ⌈log(1/α)/log ψ⌉.
- Just above ψ = 1 at high traffic the optimum jumps from 0 to Y_MAX within one grid
  step; interpolation there under-bets (up to ~20 % less growth at ψ = 1.1, λ = 150).
  That is conservative (and damps bets on noise around p0), so the grid stays coarse.
- Built lazily, once per process (~0.1–0.3 s of numpy), never at import; numpy itself
  is imported only by what needs it (the table, ``bets``, the Gauss–Hermite rule), so
  the power check of ``gameday plan`` at modest traffic runs on plain math alone.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

Y_MAX = 0.95
#: Grid: log λ from LOG_LAM0 in steps of LAM_STEP; log ψ from 0 in steps of PSI_STEP.
LOG_LAM0 = math.log(1e-4)
LAM_STEP = 0.3
LAM_POINTS = 70  # up to λ ≈ 1e-4 · e^(0.3·69) ≈ 1e5
PSI_STEP = 0.12
PSI_POINTS = 60  # up to ψ ≈ e^(0.12·59) ≈ 1200 (r ≤ 1 caps ψ at 1/p0 anyway)
#: Above this many expected errors a Gauss–Hermite rule replaces the Poisson sum.
EXACT_UP_TO = 40.0


def _solve(w: FloatArray, z: FloatArray) -> FloatArray:
    """Per row of (weights, outcomes z): the y in [0, Y_MAX] where the growth's slope is 0."""
    import numpy as np

    lo = np.zeros(w.shape[0])
    hi = np.full(w.shape[0], Y_MAX)

    def slope(y: FloatArray) -> FloatArray:
        return np.asarray(np.sum(w * z / (1.0 + y[:, np.newaxis] * z), axis=1))

    capped = slope(hi) > 0
    for _ in range(32):  # 0.95 / 2^32: far below any difference in growth
        mid = 0.5 * (lo + hi)
        up = slope(mid) > 0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    return np.asarray(np.where(capped, Y_MAX, lo), dtype=np.float64)


@functools.cache
def table() -> FloatArray:
    """y* on the grid, shape (LAM_POINTS, PSI_POINTS); column 0 is ψ = 1 (y* = 0).

    Cells with ψλ ≤ EXACT_UP_TO sum the Poisson law exactly; the others use a 48-point
    Gauss–Hermite rule on the normal approximation (there P(X = 0) < e^-40).
    """
    import numpy as np

    lam = np.exp(LOG_LAM0 + LAM_STEP * np.arange(LAM_POINTS))[:, np.newaxis]
    psi = np.exp(PSI_STEP * np.arange(PSI_POINTS))[np.newaxis, :]
    lam_g, psi_g = np.broadcast_arrays(lam, psi)
    nu = lam_g * psi_g
    out = np.zeros(nu.shape)
    exact = (nu <= EXACT_UP_TO) & (psi_g > 1.0)
    k = np.arange(0.0, math.ceil(EXACT_UP_TO + 12.0 * math.sqrt(EXACT_UP_TO) + 25.0))
    nu_e = nu[exact][:, np.newaxis]
    w = np.exp(k * np.log(nu_e) - nu_e - np.cumsum(np.log(np.maximum(k, 1.0))))
    out[exact] = _solve(w, k / lam_g[exact][:, np.newaxis] - 1.0)
    normal = (~exact) & (psi_g > 1.0)
    x, gw = np.polynomial.hermite_e.hermegauss(48)
    ps, ls = psi_g[normal][:, np.newaxis], lam_g[normal][:, np.newaxis]
    z = np.maximum(-1.0, (ps - 1.0) + np.sqrt(ps / ls) * x)
    out[normal] = _solve(np.broadcast_to(gw / gw.sum(), z.shape), z)
    out.setflags(write=False)
    return out


_ROWS: list[list[float]] = []


def _rows() -> list[list[float]]:
    if not _ROWS:
        _ROWS.extend([float(v) for v in row] for row in table())
    return _ROWS


def prepare() -> None:
    """Build the table and its plain-math copy now (``monitor.start`` calls this)."""
    _rows()


def bet(lam: float, psi: float) -> float:
    """y*(λ, ψ) for one tick in plain math (the engine's path); 0 when ψ ≤ 1 or λ ≤ 0."""
    if not (psi > 1.0 and lam > 0.0):
        return 0.0
    fi = (math.log(lam) - LOG_LAM0) / LAM_STEP
    fi = 0.0 if fi < 0.0 else (LAM_POINTS - 1.0 if fi > LAM_POINTS - 1.0 else fi)
    fj = math.log(psi) / PSI_STEP
    fj = min(fj, PSI_POINTS - 1.0)
    i = int(fi) if fi < LAM_POINTS - 2 else LAM_POINTS - 2
    j = int(fj) if fj < PSI_POINTS - 2 else PSI_POINTS - 2
    a, b = fi - i, fj - j
    t = _ROWS or _rows()
    lo, hi = t[i], t[i + 1]
    return ((1.0 - a) * ((1.0 - b) * lo[j] + b * lo[j + 1])
            + a * ((1.0 - b) * hi[j] + b * hi[j + 1]))


def bets(lam: npt.ArrayLike, psi: npt.ArrayLike) -> FloatArray:
    """``bet`` elementwise over arrays (the simulation's path), same arithmetic."""
    import numpy as np

    lam_a = np.asarray(lam, dtype=np.float64)
    psi_a = np.asarray(psi, dtype=np.float64)
    ok = (psi_a > 1.0) & (lam_a > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fi = np.clip((np.log(np.where(ok, lam_a, 1.0)) - LOG_LAM0) / LAM_STEP,
                     0.0, LAM_POINTS - 1.0)
        fj = np.minimum(np.log(np.where(ok, psi_a, 1.0)) / PSI_STEP, PSI_POINTS - 1.0)
    i = np.minimum(fi.astype(np.int64), LAM_POINTS - 2)
    j = np.minimum(fj.astype(np.int64), PSI_POINTS - 2)
    a, b = fi - i, fj - j
    t = table()
    out = ((1.0 - a) * ((1.0 - b) * t[i, j] + b * t[i, j + 1])
           + a * ((1.0 - b) * t[i + 1, j] + b * t[i + 1, j + 1]))
    return np.asarray(np.where(ok, out, 0.0), dtype=np.float64)


def _outcomes(lam: float, psi: float) -> tuple[list[float], list[float]]:
    """(weights, z = X/λ − 1) of X ~ Poisson(ψλ): exact terms, or 48 Gauss–Hermite nodes."""
    nu = psi * lam
    if nu <= EXACT_UP_TO:
        weights, zs = [], []
        log_p = -nu
        for k in range(math.ceil(nu + 12.0 * math.sqrt(nu) + 25.0)):
            if k:
                log_p += math.log(nu / k)
            weights.append(math.exp(log_p))
            zs.append(k / lam - 1.0)
        return weights, zs
    import numpy as np

    x, gw = np.polynomial.hermite_e.hermegauss(48)
    sd = math.sqrt(psi / lam)
    total = float(gw.sum())
    return ([float(w) / total for w in gw],
            [max(-1.0, psi - 1.0 + sd * float(v)) for v in x])


def growth(lam: float, psi: float, y: float) -> float:
    """E log(1 + y·(X/λ − 1)) for X ~ Poisson(ψ·λ): a tick's expected log-factor (power)."""
    weights, zs = _outcomes(lam, psi)
    return math.fsum(w * math.log1p(y * z) for w, z in zip(weights, zs, strict=True))


def optimal(lam: float, psi: float) -> float:
    """y*(λ, ψ) computed directly (no table): the power check's one-off bet."""
    if not (psi > 1.0 and lam > 0.0):
        return 0.0
    weights, zs = _outcomes(lam, psi)

    def slope(y: float) -> float:
        return math.fsum(w * z / (1.0 + y * z) for w, z in zip(weights, zs, strict=True))

    if slope(Y_MAX) > 0:
        return Y_MAX
    lo, hi = 0.0, Y_MAX
    for _ in range(32):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
    return lo
