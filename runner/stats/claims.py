"""What each shipped test guarantees, in the words the journal and the docs use.

The calibration event of every run states, per probe, which question the test answers,
its null hypothesis, the assumptions under which the false-abort rate is ≤ α, and what
the baseline checked (with its numbers). Keeping the sentences here, next to nothing but
their inputs, keeps the journal, ``docs/STATISTICS.md`` and the tests saying one thing.

Two questions, kept apart (STATS.md):
- safety (a probe with an SLO): is the service worse than its SLO threshold now? The
  null is per tick; a real excursion above p0 is a true rejection, whatever caused it.
- attribution (a probe compared with its baseline): is the window worse than this
  service's own normal? p0* comes from the baseline, so the answer is only as good as
  the baseline's picture of normal, dependence included.
"""

from __future__ import annotations

from runner.stats import dependence

SAFETY = "safety"
ATTRIBUTION = "attribution"


def question(has_slo: bool) -> str:
    return SAFETY if has_slo else ATTRIBUTION


def null(p0: float, has_slo: bool, block: int) -> str:
    unit = "tick" if block == 1 else f"block of {block} ticks"
    what = "the SLO" if has_slo else "(1 + margin) × the baseline's upper bound"
    return (f"H0: in every {unit}, the conditional mean of the error ratio given the past "
            f"(and the {unit}'s traffic) is at most p0 = {p0:.4g}, {what}")


def assumptions(mode: str, block: int, phi: float | None, n_bound: float | None) -> list[str]:
    unit = "tick" if block == 1 else f"block of {block} ticks"
    out = [f"no assumption on how errors cluster inside a {unit}: only its conditional "
           "mean enters the default bet",
           f"{unit}s do not predict each other beyond that mean: errors that cluster across "
           f"{unit}s (retry storms, a wandering error ratio) violate H0 and can abort",
           "the bet on a tick uses data up to two ticks before it, so counts leaking one tick "
           "late (scrape lag) are not bet on"]
    if mode == "fast" and phi is not None:
        out.append(f"fast mode: a tick's error count is at most as dispersed as a negative "
                   f"binomial with variance φ_t·p0·n_t, φ_t = 1 + ({phi:.3g} − 1)·max(1, "
                   f"n_t / {n_bound or 0:.4g}) (the bound grows with the tick's traffic)")
    return out


def checked_bound(p0: float, upper: float | None, level: float, ticks: int,
                  has_slo: bool) -> str:
    shown = "none (no traffic)" if upper is None else f"{upper:.4g}"
    if has_slo:
        return (f"steady state before the fault: the {1 - level:.0%} upper bound of the error "
                f"ratio over {ticks} baseline ticks is {shown}, against p0 = {p0:.4g}")
    return (f"normal: the {1 - level:.0%} upper bound over {ticks} baseline ticks is {shown}, "
            f"so p0* = {p0:.4g}")


def checked_dependence(diag: dependence.Diagnosis) -> str:
    verdict = ("none seen" if not diag.flagged else
               f"clustering across ticks: bets once per block of {diag.block} ticks"
               if not diag.refuse else "too strong to bound with the baseline")
    return f"dependence across ticks: {diag.summary()}; {verdict}"


def checked_dispersion(phi_hat: float | None, mode: str, reason: str | None) -> str:
    shown = "undefined" if phi_hat is None else f"{phi_hat:.3g}"
    if mode == "fast":
        return f"dispersion φ̂ = {shown}: fast mode granted"
    return f"dispersion φ̂ = {shown} (sizes the bets; never affects validity)" + (
        f"; fast mode refused: {reason}" if reason else "")


def dependence_warning(name: str, diag: dependence.Diagnosis) -> str:
    return (f"{name}: the baseline's errors cluster across ticks ({diag.summary()}). "
            "A per-tick test would learn that clustering and abort on the service's own "
            f"excursions, so this probe bets once per block of {diag.block} ticks (slower: "
            "see its earliest abort). Excursions that outlast a block can still abort: for "
            "the safety question they are real breaches of the SLO.")


def dependence_problem(name: str, diag: dependence.Diagnosis) -> str:
    rho = diag.acf[0] if diag.acf else float("nan")
    need = max(3 * diag.ticks, 60)
    return (f"{name}: the error ratio wanders on its own across ticks (lag-1 autocorrelation "
            f"{rho:.2f}; {diag.summary()}): no block of up to {dependence.MAX_BLOCK} ticks "
            "decorrelates it, so no test here can keep its false-abort rate without aborting "
            "on the service's own excursions. Nothing was injected. Lengthen the baseline "
            f"(at least {need} ticks) so the dependence can be measured, or investigate why "
            "the error ratio drifts before running a game day on it.")
