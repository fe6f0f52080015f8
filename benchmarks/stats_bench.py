"""Benchmark: gameday's sequential tests against threshold probes (STATS.md protocol).

Seeded simulated game days (a 20-tick baseline, then a 120-tick fault window of 15 s
ticks; p0 = 1 %, α = 5 %) on generators: binomial; overdispersed Beta rates (ICC 0.001,
0.01, 0.05); AR(1) and diurnal rates; log-normal latencies counted at a bucket at the
threshold or at the next Prometheus default bucket; traffic 1/10/100/1000 req/s.

Measured in the same run, on the same simulated data:

- shipped tests: ``default`` (betting), ``fast`` (½ negative-binomial tilt + ½ default,
  the default alone where its baseline checks refuse), ``baseline`` (p0 from the
  baseline);
- reference: Wald's binomial SPRT (p1 = 2·p0, reject-only at log 1/α), never shipped;
- peers: one-strike threshold (Chaos Toolkit safeguards, Litmus promProbe continuous),
  3 consecutive breaches (Litmus retry 2), 4 cumulative breaches (Argo Rollouts
  failureLimit 3), at the SLO (τ = p0) and tuned post hoc to their best τ keeping the
  false-abort rate ≤ α on the H0 cell p = p0 of the same generator and traffic.

H0 cells (p = p0, p0/2): false-abort rate with one-sided 99 % Clopper–Pearson bounds.
H1 cells (ψ = 1.25 … 10, baseline at p0/2): detection probability and delay in ticks
(median, p90) within the window, and mean delay in requests over Wald's log(1/α)/KL,
measured on runs continued to 4 windows so that slow detections are not censored away.

    python -m benchmarks.stats_bench [--runs 10000] [--h1-runs 2000] [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from runner.stats import simulate as sim
from runner.stats import sprt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

P0 = 0.01
ALPHA = 0.05
TICK_SECONDS = 15.0
BASE_TICKS = 20
WINDOW = 120
H1_HORIZON = 4 * WINDOW  # H1 runs go on past the window so mean delays are not censored
TRAFFIC = (1, 10, 100, 1000)
PSIS = (1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
CONSECUTIVE = 3  # Litmus: retry 2 → abort on the 3rd consecutive failure
CUMULATIVE = 4  # Argo Rollouts: failureLimit 3 → abort on the 4th failure
GENERATORS: dict[str, sim.Generator] = {
    "binomial": sim.Generator(),
    "beta icc 0.001": sim.Generator("beta", icc=0.001),
    "beta icc 0.01": sim.Generator("beta", icc=0.01),
    "beta icc 0.05": sim.Generator("beta", icc=0.05),
    "ar1": sim.Generator("ar1"),
    "diurnal": sim.Generator("diurnal"),
    "latency, bucket at 0.3 s": sim.Generator("latency"),
    "latency, next bucket 0.5 s": sim.Generator("latency", bucket_ratio=0.5 / 0.3),
}
SHIPPED = ("default", "fast", "baseline")
PEERS = ("one-strike", "3-consecutive", "4-cumulative")
IID = {"binomial", "beta icc 0.001", "beta icc 0.01", "beta icc 0.05",
       "latency, bucket at 0.3 s", "latency, next bucket 0.5 s"}


def covered(method: str, gen: str, factor: float) -> bool:
    """Whether a shipped test's assumptions cover a generator at p = factor·p0."""
    if method == "default":
        return gen in IID or (gen == "diurnal" and factor * 1.5 <= 1.0)
    if method == "fast":
        return gen in IID
    if method == "baseline":
        return gen in IID - {"beta icc 0.05"}
    return False


# --- threshold probes ----------------------------------------------------------------


