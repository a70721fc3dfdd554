import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl.l4_tuning import curves, pruning

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


SETUP = dict(n_trials=40, num_steps=30, noise_sd=0.002)


def _budget_runs(claim, seed: int, crossing: bool):
    """Per pruner: the budget fraction and whether the best final loss stayed within the bound, per seed of
    the claim's block of `num_seeds`; every pruned study tries exactly the unpruned study's configurations."""
    n_seeds, pruners = claim.t["num_seeds"], [p for p in pruning.PRUNERS if p != "none"]
    seeds = [seed * n_seeds + k for k in range(n_seeds)]
    for s in seeds:
        claim.use_seed(s)
    fractions, kept = {p: [] for p in pruners}, {p: [] for p in pruners}
    for s in seeds:
        full = pruning.run_curve_study(pruner="none", seed=s, crossing=crossing, **SETUP)
        for p in pruners:
            run = pruning.run_curve_study(p, seed=s, crossing=crossing, **SETUP)
            claim.expect("configs_differing_from_unpruned", int(np.sum(run.configs != full.configs)), "==", 0)
            fractions[p].append(run.budget_fraction)
            kept[p].append(bool(run.best_final <= full.best_final * (1 + claim.t["best_rel_tol"])))
    return pruners, fractions, kept


def _plot_budget(claim, pruners, mean_fraction, what: str) -> None:
    claim.plot(f"Steps run / unpruned steps, mean of {claim.t['num_seeds']} seeds (40 trials x 30 steps, {what})",
               pruners, {"budget fraction": [mean_fraction[p] for p in pruners],
                         "bound": [claim.t[f"max_budget_{p}"] for p in pruners]}, kind="bar", ylabel="fraction of steps")


@pytest.mark.cpu
def test_budget(claim, seed):
    """Pruning saves budget and keeps the best result when early steps predict the final ranking:
    tuning (lr, dropout) on 40 synthetic noisy exponential learning curves x 30 steps that share one
    time constant (so the ranking at any step is the final one up to noise, SD 0.002), with the same
    `RandomSampler(seed)` in the pruned and unpruned studies (so both try the same configurations,
    with the same noise), over 30 seeds: `MedianPruner` (5 startup trials, 3 warm-up steps) runs on
    average <= 70% of the unpruned study's steps, `SuccessiveHalvingPruner` and `HyperbandPruner`
    (Optuna's defaults) <= 50%; and each pruner's best final loss is within 2% of the unpruned best in
    at least 24 of the 30 seeds. The catalog's curves need not share a time constant: its statement
    on curves that cross is judged by L4.pruner.budget_crossing_curves.

    The catalog states one run; in single runs Hyperband exceeds 50% of the steps in 8% of seeds and
    successive halving misses the 2% bound in 4%, so the spec averages budgets and counts seeds
    (bounds derived in claims.yaml).
    Course: Lesson 4, advanced strategies (pruning); study guide Module 5 (successive halving, Hyperband).
    """
    pruners, fractions, kept = _budget_runs(claim, seed, crossing=False)
    mean_fraction = {p: float(np.mean(fractions[p])) for p in pruners}
    claim.record(mean_budget_fraction=mean_fraction, budget_fraction_by_seed=fractions,
                 seeds_best_kept={p: sum(kept[p]) for p in pruners}, num_seeds=claim.t["num_seeds"])
    _plot_budget(claim, pruners, mean_fraction, "shared time constant")
    for p in pruners:
        claim.expect(f"mean_budget_fraction_{p}", mean_fraction[p], "<=", f"max_budget_{p}")
        claim.expect(f"seeds_best_kept_{p}", sum(kept[p]), ">=", "min_seeds_best_kept")


@pytest.mark.cpu
@pytest.mark.known_refuted("seeds_best_kept_by_every_pruner",
                           source="pruning makes finding the optimal parameters more efficient: fewer steps, the same "
                                  "best result (catalog: each pruned study's best within 2% of the unpruned best)")
def test_budget_crossing_curves(claim, seed):
    """The catalog's pruning claim on learning curves that cross: the setting of L4.pruner.budget (40
    trials x 30 steps, the same `RandomSampler(seed)` pruned and unpruned, 30 seeds), but a larger
    learning rate converges faster (time constant 10 steps at lr 1e-4 down to 1 at lr 1, checked), so a fast
    configuration with a poor plateau can lead early and finish behind. `MedianPruner` still runs on
    average <= 70% of the unpruned steps and successive halving and Hyperband <= 50%, but the catalog's
    "each pruned study's best final loss within 2% of the unpruned best" (all three pruners in one run)
    fails: it holds in far fewer than 24 of the 30 seeds.

    Known refuted at that check, with the evidence on this page: the same pruners on the same
    configurations and noise keep the best when the curves share a time constant (L4.pruner.budget,
    holds), MedianPruner's rule is Optuna's own (L4.pruner.median_semantics), and the loss is intrinsic
    to curves whose early ranking is not the final one: a pruner stops trials by their early values.
    Per-pruner rates over 1,000 seeds are in claims.yaml.
    Course: Lesson 4, advanced strategies (pruning); study guide Module 5 (successive halving, Hyperband).
    """
    time_constants = [curves.lr_time_constant(lr) for lr in (1e-4, 1e-2, 1.0)]
    claim.expect("time_constants_at_lr_1e-4_1e-2_1_gap", max(abs(a - b) for a, b in zip(time_constants, (10, 10**0.5, 1))),
                 "<=", 1e-12)
    pruners, fractions, kept = _budget_runs(claim, seed, crossing=True)
    mean_fraction = {p: float(np.mean(fractions[p])) for p in pruners}
    kept_by_all = sum(all(kept[p][k] for p in pruners) for k in range(claim.t["num_seeds"]))
    claim.record(mean_budget_fraction=mean_fraction, budget_fraction_by_seed=fractions,
                 seeds_best_kept={p: sum(kept[p]) for p in pruners}, num_seeds=claim.t["num_seeds"])
    _plot_budget(claim, pruners, mean_fraction, "curves that cross")
    claim.plot(f"Seeds (of {claim.t['num_seeds']}) with the pruned best within 2% of the unpruned best, crossing curves",
               pruners + ["all three"], {"seeds": [sum(kept[p]) for p in pruners] + [kept_by_all],
                                          "bound": [claim.t["min_seeds_best_kept"]] * (len(pruners) + 1)},
               kind="bar", ylabel="seeds")
    for p in pruners:
        claim.expect(f"mean_budget_fraction_{p}", mean_fraction[p], "<=", f"max_budget_{p}")
    claim.expect("seeds_best_kept_by_every_pruner", kept_by_all, ">=", "min_seeds_best_kept")
