import functools

import numpy as np
import pytest

from impl.beyond import bias_variance

DEGREES = (1, 3, 5, 9, 15)
N, SIGMA = 30, 0.3


@functools.cache
def _table(seed: int, num_replicates: int) -> dict:
    """The decomposition at every degree (one shared generator per degree, fixed by the seed)."""
    return {d: bias_variance.decompose(d, n=N, noise=SIGMA, num_replicates=num_replicates,
                                       rng=np.random.default_rng([seed, d])) for d in DEGREES}


def _measured(claim, seed):
    table = _table(claim.use_seed(seed), claim.t["num_replicates"])
    claim.record(**{f"degree_{d}": row._asdict() for d, row in table.items()})
    return table


@pytest.mark.cpu
def test_bias_variance(claim, seed):
    """Fixed design (n = 30 equispaced x, y = sin 2 pi x + N(0, 0.3^2), 2,000 training sets,
    Chebyshev least squares of degree 1, 3, 5, 9, 15): bias^2 strictly falls over degrees
    1 -> 3 -> 5 and stays <= 1e-3 beyond; the expected test error is U-shaped, smallest at degree 3
    or 5, with err(1) >= 2.5x and err(15) >= 1.2x the minimum; RidgeCV at degree 15 has a lower
    test MSE than plain least squares (mean over 200 training sets). On `digits`, logistic
    regression trained on 1,000 samples is >= 5 pp more accurate on 597 held-out samples than
    trained on 100, with a smaller train - test gap.

    Course: beyond the course, D3 bias-variance trade-off, unreasonable effectiveness of data; D2 (bias, variance).
    """
    from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeCV

    table = _measured(claim, seed)
    bias2, error = [table[d].bias2 for d in DEGREES], [table[d].expected_error for d in DEGREES]
    claim.plot("Bias-variance on a fixed design (n = 30, sigma = 0.3)", list(DEGREES),
               {"bias^2": bias2, "variance": [table[d].variance for d in DEGREES], "expected error": error},
               xlabel="polynomial degree", logy=True, hline=SIGMA**2)
    claim.expect("bias2_drop_1_to_3", bias2[0] - bias2[1], ">", 0.0)
    claim.expect("bias2_drop_3_to_5", bias2[1] - bias2[2], ">", 0.0)
    claim.expect("max_bias2_beyond_5", max(bias2[2:]), "<=", "max_bias2_high_degree")
    best = DEGREES[int(np.argmin(error))]
    claim.expect("best_degree_in_3_5", best in (3, 5), "==", True)
    claim.expect("error_1_over_min", error[0] / min(error), ">=", "min_underfit_ratio")
    claim.expect("error_15_over_min", error[-1] / min(error), ">=", "min_overfit_ratio")
    rng = np.random.default_rng([seed, 99])
    x = np.linspace(0, 1, N)
    design = np.polynomial.chebyshev.chebvander(2 * x - 1, 15)[:, 1:]
    x_test = rng.random(500)
    design_test = np.polynomial.chebyshev.chebvander(2 * x_test - 1, 15)[:, 1:]
    mse = {"ols": [], "ridge": []}
    for _ in range(claim.t["ridge_replicates"]):
        y = np.sin(2 * np.pi * x) + SIGMA * rng.standard_normal(N)
        for name, model in (("ols", LinearRegression()), ("ridge", RidgeCV(alphas=np.logspace(-6, 2, 30)))):
            mse[name].append(np.mean((model.fit(design, y).predict(design_test) - np.sin(2 * np.pi * x_test)) ** 2))
    claim.record(ridge_mse=float(np.mean(mse["ridge"])), ols_mse=float(np.mean(mse["ols"])))
    claim.expect("ridge_minus_ols_mse", float(np.mean(mse["ridge"]) - np.mean(mse["ols"])), "<", 0.0)
    from impl.data import digits

    data = digits.load()
    order = np.random.default_rng(seed).permutation(len(data.y))
    test = order[1200:]
    scores = {}
    for size in (100, 1000):
        train = order[:size]
        model = LogisticRegression(max_iter=2000).fit(data.X[train] / 16, data.y[train])
        scores[size] = (model.score(data.X[train] / 16, data.y[train]), model.score(data.X[test] / 16, data.y[test]))
    claim.record(digits_train_test_accuracy={str(k): v for k, v in scores.items()})
    claim.expect("digits_gain_pp", 100 * (scores[1000][1] - scores[100][1]), ">=", "min_data_gain_pp")
    claim.expect("digits_gap_shrink", (scores[100][0] - scores[100][1]) - (scores[1000][0] - scores[1000][1]), ">", 0.0)