def ratios(n: FloatArray, e: FloatArray) -> FloatArray:
    """Per-tick error ratio; ticks without traffic are -inf (never a breach)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, e / np.where(n > 0, n, 1.0), -np.inf)


def rule_statistic(rule: str, r: FloatArray) -> FloatArray:
    """S per run such that the rule aborts at threshold τ iff S > τ."""
    if rule == "one-strike":
        return np.asarray(r.max(axis=-1))
    if rule == "3-consecutive":
        win = np.lib.stride_tricks.sliding_window_view(r, CONSECUTIVE, axis=-1)
        return np.asarray(win.min(axis=-1).max(axis=-1))
    part = -np.partition(-r, CUMULATIVE - 1, axis=-1)
    return np.asarray(part[..., CUMULATIVE - 1])


def rule_abort(rule: str, r: FloatArray, tau: float) -> IntArray:
    """Abort tick (1-based, 0 = never) of a threshold rule at τ."""
    breach = (r > tau).astype(np.int64)
    if rule == "one-strike":
        return sim.first_crossing(breach, 1)
    if rule == "3-consecutive":
        run = np.zeros_like(breach)
        for t in range(breach.shape[-1]):
            run[:, t] = (run[:, t - 1] + 1) * breach[:, t] if t else breach[:, t]
        return sim.first_crossing(run, CONSECUTIVE)
    return sim.first_crossing(np.cumsum(breach, axis=-1), CUMULATIVE)


def tune(rule: str, r_h0: FloatArray) -> float:
    """Smallest τ whose in-sample false-abort rate on the H0 runs is ≤ α (post hoc)."""
    s = np.sort(rule_statistic(rule, r_h0))[::-1]
    return float(s[math.floor(ALPHA * s.size)])


# --- running every method on a batch --------------------------------------------------


def run_methods(b: sim.Batch, taus: dict[str, float] | None,
                ) -> tuple[dict[str, IntArray], float]:
    """Abort ticks of every method, and the share of runs where fast mode was granted."""
    fast, accepted = sim.fast_abort(b, P0, ALPHA)
    out: dict[str, IntArray] = {
        "default": sim.default_abort(b, P0, ALPHA),
        "fast": fast,
        "baseline": sim.baseline_mode_abort(b, ALPHA),
        "wald-sprt": sim.first_crossing(sprt.log_lr_paths(b.n, b.e, P0, 2 * P0),
                                        math.log(1 / ALPHA)),
    }
    r = ratios(b.n, b.e)
    for rule in PEERS:
        out[rule] = rule_abort(rule, r, P0)
        if taus is not None:
            out[f"{rule} tuned"] = rule_abort(rule, r, taus[rule])
    return out, float(accepted.mean())


@dataclasses.dataclass(frozen=True)
class H1Result:
    detect: float  # within the fault window
    median: float  # ticks; inf when not reached within the window
    p90: float
    detect_horizon: float  # within H1_HORIZON ticks
    mean_requests: float  # over runs detected within the horizon; nan when none
    ratio: float  # mean_requests / Wald


def h1_summary(abort: IntArray, n: FloatArray, wald: float) -> H1Result:
    in_window = (abort > 0) & (abort <= WINDOW)
    ticks = np.where(in_window, abort, np.inf).astype(np.float64)
    det = abort > 0
    req = np.take_along_axis(np.cumsum(n, axis=-1), np.maximum(abort - 1, 0)[:, None], -1)[:, 0]
    mean_req = float(req[det].mean()) if det.any() else math.nan
    return H1Result(float(in_window.mean()),
                    float(np.quantile(ticks, 0.5, method="inverted_cdf")),
                    float(np.quantile(ticks, 0.9, method="inverted_cdf")),
                    float(det.mean()), mean_req, mean_req / wald)


def wald_requests(psi: float) -> float:
    return sprt.reject_only_n(ALPHA, sprt.kl_bernoulli(min(psi * P0, 0.999), P0))


# --- the run --------------------------------------------------------------------------


@dataclasses.dataclass
class Results:
    h0: dict[tuple[str, int, float], dict[str, tuple[int, int]]] = dataclasses.field(
        default_factory=dict)
    h1: dict[tuple[str, int, float], dict[str, H1Result]] = dataclasses.field(
        default_factory=dict)
    taus: dict[tuple[str, int], dict[str, float]] = dataclasses.field(default_factory=dict)
    accept: dict[tuple[str, int, float], float] = dataclasses.field(default_factory=dict)


def simulate(runs: int, h1_runs: int, seed: int, gens: list[str],
             log: Callable[[str], None]) -> Results:
    res = Results()
    for gi, name in enumerate(gens):
        gen = GENERATORS[name]
        for ti, rps in enumerate(TRAFFIC):
            per_tick = rps * TICK_SECONDS
            for fi, factor in enumerate((1.0, 0.5)):
                rng = np.random.default_rng([seed, gi, ti, fi, 0])
                b = sim.batch(rng, gen, p_base=factor * P0, p_window=factor * P0,
                              per_tick=per_tick, runs=runs, base_ticks=BASE_TICKS,
                              window_ticks=WINDOW)
                if factor == 1.0:
                    r = ratios(b.n, b.e)
                    res.taus[(name, rps)] = {rule: tune(rule, r) for rule in PEERS}
                aborts, _ = run_methods(b, res.taus[(name, rps)])
                res.h0[(name, rps, factor)] = {m: (int((a > 0).sum()), runs)
                                               for m, a in aborts.items()}
            for pi, psi in enumerate(PSIS):
                rng = np.random.default_rng([seed, gi, ti, pi, 1])
                b = sim.batch(rng, gen, p_base=P0 / 2, p_window=min(1.0, psi * P0),
                              per_tick=per_tick, runs=h1_runs, base_ticks=BASE_TICKS,
                              window_ticks=H1_HORIZON)
                aborts, res.accept[(name, rps, psi)] = run_methods(b, res.taus[(name, rps)])
                wald = wald_requests(psi)
                res.h1[(name, rps, psi)] = {m: h1_summary(a, b.n, wald)
                                            for m, a in aborts.items()}
        log(f"  {name}: done")
    return res


# --- per-tick cost and import cost ----------------------------------------------------

STEP_BUDGET_US = 20.0  # issue 8: monitor.step ≤ 20 µs per probe per tick


def step_cost(probes: int, mode: str, ticks: int = 200, seed: int = 7) -> float:
    """Mean µs of CPU per probe per tick of ``monitor.step`` + ``to_dict`` (the engine's use)."""
    from runner.stats import monitor

    rng = np.random.default_rng(seed)
    specs = [monitor.ProbeSpec(f"p{i}", P0, mode=mode) for i in range(probes)]  # type: ignore[arg-type]
    base = {s.name: [monitor.Obs(1500.0, float(rng.binomial(1500, P0 / 2))) for _ in range(20)]
            for s in specs}
    plan = monitor.calibrate(specs, ALPHA, base, window_ticks=ticks)
    feed = [{s.name: monitor.Obs(1500.0, float(rng.binomial(1500, P0 / 2))) for s in specs}
            for _ in range(ticks)]
    state = monitor.start(plan)
    started = time.process_time()
    for obs in feed:
        state, decision = monitor.step(plan, state, obs)
        decision.to_dict()
    return (time.process_time() - started) / ticks / probes * 1e6


def import_seconds(module: str, runs: int = 5) -> float:
    """Best-of-``runs`` wall time of importing ``module`` in a fresh interpreter (cold cost)."""
    import subprocess

    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    best = math.inf
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                             text=True)
        best = min(best, float(out.stdout.strip()))
    return best


