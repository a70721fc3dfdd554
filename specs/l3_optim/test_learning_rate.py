import numpy as np
import pytest

from impl.data import digits
from impl.l3_optim import logreg, lr


@pytest.mark.cpu
def test_range(claim):
    """The learning rate has a usable range: for an MLP 64-64-10 on the standardized digits trained
    with plain SGD (batch 64, 100 steps, seed 0), lr = 10 ends with a non-finite or larger-than-initial
    loss, lr = 1e-4 cuts the loss by less than 2%, and lr = 0.1 cuts it by at least 50%. The steps
    go epoch by epoch: every batch holds 64 images and no image repeats within an epoch.

    Course: Lesson 3, understanding optimization strategies (choosing the learning rate).
    """
    data = digits.load()
    X = logreg.standardize(data.X)[:, :-1]
    claim.use_seed(0)
    grid = [10.0, 3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 1e-3, 1e-4]
    ratios = {}
    for rate in grid:
        initial, final = lr.range_test(X, data.y, rate, num_steps=100, batch_size=64, hidden=64, seed=0)
        ratios[rate] = final / initial if np.isfinite(final) else float("inf")
    claim.record(final_over_initial={str(k): v for k, v in ratios.items()})
    finite = [r for r in grid if np.isfinite(ratios[r])]
    claim.plot("SGD learning-rate range on digits: loss after 100 steps / initial loss", finite,
               {"final / initial": [ratios[r] for r in finite]}, xlabel="learning rate",
               ylabel="loss ratio", logx=True, logy=True, hline=1.0)
    batches = lr.minibatches(len(X), 64, 100, 0)
    per_epoch = len(X) // 64
    epochs = [np.concatenate(batches[i:i + per_epoch]) for i in range(0, len(batches), per_epoch)]
    claim.record(batches_per_epoch=per_epoch, epochs_started=len(epochs))
    claim.expect("batches_not_of_64", sum(len(rows) != 64 for rows in batches), "==", 0)
    claim.expect("epochs_with_a_repeated_image", sum(len(set(rows)) != len(rows) for rows in epochs), "==", 0)
    claim.expect("diverged_or_worse_at_10", ratios[10.0] > 1.0, "==", True)
    claim.expect("cut_at_1e-4", 1 - ratios[1e-4], "<", "max_cut_small_lr")
    claim.expect("cut_at_0.1", 1 - ratios[0.1], ">=", "min_cut_good_lr")


@pytest.mark.cpu
def test_decay(claim, seed):
    """Decaying the learning rate removes SGD's noise floor: on streaming least squares (d = 20,
    noise SD 1, batch 1, 20,000 steps, 5 seeds), a 1/t schedule and a cosine-to-zero schedule
    from lr 0.01 (torch schedulers) each end with at most 0.5x the excess risk of constant lr 0.01,
    averaged over seeds; and the constant-lr plateau scales with lr: doubling lr to 0.02 raises
    the plateau by a factor in [1.6, 3.2] (theory lr*d/(2 - lr*(d + 2)): 2.28). The schedulers'
    rates equal the closed forms at every step t = 0, 1, ...: lr, lr / (1 + lr t) and
    lr (1 + cos(pi t / T)) / 2.

    Course: Lesson 3, real-world application of optimization (learning-rate schedules).
    """
    num_steps, seeds = claim.t["num_steps"], [seed + k for k in range(5)]
    for s in seeds:
        claim.use_seed(s)
    t = np.arange(num_steps)
    closed_form = {
        "constant": lambda rate: np.full(num_steps, rate),
        "inverse_time": lambda rate: rate / (1 + rate * t),
        "cosine": lambda rate: rate * (1 + np.cos(np.pi * t / num_steps)) / 2,
    }
    final, plateau, curves = {}, {}, {}
    for name, rate in [("constant", 0.01), ("inverse_time", 0.01), ("cosine", 0.01), ("constant_0.02", 0.02)]:
        kind = name.split("_0")[0]
        rates = lr.schedule(kind, rate, num_steps)
        claim.expect(f"{name}_rates_vs_closed_form", float(np.max(np.abs(rates - closed_form[kind](rate))) / rate),
                     "<=", "schedule_rel_tol")
        runs = np.stack([lr.streaming_least_squares(rates, dim=20, noise=1.0, rng=np.random.default_rng(s)) for s in seeds])
        final[name] = float(runs[:, -1].mean())
        plateau[name] = float(runs[:, -num_steps // 4:].mean())
        curves[name] = runs.mean(axis=0)
    claim.record(final_excess=final, plateau_excess=plateau)
    steps = np.unique(np.geomspace(1, num_steps, 80).astype(int))
    claim.plot("Streaming least squares: excess risk (mean of 5 seeds)", steps.tolist(),
               {name: curves[name][steps - 1] for name in curves}, xlabel="step", ylabel="||w - w*||^2",
               logx=True, logy=True)
    claim.expect("inverse_time_over_constant", final["inverse_time"] / final["constant"], "<=", "max_decay_ratio")
    claim.expect("cosine_over_constant", final["cosine"] / final["constant"], "<=", "max_decay_ratio")
    ratio = plateau["constant_0.02"] / plateau["constant"]
    claim.expect("plateau_ratio_lr_doubled", ratio, ">=", "min_plateau_ratio")
    claim.expect("plateau_ratio_lr_doubled", ratio, "<=", "max_plateau_ratio")
