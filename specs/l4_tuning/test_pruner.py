import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl.l4_tuning import pruning

# Losses on a coarse grid, so a trial's best often ties the median exactly (the rule is strict);
# grid point 10 stands for NaN (a diverged evaluation), about 1 value in 11.
loss_values = st.integers(0, 10).map(lambda k: math.nan if k == 10 else k / 10)
learning_curve = st.lists(st.integers(0, 19), min_size=1, max_size=20, unique=True).flatmap(
    lambda steps: st.lists(loss_values, min_size=len(steps), max_size=len(steps)).map(
        lambda values: dict(zip(sorted(steps), values))))


@pytest.mark.cpu
def test_median_semantics(claim):
    """On any sequence of 6 to 12 learning curves of up to 20 steps (reported at any subset of steps
    0..19, values possibly NaN or tied) and any settings n_startup_trials 0..6, n_warmup_steps 0..6,
    interval_steps 1..4, n_min_trials 1..4, minimising or maximising, Optuna's `MedianPruner` prunes
    a trial at exactly the reports where the oracle does: there are at least n_startup_trials (and
    at least one) COMPLETE trials, the step is >= n_warmup_steps and the first report of its window
    of interval_steps, and the trial's best value so far is strictly worse than the median
    (`np.percentile`, 50th) of the completed trials' values at that step (NaNs ignored, no verdict
    while fewer than n_min_trials reported the step, a trial of all NaNs pruned). Every rule of the
    oracle decides some reports across the examples.

    The oracle (`impl.l4_tuning.pruning.median_oracle`) restates `PercentilePruner.prune` of
    optuna/pruners/_percentile.py. Course: Lesson 4, advanced strategies (pruning with MedianPruner).
    """
    reasons = Counter()

    @given(curves=st.lists(learning_curve, min_size=6, max_size=12), n_startup_trials=st.integers(0, 6),
           n_warmup_steps=st.integers(0, 6), interval_steps=st.integers(1, 4), n_min_trials=st.integers(1, 4),
           maximize=st.booleans())
    def agrees_with_oracle(curves, n_startup_trials, n_warmup_steps, interval_steps, n_min_trials, maximize):
        settings_ = dict(n_startup_trials=n_startup_trials, n_warmup_steps=n_warmup_steps,
                         interval_steps=interval_steps, n_min_trials=n_min_trials, maximize=maximize)
        answers = pruning.replay_median_pruner(curves, **settings_)
        completed = []
        for curve, said in zip(curves, answers):
            reported = {}
            for step, optuna_prunes in zip(sorted(curve), said):
                reported[step] = curve[step]
                oracle_prunes, reason = pruning.median_oracle(reported, completed, **settings_)
                reasons[reason] += 1
                claim.expect("disagreements_with_oracle", int(oracle_prunes != optuna_prunes), "==", 0)
            if not said[-1]:
                completed.append(curve)

    agrees_with_oracle()
    claim.record(decisions_by_reason=dict(reasons), decisions=sum(reasons.values()))
    claim.plot("MedianPruner decisions checked against the oracle, by the rule that decided", list(pruning.PRUNE_REASONS),
               {"reports": [reasons[r] for r in pruning.PRUNE_REASONS]}, kind="bar", ylabel="reports")
    for reason in pruning.PRUNE_REASONS:
        claim.expect(f"reports_decided_by_{reason}", reasons[reason], ">=", "min_reports_per_rule")


@pytest.mark.cpu
def test_budget(claim, seed):
    """Pruning saves budget and keeps the best result: tuning (lr, dropout) on 40 synthetic noisy
    exponential learning curves x 30 steps that share one time constant (so the ranking at any step
    is the final one up to noise, SD 0.002), with the same `RandomSampler(seed)` in the pruned and
    unpruned studies (so both try the same configurations, with the same noise), over 30 seeds:
    `MedianPruner` (5 startup trials, 3 warm-up steps) runs on average <= 70% of the unpruned
    study's steps, `SuccessiveHalvingPruner` and `HyperbandPruner` (Optuna's defaults) <= 50%; and
    each pruner's best final loss is within 2% of the unpruned best in at least 24 of the 30 seeds.
    Reported only: how often the best is kept on curves where a larger lr converges faster, so an
    early leader can finish behind.

    The catalog states one run; in single runs Hyperband exceeds 50% of the steps in 8% of seeds and
    successive halving misses the 2% bound in 4%, so the spec averages budgets and counts seeds
    (bounds derived in claims.yaml).
    Course: Lesson 4, advanced strategies (pruning); study guide Module 5 (successive halving, Hyperband).
    """
    n_seeds, pruners = claim.t["num_seeds"], [p for p in pruning.PRUNERS if p != "none"]
    seeds = [seed * n_seeds + k for k in range(n_seeds)]
    for s in seeds:
        claim.use_seed(s)
    setup = dict(n_trials=40, num_steps=30, noise_sd=0.002)
    fractions, kept, kept_crossing = {p: [] for p in pruners}, Counter(), Counter()
    for s in seeds:
        for crossing in (False, True):
            full = pruning.run_curve_study("none", seed=s, crossing=crossing, **setup)
            for p in pruners:
                run = pruning.run_curve_study(p, seed=s, crossing=crossing, **setup)
                claim.expect("configs_differing_from_unpruned", int(np.sum(run.configs != full.configs)), "==", 0)
                within = run.best_final <= full.best_final * (1 + claim.t["best_rel_tol"])
                if crossing:
                    kept_crossing[p] += int(within)
                else:
                    fractions[p].append(run.budget_fraction)
                    kept[p] += int(within)
    mean_fraction = {p: float(np.mean(fractions[p])) for p in pruners}
    claim.record(mean_budget_fraction=mean_fraction, budget_fraction_by_seed=fractions, seeds_best_kept=dict(kept),
                 crossing_curves_seeds_best_kept=dict(kept_crossing), num_seeds=n_seeds)
    claim.plot(f"Steps run / unpruned steps, mean of {n_seeds} seeds (40 trials x 30 steps)", pruners,
               {"budget fraction": [mean_fraction[p] for p in pruners],
                "bound": [claim.t[f"max_budget_{p}"] for p in pruners]}, kind="bar", ylabel="fraction of steps")
    for p in pruners:
        claim.expect(f"mean_budget_fraction_{p}", mean_fraction[p], "<=", f"max_budget_{p}")
        claim.expect(f"seeds_best_kept_{p}", kept[p], ">=", "min_seeds_best_kept")