def cost_lines() -> list[str]:
    lines = ["| probes | mode | µs per probe per tick | target |", "|---|---|---|---|"]
    for probes in (20, 100):
        for mode in ("default", "fast"):
            us = step_cost(probes, mode)
            verdict = "PASS" if us <= STEP_BUDGET_US else "FAIL"
            lines.append(f"| {probes} | {mode} | {us:.1f} | {verdict} ≤ {STEP_BUDGET_US:g} |")
    lines += ["", "| import (fresh interpreter, best of 5) | seconds |", "|---|---|"]
    for module in ("scipy.stats", "scipy.special", "numpy", "runner.stats.monitor",
                   "runner.engine.run", "runner.cli.planning"):
        lines.append(f"| `{module}` | {import_seconds(module):.3f} |")
    return lines


# --- reporting ------------------------------------------------------------------------


def fmt_rate(k: int, n: int) -> str:
    hi = sim.clopper_pearson(k, n, 0.99)[1]
    return f"{k / n:.4f} ({hi:.4f})"


def fmt_ratio(r: H1Result) -> str:
    """×Wald only when nearly every run was detected (else the mean is biased low)."""
    return f"{r.ratio:.1f}" if r.detect_horizon >= 0.9 else "—"


def fmt_ticks(x: float) -> str:
    return f">{WINDOW}" if not math.isfinite(x) else f"{x:.0f}"


