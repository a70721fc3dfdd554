import importlib.util
import time

import numpy as np
import pytest
from scipy import optimize

from impl.l4_tuning import benchmarks, comparison


def _branin_minimum_by_scipy() -> float:
    """Branin's minimum found numerically (L-BFGS-B from a 5 x 5 grid of starts), independent of the closed form."""
    starts = [(x1, x2) for x1 in np.linspace(-5, 10, 5) for x2 in np.linspace(0, 15, 5)]
    results = [optimize.minimize(benchmarks.branin, start, method="L-BFGS-B", bounds=[(-5, 10), (0, 15)], tol=1e-14)
               for start in starts]
    return float(min(r.fun for r in results))


def _paired_wins(tpe: np.ndarray, random: np.ndarray) -> int:
    """Seeds where TPE's final regret is strictly below random's (a tie is not a win)."""
    return int(np.sum(tpe[:, -1] < random[:, -1]))


@pytest.mark.cpu
def test_vs_random(claim, seed):
    """At an equal budget of 60 trials, TPE (`multivariate=True`) finds a lower best value than
    `RandomSampler` with the same seed in at least 67 of 100 seeds on Branin (so it wins more often
    than not, sign test p < 1e-3) and in at least 8 of 10 seeds on a 6-D shifted sphere, where its
    median regret is at most half of random's. Both minima are known (Branin 10 / (8 pi) =
    0.397887..., confirmed by SciPy from 25 starts; the sphere 0 at its shift) and no study goes
    below them; the boxes searched are the usual ones (Branin [-5, 10] x [0, 15], the sphere [-5, 5]^6). `GPSampler` on Branin at 30 trials is reported beside them, not asserted.

    The catalog's 8 of 10 seeds on Branin is replaced by 67 of 100: at the measured win rate (0.85)
    8 of 10 fails one run in five, see claims.yaml.
    Course: Lesson 4, advanced strategies (Bayesian optimisation) and introduction (why Optuna beats
    blind search).
    """
    branin, sphere = benchmarks.branin_benchmark(), benchmarks.sphere_benchmark(6)
    claim.expect("branin_closed_form_vs_scipy", abs(_branin_minimum_by_scipy() - branin.minimum), "<=",
                 "minimum_abs_tol")
    claim.expect("branin_at_its_minimizers", max(abs(benchmarks.branin(x) - branin.minimum)
                                                 for x in benchmarks.BRANIN_MINIMIZERS), "<=", "minimum_abs_tol")
    claim.expect("sphere_at_its_shift", sphere.function(np.array(sphere.minimizer)), "==", 0.0)
    boxes = {b.name: [list(b.lower), list(b.upper)] for b in (branin, sphere)}
    claim.expect("boxes_as_stated", boxes, "==", {"branin": [[-5.0, 0.0], [10.0, 15.0]],
                                                   "sphere6d": [[-5.0] * 6, [5.0] * 6]})

    n_trials, regrets = 60, {}
    for bench, n_seeds in ((branin, claim.t["branin_seeds"]), (sphere, claim.t["sphere_seeds"])):
        seeds = [seed * n_seeds + k for k in range(n_seeds)]  # disjoint blocks under --claim-seeds
        for s in seeds:
            claim.use_seed(s)
        for sampler in ("tpe", "random"):
            regrets[bench.name, sampler] = comparison.regret_curves(bench, sampler, n_trials, seeds)
    lowest = min(float(r.min()) for r in regrets.values())
    wins = {b.name: _paired_wins(regrets[b.name, "tpe"], regrets[b.name, "random"]) for b in (branin, sphere)}
    median_final = {f"{b}_{s}": float(np.median(r[:, -1])) for (b, s), r in regrets.items()}
    ratio = median_final["sphere6d_tpe"] / median_final["sphere6d_random"]
    claim.record(wins=wins, median_final_regret=median_final,
                 final_regret={f"{b}_{s}": r[:, -1] for (b, s), r in regrets.items()})
    trials = list(range(1, n_trials + 1))
    for bench in (branin, sphere):
        claim.plot(f"{bench.name}: median regret of the best value so far over seeds", trials,
                   {s: np.median(regrets[bench.name, s], axis=0) for s in ("tpe", "random")},
                   xlabel="trial", ylabel="best value - known minimum", logy=True)
    _report_gp(claim, branin, seed)

    claim.expect("lowest_regret_seen", lowest, ">=", -claim.t["minimum_abs_tol"])
    claim.expect("branin_tpe_wins", wins["branin"], ">=", "min_branin_wins")
    claim.expect("sphere_tpe_wins", wins["sphere6d"], ">=", "min_sphere_wins")
    claim.expect("sphere_median_regret_tpe_over_random", ratio, "<=", "max_sphere_median_regret_ratio")


def _report_gp(claim, branin, seed: int) -> None:
    """GPSampler on Branin, 30 trials, one seed, beside TPE and random with that seed (recorded, not asserted)."""
    n_trials = 30
    try:
        started = time.perf_counter()
        gp = comparison.regret_curves(branin, "gp", n_trials, [seed])[0]
        seconds = time.perf_counter() - started
    except ImportError as exc:  # GPSampler needs torch and scipy
        claim.record(gp_not_run=f"GPSampler unavailable: {exc}")
        return
    others = {s: comparison.regret_curves(branin, s, n_trials, [seed])[0] for s in ("tpe", "random")}
    claim.record(gp_branin_final_regret_30_trials=float(gp[-1]), gp_seconds=seconds,
                 gp_note=None if importlib.util.find_spec("greenlet") else
                 "greenlet is not installed: GPSampler optimises its acquisition function with sequential L-BFGS-B",
                 **{f"{s}_branin_final_regret_30_trials": float(r[-1]) for s, r in others.items()})
    claim.plot(f"Branin, seed {seed}, 30 trials: regret of the best value so far (GPSampler reported only)",
               list(range(1, n_trials + 1)), {"gp": gp, **others}, xlabel="trial",
               ylabel="best value - known minimum", logy=True)