@pytest.mark.cpu
@pytest.mark.flag("F31")
@pytest.mark.known_refuted("ratio_spread",
                           source="the expected loss is a constant times the sum of variance and squared bias")
def test_notes_error_proportional(claim, seed):
    """The notes' decomposition: the expected loss is a constant times (variance + bias^2). On the
    fixed design above, the ratio expected error / (bias^2 + variance) is the same at degrees 1, 3,
    5, 9 and 15 to within 5% (max/min <= 1.05).

    Course: beyond the course, D3 bias-variance trade-off; flagged F31.
    """
    table = _measured(claim, seed)
    ratios = [row.expected_error / (row.bias2 + row.variance) for row in table.values()]
    claim.record(ratios=ratios)
    claim.expect("ratio_spread", max(ratios) / min(ratios), "<=", "max_ratio_spread")


@pytest.mark.cpu
@pytest.mark.flag("F31")
def test_noise_term(claim, seed):
    """The expected squared error is bias^2 + variance + sigma^2, the last term the irreducible
    noise: on the fixed design above the Monte-Carlo expected error matches the sum within 3% at
    every degree 1, 3, 5, 9, 15.

    Course: beyond the course, D3 bias-variance trade-off; corrects flag F31.
    """
    table = _measured(claim, seed)
    gaps = [abs(row.expected_error / (row.bias2 + row.variance + SIGMA**2) - 1) for row in table.values()]
    claim.expect("worst_relative_gap", max(gaps), "<=", "rel_tol")


@pytest.mark.cpu
@pytest.mark.flag("F32")
@pytest.mark.known_refuted("worst_train_error_over_variance_minus_1",
                           source="variance is how far a model's predictions deviate from its training targets")
def test_notes_variance_is_training_misfit(claim, seed):
    """The notes' definition of variance as how far a model's predictions deviate from its training
    targets: on the fixed design above, the mean squared training residual equals the variance of
    the fits across training sets within 5% at degrees 1 and 15.

    Course: beyond the course, D3 bias-variance trade-off; flagged F32.
    """
    table = _measured(claim, seed)
    misfit = {f"degree_{d}": abs(table[d].train_error / table[d].variance - 1) for d in (1, 15)}
    claim.record(train_error_over_variance_minus_1=misfit)
    claim.expect("worst_train_error_over_variance_minus_1", max(misfit.values()), "<=", "rel_tol")


@pytest.mark.cpu
@pytest.mark.flag("F32")
def test_variance_across_training_sets(claim, seed):
    """Variance is the spread of a model's predictions across training sets: for least squares on
    the fixed design above it is sigma^2 (d + 1) / n (the trace of the hat matrix over n) within
    5% at every degree 1, 3, 5, 9, 15, while the training residual is a different quantity,
    bias^2 + sigma^2 (1 - (d + 1)/n) in expectation (within 5%).

    Course: beyond the course, D3 bias-variance trade-off; corrects flag F32.
    """
    table = _measured(claim, seed)
    for d, row in table.items():
        claim.expect(f"degree_{d}_variance_vs_theory", abs(row.variance / (SIGMA**2 * (d + 1) / N) - 1), "<=", "rel_tol")
        expected_train = row.bias2 + SIGMA**2 * (1 - (d + 1) / N)
        claim.expect(f"degree_{d}_train_error_vs_theory", abs(row.train_error / expected_train - 1), "<=", "rel_tol")
