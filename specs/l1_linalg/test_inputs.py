import math

import numpy as np
import pytest

from impl.harness import rejections
from impl.l1_linalg import mf, pca, svd

GOOD = np.arange(12.0).reshape(4, 3) + np.eye(4, 3)
BAD_MATRICES = {
    "nan": np.where(np.eye(4, 3) == 1, np.nan, GOOD),
    "inf": np.where(np.eye(4, 3) == 1, np.inf, GOOD),
    "empty": np.empty((0, 3)),
    "1-D": np.arange(5.0),
    "3-D": np.zeros((2, 2, 2)),
    "text": "not a matrix",
}
# Each public Lesson 1 function, with the name of the matrix argument it must police.
CALLS = {
    "svd.thin_svd": (lambda A: svd.thin_svd(A), "A"),
    "svd.numerical_rank": (lambda A: svd.numerical_rank(A), "A"),
    "svd.null_space": (lambda A: svd.null_space(A), "A"),
    "svd.truncate": (lambda A: svd.truncate(A, 1), "A"),
    "svd.random_subspace_error": (lambda A: svd.random_subspace_error(A, 1, np.random.default_rng(0)), "A"),
    "pca.pca_eigh": (lambda X: pca.pca_eigh(X), "X"),
    "pca.pca_svd": (lambda X: pca.pca_svd(X), "X"),
    "pca.pca_jax": (lambda X: pca.pca_jax(X), "X"),
    "pca.scores": (lambda X: pca.scores(X, pca.pca_svd(GOOD)), "X"),
    "pca.feature_extraction_cv": (
        lambda X: pca.feature_extraction_cv(X, np.zeros(4), n_components=1, n_folds=2, seed=0), "X"),
    "mf.fit_numpy": (lambda A: mf.fit_numpy(A, np.ones((4, 1)), np.ones((1, 3)), 0.1, 1), "A"),
    "mf.fit_jax": (lambda A: mf.fit_jax(A, np.ones((4, 1)), np.ones((1, 3)), 0.1, 1), "A"),
}
BAD_SCALARS = [
    (lambda: svd.truncate(GOOD, 4), "k"),
    (lambda: svd.truncate(GOOD, -1), "k"),
    (lambda: svd.energy_rank(np.array([1.0, 0.5]), 1.5), "fraction"),
    (lambda: svd.energy_rank(np.array([1.0, math.nan]), 0.5), "s"),
    (lambda: mf.make_problem(4, 3, 5, 0.1, 0.1, np.random.default_rng(0)), "rank"),
    (lambda: mf.fit_numpy(GOOD, np.ones((4, 1)), np.ones((1, 3)), -0.1, 1), "lr"),
    (lambda: mf.fit_numpy(GOOD, np.ones((4, 2)), np.ones((1, 3)), 0.1, 1), "shapes"),
    (lambda: pca.reconstruct(np.ones((4, 9)), pca.pca_svd(GOOD)), "Z"),
]


@pytest.mark.cpu
def test_rejects_bad_input(claim):
    """Every public Lesson 1 function refuses NaN, infinite, empty, wrongly-shaped or non-numeric
    matrices, and out-of-range parameters, with a ValueError or TypeError that names the argument.

    Course: Lesson 1 (house rule: a learner's mistake gets a clear message, not a wrong number).
    """
    cases = rejections.argument_cases(CALLS, BAD_MATRICES) + rejections.thunk_cases(BAD_SCALARS, "scalar")
    rejections.expect_all_rejected(claim, cases)