def best_tuned(row: dict[str, H1Result]) -> tuple[str, H1Result]:
    return min(((m, row[f"{m} tuned"]) for m in PEERS),
               key=lambda kv: (kv[1].median, kv[1].p90, -kv[1].detect))


def h0_table(res: Results, gens: list[str]) -> list[str]:
    cols = [*SHIPPED, "wald-sprt", *PEERS, *(f"{p} tuned" for p in PEERS)]
    lines = [
        "| generator | req/s | p | " + " | ".join(cols) + " |",
        "|---|---|---|" + "---|" * len(cols),
    ]
    for name in gens:
        for rps in TRAFFIC:
            for factor in (1.0, 0.5):
                cell = res.h0[(name, rps, factor)]
                vals = []
                for m in cols:
                    txt = fmt_rate(*cell[m])
                    if m in SHIPPED and not covered(m, name, factor):
                        txt += " †"
                    vals.append(txt)
                p = "p0" if factor == 1.0 else "p0/2"
                lines.append(f"| {name} | {rps} | {p} | " + " | ".join(vals) + " |")
    return lines


def h1_table(res: Results, gens: list[str]) -> list[str]:
    lines = [
        "| generator | req/s | ψ | Wald req | default: det, med/p90 ticks, ×Wald "
        "| fast: det, med/p90, ×Wald | baseline: det, med/p90 | best tuned peer: det, "
        "med/p90 | one-strike at SLO: det, med |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in gens:
        for rps in TRAFFIC:
            for psi in PSIS:
                row = res.h1[(name, rps, psi)]
                d, f, bm = row["default"], row["fast"], row["baseline"]
                peer, pr = best_tuned(row)
                one = row["one-strike"]
                lines.append(
                    f"| {name} | {rps} | {psi:g} | {wald_requests(psi):.0f} "
                    f"| {d.detect:.2f}, {fmt_ticks(d.median)}/{fmt_ticks(d.p90)}, "
                    f"{fmt_ratio(d)} | {f.detect:.2f}, {fmt_ticks(f.median)}/"
                    f"{fmt_ticks(f.p90)}, {fmt_ratio(f)} | {bm.detect:.2f}, "
                    f"{fmt_ticks(bm.median)}/{fmt_ticks(bm.p90)} | {peer}: {pr.detect:.2f}, "
                    f"{fmt_ticks(pr.median)}/{fmt_ticks(pr.p90)} | {one.detect:.2f}, "
                    f"{fmt_ticks(one.median)} |")
    return lines


def headline_table(res: Results, gens: list[str]) -> list[str]:
    """The README-sized view: false aborts at p = p0 and median delay at ψ = 2."""
    lines = [
        "| generator | req/s | false aborts at p = p0: default / fast / one-strike at SLO "
        "| ψ = 2, median ticks to abort: default / fast / best tuned peer / one-strike at SLO |",
        "|---|---|---|---|",
    ]
    for g in gens:
        for rps in TRAFFIC:
            h0 = res.h0[(g, rps, 1.0)]
            h1 = res.h1[(g, rps, 2.0)]
            peer, pr = best_tuned(h1)
            rates = " / ".join(
                f"{h0[m][0] / h0[m][1]:.1%}"
                + (" †" if m in SHIPPED and not covered(m, g, 1.0) else "")
                for m in ("default", "fast", "one-strike"))
            lines.append(
                f"| {g} | {rps} | {rates} | {fmt_ticks(h1['default'].median)} / "
                f"{fmt_ticks(h1['fast'].median)} / {fmt_ticks(pr.median)} ({peer}) / "
                f"{fmt_ticks(h1['one-strike'].median)} |")
    return lines


def targets(res: Results, gens: list[str]) -> list[str]:
    out: list[str] = []
    for m in SHIPPED:
        bad = [f"{g} {rps} req/s p={'p0' if f == 1 else 'p0/2'} "
               f"(bound {sim.clopper_pearson(*res.h0[(g, rps, f)][m], 0.99)[1]:.4f})"
               for g in gens for rps in TRAFFIC for f in (1.0, 0.5)
               if covered(m, g, f)
               and sim.clopper_pearson(*res.h0[(g, rps, f)][m], 0.99)[1] > ALPHA]
        n_cells = sum(1 for g in gens for _ in TRAFFIC for f in (1.0, 0.5) if covered(m, g, f))
        out.append(f"{'PASS' if not bad else 'FAIL'} false aborts ≤ α (99 % upper bound) for "
                   f"`{m}` on the {n_cells} H0 cells its assumptions cover"
                   + ("" if not bad else ": " + "; ".join(bad)))
    if "binomial" in gens:
        for m, limit in (("default", 2.5), ("fast", 1.5)):
            for rps in TRAFFIC:
                r = res.h1[("binomial", rps, 2.0)][m]
                quantum = rps * TICK_SECONDS / wald_requests(2.0)
                granted = ("" if m != "fast" else
                           f"; fast mode granted in {res.accept[('binomial', rps, 2.0)]:.0%} "
                           "of runs, the default test elsewhere")
                out.append(f"{'PASS' if r.ratio <= limit else 'FAIL'} ψ=2 binomial {rps} req/s: "
                           f"`{m}` mean delay {r.ratio:.2f}× Wald (target ≤ {limit}×; one tick "
                           f"alone is {quantum:.2f}× Wald; detected {r.detect_horizon:.2f} "
                           f"within {H1_HORIZON} ticks, {r.detect:.2f} within the window"
                           f"{granted})")
    for m in ("default", "fast"):
        wins, cells, notes = 0, 0, []
        for g in gens:
            for rps in TRAFFIC:
                row = res.h1[(g, rps, 2.0)]
                ours = row[m].median
                peer, pr = best_tuned(row)
                if not math.isfinite(ours) and not math.isfinite(pr.median):
                    continue
                cells += 1
                speed = pr.median / ours
                if speed >= 2.0:
                    wins += 1
                else:
                    notes.append(f"{g} {rps} req/s: {fmt_ticks(ours)} vs {peer} "
                                 f"{fmt_ticks(pr.median)} ticks")
        out.append(f"{'PASS' if wins == cells else 'FAIL'} ψ=2: `{m}` median delay ≥ 2× faster "
                   f"than the best post-hoc-tuned threshold probe in {wins}/{cells} cells"
                   + ("" if not notes else "; not in: " + "; ".join(notes)))
    return out


def plot(res: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(TRAFFIC), figsize=(4 * len(TRAFFIC), 4), sharey=True)
    psis = np.array(PSIS)
    for ax, rps in zip(axes, TRAFFIC, strict=True):
        def shown(r: H1Result) -> float:
            return r.mean_requests if r.detect_horizon >= 0.9 else math.nan

        for m, style in (("default", "o-"), ("fast", "s-"), ("wald-sprt", "x:")):
            ys = [shown(res.h1[("binomial", rps, p)][m]) for p in PSIS]
            ax.plot(psis, ys, style, label=m)
        ys = [shown(best_tuned(res.h1[("binomial", rps, p)])[1]) for p in PSIS]
        ax.plot(psis, ys, "^--", label="best tuned threshold")
        grid = np.geomspace(PSIS[0], PSIS[-1], 50)
        ax.plot(grid, [wald_requests(p) for p in grid], "k-", lw=1, label="Wald log(1/α)/KL")
        ax.axhline(rps * TICK_SECONDS, color="grey", lw=0.5, ls="--", label="one tick")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(list(PSIS), [f"{p:g}" for p in PSIS])
        ax.minorticks_off()
        ax.set_title(f"binomial, {rps} req/s")
        ax.set_xlabel("ψ (error ratio / p0)")
    axes[0].set_ylabel("mean requests to abort")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs per H0 cell")
    parser.add_argument("--h1-runs", type=int, default=2_000, help="runs per H1 cell")
    parser.add_argument("--quick", action="store_true", help="1 000 / 300 runs")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    runs, h1_runs = (1_000, 300) if args.quick else (args.runs, args.h1_runs)
    gens = list(GENERATORS)
    started = time.perf_counter()
    res = simulate(runs, h1_runs, args.seed, gens, lambda s: print(s, file=sys.stderr))
    elapsed = time.perf_counter() - started
    head = [
        "# gameday statistics benchmark",
        "",
        f"p0 = {P0}, α = {ALPHA}, tick = {TICK_SECONDS:g} s, baseline {BASE_TICKS} ticks, "
        f"fault window {WINDOW} ticks; {runs} runs per H0 cell, {h1_runs} per H1 cell; "
        f"seed {args.seed}; {elapsed:.0f} s.",
        "",
        "## Targets",
        "",
        *(f"- {t}" for t in targets(res, gens)),
        "",
        "## Headline",
        "",
        "Tuned peers are tuned post hoc on the very generator (their false-abort rate at "
        "p = p0 is α by construction); at the SLO they are what users configure. † = outside "
        "the test's assumptions: AR(1) and diurnal rates with mean p0 exceed p0 in about half "
        "the ticks, which H0 (conditional mean ≤ p0 every tick) does not allow.",
        "",
        *headline_table(res, gens),
        "",
        "## H0: false-abort rate (one-sided 99 % upper bound)",
        "",
        "† = outside the test's assumptions (reported, not claimed). Tuned peers are tuned "
        "in-sample on the p = p0 cell, so their rate there is ≤ α by construction.",
        "",
        *h0_table(res, gens),
        "",
        "## H1: detection within the window (baseline at p0/2, window at ψ·p0)",
        "",
        f"det = detection probability within the window; med/p90 = delay in ticks (>{WINDOW}: "
        f"not reached); ×Wald = mean requests to abort (runs detected within {H1_HORIZON} "
        "ticks) / (log(1/α)/KL). Wald req = log(1/α)/KL(ψ·p0 ‖ p0); a tick holds 15 × req/s "
        "requests, so at 100 and 1000 req/s one tick alone exceeds Wald's bound. — : fewer "
        f"than 90 % of runs detected within {H1_HORIZON} ticks (a mean would be biased).",
        "",
        *h1_table(res, gens),
        "",
        "## Tuned thresholds (τ as a multiple of p0)",
        "",
        "| generator | req/s | " + " | ".join(PEERS) + " |",
        "|---|---|" + "---|" * len(PEERS),
        *(f"| {g} | {rps} | " + " | ".join(f"{res.taus[(g, rps)][p] / P0:.2f}" for p in PEERS)
          + " |" for g in gens for rps in TRAFFIC),
    ]
    text = "\n".join(head) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "stats-results.md").write_text(text, encoding="utf-8")
    plot(res, args.out / "stats-delay.png")
    print(f"wrote {args.out / 'stats-results.md'} and {args.out / 'stats-delay.png'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
