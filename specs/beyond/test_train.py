import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.beyond import training


@functools.cache
def _gradient_variance_ratio(seed: int, num_draws: int) -> tuple[float, float]:
    """Minibatch-gradient total variance at B = 8 and B = 64, logistic regression on 2,000 synthetic rows."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2000, 5))
    y = (rng.random(2000) < 1 / (1 + np.exp(-X @ np.ones(5)))).astype(float)
    w = np.zeros(5)
    return tuple(training.minibatch_gradient_variance(X, y, w, b, num_draws, np.random.default_rng(seed + b)) for b in (8, 64))


@pytest.mark.cpu
@pytest.mark.flag("F49")
@settings(max_examples=30)
@given(num_samples=st.integers(1, 5000), batch_size=st.integers(1, 600))
def test_batches_epochs_folds(claim, seed, num_samples, batch_size):
    """For any N <= 5,000 samples and batch size B <= 600, a torch DataLoader yields ceil(N/B)
    batches, or floor(N/B) with drop_last (1000/32 -> 32, 10,000/64 -> 157, 1000/100 -> 10, and 31
    for 1000/32 with drop_last). The variance of a minibatch gradient of logistic regression
    (N = 2,000, drawn without replacement) is 7.0-9.5x larger at B = 8 than at B = 64 (theory
    8 (N-8)/(N-64) = 8.23). KFold(5) on 1,000 samples gives disjoint test folds of 200 that cover
    every index once, and StratifiedKFold(5) keeps every class's count in each test fold within 1
    of N_c / 5. The gradient-noise scaling is the measurable part of the digests' batch-size
    folklore (the sqrt(N) heuristic; "small batches regularize, large ones overfit"), which has no
    falsifiable form as stated; B.train.gradient_noise_scale follows it over batch sizes.

    Course: beyond the course, D3 epoch, iterations, batch and folds; D4 epochs, batch size and iterations; D2 (batch size).
    """
    import torch
    from sklearn.model_selection import KFold, StratifiedKFold

    data = torch.utils.data.TensorDataset(torch.zeros(num_samples, 1))
    for drop_last in (False, True):
        loader = torch.utils.data.DataLoader(data, batch_size=batch_size, drop_last=drop_last)
        expected = num_samples // batch_size if drop_last else -(-num_samples // batch_size)
        claim.expect(f"len_loader_minus_formula_drop_last_{drop_last}", len(loader) - expected, "==", 0)
        claim.expect(f"impl_minus_formula_drop_last_{drop_last}",
                     training.batches_per_epoch(num_samples, batch_size, drop_last) - expected, "==", 0)
    examples = {(1000, 32, False): 32, (10_000, 64, False): 157, (1000, 100, False): 10, (1000, 32, True): 31}
    for (n, b, drop), expected in examples.items():
        claim.expect(f"batches_{n}_{b}_drop_{drop}", training.batches_per_epoch(n, b, drop), "==", expected)
    small, large = _gradient_variance_ratio(claim.use_seed(seed), claim.t["num_draws"])
    claim.record(variance_b8=small, variance_b64=large, theory=8 * 1992 / 1936)
    claim.expect("variance_ratio_8_over_64", small / large, ">=", "min_variance_ratio")
    claim.expect("variance_ratio_8_over_64", small / large, "<=", "max_variance_ratio")
    tests = [test for _, test in KFold(5).split(np.zeros(1000))]
    claim.expect("kfold_sizes", sorted({len(t) for t in tests}), "==", [200])
    claim.expect("kfold_cover_once", bool(np.array_equal(np.sort(np.concatenate(tests)), np.arange(1000))), "==", True)
    labels = np.repeat([0, 1, 2], [700, 240, 60])
    worst = max(abs(np.sum(labels[test] == c) - np.sum(labels == c) / 5)
                for _, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(labels, labels) for c in range(3))
    claim.expect("stratified_worst_class_gap", float(worst), "<=", 1.0)


@pytest.mark.cpu
@pytest.mark.flag("F30")
@pytest.mark.known_refuted("most_steps_in_an_epoch",
                           source="the weights are updated once, after all samples are seen, and that completes an epoch")
def test_notes_one_update_per_epoch(claim):
    """The notes' account of an epoch: the weights are updated once, after every sample has been
    seen. Training over a DataLoader of 1,000 samples in batches of 32 for 3 epochs makes exactly
    one optimizer step per epoch.

    Known refuted at `most_steps_in_an_epoch`: a standard loop steps once per batch. The counting is
    checked beside it: the loader has 32 batches and every counted step changed the weights (steps
    counted by the optimizer's own post-step hook equal the observed weight changes).
    Course: beyond the course, D3 epoch, iterations, batch and folds; flagged F30.
    """
    updates = training.count_updates(1000, 32, 3, seed=0)
    claim.use_seed(0)
    claim.record(**updates._asdict())
    claim.expect("loader_length", updates.loader_length, "==", 32)
    claim.expect("steps_equal_weight_changes", updates.steps_per_epoch, "==", updates.changes_per_epoch)
    claim.expect("most_steps_in_an_epoch", max(updates.steps_per_epoch), "==", 1)


@pytest.mark.cpu
@pytest.mark.flag("F30")
def test_one_update_per_batch(claim):
    """A standard epoch updates the weights once per batch: over a DataLoader of 1,000 samples in
    batches of 32 (3 epochs), `optimizer.step()` runs exactly len(loader) = 32 times per epoch and
    the weights change after each of those steps; with drop_last, 31 times.

    Course: beyond the course, D3 epoch, iterations, batch and folds; corrects flag F30.
    """
    claim.use_seed(0)
    for drop_last, expected in ((False, 32), (True, 31)):
        updates = training.count_updates(1000, 32, 3, drop_last=drop_last, seed=0)
        claim.record(**{f"drop_last_{drop_last}_{k}": v for k, v in updates._asdict().items()})
        claim.expect(f"loader_length_drop_last_{drop_last}", updates.loader_length, "==", expected)
        claim.expect(f"steps_per_epoch_drop_last_{drop_last}", updates.steps_per_epoch, "==", [expected] * 3)
        claim.expect(f"weight_changes_per_epoch_drop_last_{drop_last}", updates.changes_per_epoch, "==", [expected] * 3)


@pytest.mark.cpu
@pytest.mark.flag("F27")
def test_gradient_noise_scale(claim):
    """What "small batches help escape local minima" can be measured as: the noise of the step. For
    logistic regression on N = 2,000 synthetic rows, the total variance of a minibatch gradient drawn
    without replacement equals the sampling formula (sigma^2 / B) (N - B) / (N - 1) within 10% at
    every B in 4, 16, 64, 256 (sigma^2 the total variance of the per-sample gradients, 4,000 draws
    per B: the estimate's relative SE is about 2%), so the noise falls about 64-fold from B = 4 to
    B = 256. Whether that noise helps escape minima is not something the syllabus states in a
    testable form; only the scaling is asserted.

    Course: beyond the course, D2 (batch size: small batches and local minima); flagged F27.
    """
    rng = claim.rng(0)
    X = rng.standard_normal((2000, 5))
    y = (rng.random(2000) < 1 / (1 + np.exp(-X @ np.ones(5)))).astype(float)
    w = np.zeros(5)
    per_sample = X * (1 / (1 + np.exp(-(X @ w))) - y)[:, None]  # each row's log-loss gradient, written out
    sigma2 = float(per_sample.var(axis=0).sum())
    measured, theory = {}, {}
    for b in (4, 16, 64, 256):
        measured[b] = training.minibatch_gradient_variance(X, y, w, b, claim.t["num_draws"], np.random.default_rng(b))
        theory[b] = sigma2 / b * (2000 - b) / 1999
        claim.expect(f"variance_over_theory_minus_1_at_b{b}", abs(measured[b] / theory[b] - 1), "<=", "rel_tol")
    claim.plot("Minibatch-gradient variance against batch size", list(measured),
               {"measured": list(measured.values()), "(sigma^2 / B)(N - B)/(N - 1)": list(theory.values())},
               xlabel="batch size", ylabel="total variance", logx=True, logy=True)
    claim.record(per_sample_variance=sigma2)
