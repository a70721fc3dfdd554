import numpy as np
import pytest

from impl.l3_optim import quadratic


def _gd_count_closed_form(A, b, x0, lr: float, tol: float) -> tuple[int, float, float]:
    """First k with ||grad f(x_k)|| <= tol for GD, from the eigendecomposition alone (no iteration).

    With A = V diag(lam) V^T and c = V^T (x0 - x*), GD gives grad f(x_k) = V diag(lam (1 - lr lam)^k) c,
    so ||grad f(x_k)||^2 = sum_i lam_i^2 (1 - lr lam_i)^(2k) c_i^2, which falls monotonically in k
    (0 <= 1 - lr lam_i < 1 for lr = 1/L): bisect for the first k at or below tol. Also returns
    ||grad f(x_{k-1})|| / tol and ||grad f(x_k)|| / tol: how far the crossing is from a tie.
    """
    lam, V = np.linalg.eigh(A)
    c = V.T @ (x0 - np.linalg.solve(A, b))
    norm = lambda k: float(np.sqrt(np.sum((lam * (1 - lr * lam) ** k * c) ** 2)))  # noqa: E731
    lo, hi = 0, 1
    while norm(hi) > tol:
        lo, hi = hi, 2 * hi
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if norm(mid) <= tol else (mid + 1, hi)
    return lo, (norm(lo - 1) / tol if lo else float("inf")), norm(lo) / tol


def _momentum_count_by_modes(A, b, x0, lr: float, method: str, beta: float, tol: float, max_iter: int) -> int:
    """The same count for heavy ball / Nesterov, iterated on the eigen-coordinates (d scalar recurrences).

    In the eigenbasis each mode evolves on its own: g_i = lam_i e_i, v_i <- beta v_i + g_i, and
    e_i <- e_i - lr v_i (heavy ball) or e_i - lr (g_i + beta v_i) (Nesterov; torch's convention).
    """
    lam, V = np.linalg.eigh(A)
    e, v = V.T @ (x0 - np.linalg.solve(A, b)), np.zeros(len(lam))
    for k in range(max_iter + 1):
        g = lam * e
        if np.sqrt(np.sum(g * g)) <= tol:
            return k
        v = beta * v + g
        e = e - lr * (g + beta * v if method == "nesterov" else v)
    return max_iter + 1


@pytest.mark.cpu
def test_nesterov(claim):
    """On a 50-dimensional quadratic with eigenvalues evenly spaced on [1, 100] (random rotation,
    seed 0, start at 0), reaching ||grad f|| <= 1e-6 with lr = 1/L takes plain gradient descent exactly
    the number of steps its closed form predicts from the eigendecomposition (the catalog's reference:
    1,225); heavy-ball momentum (beta 0.9) needs at most 0.30x as many; Nesterov momentum (beta 0.9)
    needs no more than heavy ball; each momentum count equals the count of the same recursion run
    mode by mode in the eigenbasis; and `torch.optim.SGD(momentum=0.9[, nesterov=True])` reproduces
    each NumPy count within 5%. Cut two steps short of its count (`max_iter` = count - 2), each
    implementation and method reports that it never got there (`max_iter` + 1) instead of a count.
    Called without a beta, both implementations use 0.9: the same momentum counts.

    Exact counts are robust here: near the crossing the gradient norm falls by ~1% per step, far
    more than float64 rounding (the crossing's margins are recorded).
    Catalog id L3.momentum; the spec's derived id is L3.momentum.nesterov.
    Course: Lesson 3, understanding optimization strategies (momentum, Nesterov).
    """
    q = quadratic.from_spectrum(np.linspace(1.0, 100.0, 50), claim.rng(0))
    x0, lr, beta, tol = np.zeros(50), 1.0 / 100.0, 0.9, 1e-6
    numpy_counts = {m: quadratic.iterations_numpy(q.A, q.b, x0, lr, m, beta=beta, tol=tol) for m in quadratic.METHODS}
    torch_counts = {m: quadratic.iterations_torch(q.A, q.b, x0, lr, m, beta=beta, tol=tol) for m in quadratic.METHODS}
    gd_closed, before_over_tol, at_over_tol = _gd_count_closed_form(q.A, q.b, x0, lr, tol)
    reference = {"gd": gd_closed, **{m: _momentum_count_by_modes(q.A, q.b, x0, lr, m, beta, tol, 100_000)
                                     for m in ("heavy_ball", "nesterov")}}
    claim.record(numpy_counts=numpy_counts, torch_counts=torch_counts, reference_counts=reference,
                 gd_closed_form_grad_over_tol={"step_before": before_over_tol, "at_count": at_over_tol})
    claim.plot("Steps to ||grad f|| <= 1e-6 on a kappa = 100 quadratic", list(quadratic.METHODS),
               {"NumPy": list(numpy_counts.values()), "torch.optim.SGD": list(torch_counts.values()),
                "eigenbasis reference": [reference[m] for m in quadratic.METHODS]},
               kind="bar", ylabel="iterations")
    for m in quadratic.METHODS:
        claim.expect(f"{m}_count_minus_reference", numpy_counts[m] - reference[m], "==", 0)
    gd, hb, nesterov = (numpy_counts[m] for m in quadratic.METHODS)
    claim.expect("heavy_ball_over_gd", hb / gd, "<=", "max_heavy_ball_ratio")
    claim.expect("nesterov_minus_heavy_ball", nesterov - hb, "<=", 0)
    worst = max(abs(torch_counts[m] - numpy_counts[m]) / numpy_counts[m] for m in quadratic.METHODS)
    claim.expect("torch_vs_numpy_rel", worst, "<=", "count_rel_tol")
    short = {f"{name}_{m}": run(q.A, q.b, x0, lr, m, beta=beta, tol=tol, max_iter=counts[m] - 2) - (counts[m] - 1)
             for name, run, counts in (("numpy", quadratic.iterations_numpy, numpy_counts),
                                       ("torch", quadratic.iterations_torch, torch_counts)) for m in quadratic.METHODS}
    claim.record(cut_short_minus_not_reached=short)
    default_beta = {f"{name}_{m}": run(q.A, q.b, x0, lr, m, tol=tol) - counts[m]
                    for name, run, counts in (("numpy", quadratic.iterations_numpy, numpy_counts),
                                              ("torch", quadratic.iterations_torch, torch_counts))
                    for m in ("heavy_ball", "nesterov")}
    claim.record(default_beta_minus_beta_0_9=default_beta)
    claim.expect("default_beta_counts_differing", sum(value != 0 for value in default_beta.values()), "==", 0)
    claim.expect("cut_short_runs_not_reporting_max_iter_plus_1", sum(value != 0 for value in short.values()), "==", 0)
