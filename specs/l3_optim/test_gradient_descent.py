import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.data import digits
from impl.l3_optim import logreg, quadratic


@pytest.mark.cpu
@settings(max_examples=25)
@given(d=st.integers(2, 20), kappa=st.floats(1.0, 100.0), top=st.floats(1e-2, 1e2), seed=st.integers(0, 2**31 - 1))
def test_quadratic(claim, d, kappa, top, seed):
    """On a quadratic whose Hessian spectrum lies in [mu, L] (any dimension up to 20, condition
    number up to 100), gradient descent with step 1/L (jax.grad, jitted) shrinks the distance to
    the minimiser at least by the factor (1 - mu/L) per step for 300 steps; step 1.99/L still
    converges; and step 2.01/L multiplies the error by at least 1,000 within 3,000 steps when the
    start has a component along the top eigenvector: 2/L is the stability edge.

    Course: Lesson 3, gradient descent and JAX (learning rate and convergence).
    """
    rng = np.random.default_rng(seed)
    L, mu = top, top / kappa
    eigenvalues = np.concatenate([[mu, L], rng.uniform(mu, L, d - 2)])
    q = quadratic.from_spectrum(eigenvalues, rng)
    x0 = q.x_star + rng.standard_normal(d) + q.eigenvectors[:, 1]  # column 1 belongs to L
    norms = quadratic.gd_error_norms_jax(q.A, q.b, x0, 1.0 / L, 300)
    # Rounding floors the error near eps * |x|, so the bound gets a tiny absolute term (matters for kappa ~ 1).
    floor = claim.t["abs_floor_rel"] * (np.linalg.norm(x0) + np.linalg.norm(q.x_star))
    bound = (1 - mu / L) ** np.arange(301) * norms[0] * (1 + claim.t["bound_slack"]) + floor
    claim.track_max("worst_error_over_bound", float(np.max(norms / bound)))
    claim.expect("error_over_bound", float(np.max(norms / bound)), "<=", 1.0)
    below = quadratic.gd_error_norms_jax(q.A, q.b, x0, 1.99 / L, 3000)
    claim.expect("final_over_initial_at_1.99_over_L", float(below[-1] / below[0]), "<=", "converged_ratio")
    above = quadratic.gd_error_norms_jax(q.A, q.b, x0, 2.01 / L, 3000)
    claim.expect("growth_at_2.01_over_L", float(above.max() / above[0]), ">=", "min_growth")


@pytest.mark.cpu
def test_jax_vs_torch(claim):
    """Full-batch gradient descent on multinomial logistic regression for the standardized digits
    (constant pixels dropped, zero start, float64, lr = 1/L with L = lambda_max(X^T X / n) / 2)
    follows the same parameters in JAX (`jit(grad)`) and PyTorch (autograd) to 1e-9 relative at
    every 50th of 200 steps, both start at the loss log 10 and take the course's first step
    -lr X^T (1/10 - Y) / n (Y one-hot) to 1e-9 relative, and the loss never increases in either.

    The first step and lr are recomputed here from their definitions, so a mistake both frameworks
    share (a summed loss, a wrong curvature bound) cannot pass.
    Course: Lesson 3, gradient descent in JAX vs PyTorch; comparison of the frameworks.
    """
    data = digits.load()
    X = logreg.standardize(data.X)
    lr = logreg.smoothness_lr(X)
    n, K = X.shape[0], int(data.y.max()) + 1
    lr_by_definition = 1.0 / (0.5 * np.linalg.norm(X, 2) ** 2 / n)  # L = lambda_max(X^T X / n) / 2 via the SVD
    claim.expect("lr_rel_err_vs_definition", abs(lr - lr_by_definition) / lr_by_definition, "<=", "rel_tol")
    first_step = -lr * X.T @ (1.0 / K - np.eye(K)[data.y]) / n
    for name, gd in (("jax", logreg.gd_jax), ("torch", logreg.gd_torch)):
        run = gd(X, data.y, lr, 1, every=1)
        claim.expect(f"{name}_initial_loss_minus_log_k", abs(run.losses[0] - np.log(K)), "<=", "rel_tol")
        step_gap = float(np.abs(run.params[1] - first_step).max() / np.abs(first_step).max())
        claim.expect(f"{name}_first_step_rel_err", step_gap, "<=", "rel_tol")
    jax_run = logreg.gd_jax(X, data.y, lr, 200, every=50)
    torch_run = logreg.gd_torch(X, data.y, lr, 200, every=50)
    gaps = [float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-300))
            for a, b in zip(jax_run.params[1:], torch_run.params[1:])]
    claim.record(lr=lr, checkpoints=jax_run.checkpoints[1:], rel_gaps=gaps, final_loss=jax_run.losses[-1],
                 features=X.shape[1] - 1)
    claim.plot("Full-batch GD on digits (softmax regression): loss per step", list(range(201)),
               {"JAX jit(grad)": jax_run.losses, "PyTorch autograd": torch_run.losses},
               xlabel="step", ylabel="cross-entropy", logy=True)
    claim.expect("max_rel_param_gap", max(gaps), "<=", "rel_tol")
    claim.expect("jax_max_loss_increase", float(np.diff(jax_run.losses).max()), "<=", 0.0)
    claim.expect("torch_max_loss_increase", float(np.diff(torch_run.losses).max()), "<=", 0.0)
