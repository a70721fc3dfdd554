import numpy as np
import pytest

from impl.l3_optim import quadratic


@pytest.mark.cpu
def test_nesterov(claim):
    """On a 50-dimensional quadratic with eigenvalues evenly spaced on [1, 100] (random rotation,
    seed 0, start at 0), reaching ||grad f|| <= 1e-6 with lr = 1/L takes plain gradient descent about
    1,225 steps; heavy-ball momentum (beta 0.9) needs at most 0.30x as many; Nesterov momentum
    (beta 0.9) needs no more than heavy ball; and `torch.optim.SGD(momentum=0.9[, nesterov=True])`
    reproduces each NumPy count within 5%.

    Catalog id L3.momentum; the spec's derived id is L3.momentum.nesterov.
    Course: Lesson 3, understanding optimization strategies (momentum, Nesterov).
    """
    q = quadratic.from_spectrum(np.linspace(1.0, 100.0, 50), claim.rng(0))
    x0, lr = np.zeros(50), 1.0 / 100.0
    numpy_counts = {m: quadratic.iterations_numpy(q.A, q.b, x0, lr, m, beta=0.9, tol=1e-6) for m in quadratic.METHODS}
    torch_counts = {m: quadratic.iterations_torch(q.A, q.b, x0, lr, m, beta=0.9, tol=1e-6) for m in quadratic.METHODS}
    claim.record(numpy_counts=numpy_counts, torch_counts=torch_counts)
    claim.plot("Steps to ||grad f|| <= 1e-6 on a kappa = 100 quadratic", list(quadratic.METHODS),
               {"NumPy": list(numpy_counts.values()), "torch.optim.SGD": list(torch_counts.values())},
               kind="bar", ylabel="iterations")
    gd, hb, nesterov = (numpy_counts[m] for m in quadratic.METHODS)
    claim.expect("gd_vs_reference_rel", abs(gd - claim.t["gd_reference"]) / claim.t["gd_reference"], "<=", "count_rel_tol")
    claim.expect("heavy_ball_over_gd", hb / gd, "<=", "max_heavy_ball_ratio")
    claim.expect("nesterov_minus_heavy_ball", nesterov - hb, "<=", 0)
    worst = max(abs(torch_counts[m] - numpy_counts[m]) / numpy_counts[m] for m in quadratic.METHODS)
    claim.expect("torch_vs_numpy_rel", worst, "<=", "count_rel_tol")
