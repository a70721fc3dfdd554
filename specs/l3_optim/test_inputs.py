import math

import numpy as np
import pytest

from impl.harness import rejections
from impl.l3_optim import adam, autodiff, frameworks, lr, logreg, mlp, quadratic

GOOD_X = np.arange(12.0).reshape(4, 3) / 10
GOOD_Y = np.array([0, 1, 0, 1])
GOOD_A = np.diag([1.0, 2.0, 3.0])
NET = autodiff.make_net(3, 1, 2)
THETA = np.zeros(NET.num_params)
BAD_MATRICES = {
    "nan": np.where(np.eye(4, 3) == 1, np.nan, GOOD_X),
    "inf": np.where(np.eye(4, 3) == 1, np.inf, GOOD_X),
    "empty": np.empty((0, 3)),
    "1-D": np.arange(5.0),
    "text": "not a matrix",
}
# Each public Lesson 3 function that takes a data matrix, with the argument name it must police.
CALLS = {
    "adam.adam_numpy": (lambda X: adam.adam_numpy(X, GOOD_Y, np.zeros(3), num_steps=1), "X"),
    "adam.adam_jax": (lambda X: adam.adam_jax(X, GOOD_Y, np.zeros(3), num_steps=1), "X"),
    "adam.adam_torch": (lambda X: adam.adam_torch(X, GOOD_Y, np.zeros(3), num_steps=1), "X"),
    "logreg.standardize": (lambda X: logreg.standardize(X), "X"),
    "logreg.smoothness_lr": (lambda X: logreg.smoothness_lr(X), "X"),
    "logreg.gd_jax": (lambda X: logreg.gd_jax(X, GOOD_Y, 0.1, 1), "X"),
    "logreg.gd_torch": (lambda X: logreg.gd_torch(X, GOOD_Y, 0.1, 1), "X"),
    "autodiff.grad_jax": (lambda X: autodiff.grad_jax(NET, THETA, X, np.zeros(4)), "X"),
    "autodiff.grad_torch": (lambda X: autodiff.grad_torch(NET, THETA, X, np.zeros(4)), "X"),
    "autodiff.grad_central_difference": (lambda X: autodiff.grad_central_difference(NET, THETA, X, np.zeros(4)), "X"),
    "quadratic.iterations_numpy": (lambda A: quadratic.iterations_numpy(A, np.ones(3), np.zeros(3), 0.1, "gd"), "A"),
    "quadratic.iterations_torch": (lambda A: quadratic.iterations_torch(A, np.ones(3), np.zeros(3), 0.1, "gd"), "A"),
    "quadratic.gd_error_norms_jax": (lambda A: quadratic.gd_error_norms_jax(A, np.ones(3), np.zeros(3), 0.1, 1), "A"),
    "lr.range_test": (lambda X: lr.range_test(X, GOOD_Y, 0.1, num_steps=1, batch_size=2), "X"),
    "frameworks.make_workload": (lambda X: frameworks.make_workload(
        X, GOOD_Y, hidden=2, batch_size=2, num_steps=1, lr=0.1, rng=np.random.default_rng(0)), "X"),
}
BAD_SCALARS = [
    (lambda: adam.adam_numpy(GOOD_X, GOOD_Y, np.zeros(3), adam.AdamConfig(lr=-1.0), 1), "lr"),
    (lambda: adam.adam_numpy(GOOD_X, GOOD_Y, np.zeros(3), adam.AdamConfig(beta1=1.0), 1), "beta1"),
    (lambda: adam.adam_numpy(GOOD_X, GOOD_Y, np.zeros(2), num_steps=1), "w0"),
    (lambda: adam.adam_numpy(GOOD_X, GOOD_Y[:3], np.zeros(3), num_steps=1), "y"),
    (lambda: adam.adam_numpy(GOOD_X, GOOD_Y, np.zeros(3), num_steps=0), "num_steps"),
    (lambda: quadratic.from_spectrum(np.array([1.0, -1.0]), np.random.default_rng(0)), "eigenvalues"),
    (lambda: quadratic.from_spectrum(np.array([1.0, math.nan]), np.random.default_rng(0)), "eigenvalues"),
    (lambda: quadratic.iterations_numpy(GOOD_A, np.ones(3), np.zeros(3), 0.1, "adagrad"), "method"),
    (lambda: quadratic.iterations_numpy(GOOD_A, np.ones(3), np.zeros(3), 0.1, "nesterov", beta=1.5), "beta"),
    (lambda: quadratic.gd_error_norms_jax(GOOD_A, np.ones(2), np.zeros(3), 0.1, 1), "b"),
    (lambda: logreg.gd_jax(GOOD_X, np.array([0.5, 1, 0, 1]), 0.1, 1), "y"),
    (lambda: logreg.gd_torch(GOOD_X, GOOD_Y, 0.0, 1), "lr"),
    (lambda: autodiff.grad_jax(NET, np.zeros(3), GOOD_X, np.zeros(4)), "theta"),
    (lambda: autodiff.make_net(3, 0, 2), "depth"),
    (lambda: autodiff.grad_central_difference(NET, THETA, GOOD_X, np.zeros(4), h=0.0), "h"),
    (lambda: lr.schedule("step", 0.01, 10), "schedule"),
    (lambda: lr.streaming_least_squares(np.array([0.1, math.nan]), dim=2, noise=1.0, rng=np.random.default_rng(0)), "rates"),
    (lambda: lr.streaming_least_squares(np.array([0.1]), dim=0, noise=1.0, rng=np.random.default_rng(0)), "dim"),
    (lambda: mlp.to_tensors(np.zeros((2, 28, 28)), np.array([0, 1])), "X"),
    (lambda: mlp.to_tensors(np.zeros((2, 28, 28), np.uint8), np.array([0, 11])), "y"),
    (lambda: mlp.make_optimizer("rmsprop", [], 0.1), "optimizer"),
    (lambda: mlp.make_mlp(-1), "seed"),
]


@pytest.mark.cpu
def test_rejects_bad_input(claim):
    """Every public Lesson 3 function refuses NaN, infinite, empty, wrongly-shaped or non-numeric
    data, mismatched lengths and out-of-range parameters (learning rates, betas, step counts,
    schedules, labels) with a ValueError or TypeError whose message names the argument.

    Course: Lesson 3 (house rule: a learner's mistake gets a clear message, not a wrong number).
    """
    cases = rejections.argument_cases(CALLS, BAD_MATRICES) + rejections.thunk_cases(BAD_SCALARS, "scalar")
    rejections.expect_all_rejected(claim, cases)
