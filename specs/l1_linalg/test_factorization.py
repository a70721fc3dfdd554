import jax
import numpy as np
import pytest

from impl.pipeline import artifacts
from impl.l1_linalg import mf


@pytest.mark.cpu
def test_jax_gd_optimum(claim):
    """Factorizing a noisy rank-10 200 x 100 matrix as W H by jitted JAX gradient descent
    (lr = 1/sigma_1^2, small random init, float64) gets within 1% of the Eckart-Young optimum
    in 5,000 steps, and a plain NumPy loop from the same start follows the same loss curve; rerun
    here, the JAX fit's first 10 steps and one step of the jitted single-step function repeat the
    NumPy loop's (the stage's stored run cannot show a change in the code after it was built).

    The JAX fit is the DVC stage `l1_fit_mf`; the NumPy run is recomputed here.
    Course: Lesson 1, matrix factorization with JAX compared with NumPy.
    """
    fit = np.load(artifacts.require("data/models/l1_linalg/mf.npz"))
    A, W, H, losses, optimum = fit["A"], fit["W"], fit["H"], fit["losses"], float(fit["optimum"])
    # The course's definitions, recomputed from A: lr = 1/sigma_1^2 and the Eckart-Young optimum
    # sqrt(sum_{i > rank} sigma_i^2), so a shared mistake in the stage cannot move the yardstick.
    sigma = np.linalg.svd(A, compute_uv=False)
    claim.expect("lr_times_sigma1_sq_minus_1", abs(float(fit["lr"]) * sigma[0] ** 2 - 1), "<=", "definition_rel_tol")
    optimum_by_definition = float(np.sqrt(np.sum(sigma[int(fit["rank"]):] ** 2)))
    claim.expect("optimum_rel_err", abs(optimum - optimum_by_definition) / optimum_by_definition,
                 "<=", "definition_rel_tol")
    ratio = mf.residual_norm(A, W, H) / optimum
    claim.record(steps=int(losses.size), optimum=optimum, rank=int(fit["rank"]))
    claim.expect("error_over_optimum", ratio, "<=", "max_ratio")

    checkpoints = (10, 100, 1000)
    _, _, numpy_losses = mf.fit_numpy(A, fit["W0"], fit["H0"], float(fit["lr"]), max(checkpoints))
    gaps = {step: abs(numpy_losses[step - 1] - losses[step - 1]) / losses[step - 1] for step in checkpoints}
    claim.record(numpy_vs_jax_gap=gaps)
    claim.expect("max_numpy_jax_gap_rel", max(gaps.values()), "<=", "track_rel_tol")
    _, _, jax_losses = mf.fit_jax(A, fit["W0"], fit["H0"], float(fit["lr"]), 10)
    claim.expect("rerun_jax_gap_rel", float(np.max(np.abs(jax_losses - numpy_losses[:10]) / numpy_losses[:10])),
                 "<=", "track_rel_tol")
    step, _ = mf.make_jitted_step()
    W1, H1, _ = mf.fit_numpy(A, fit["W0"], fit["H0"], float(fit["lr"]), 1)
    with jax.enable_x64(True):  # the same float64 iteration as the NumPy loop
        jitted = [np.asarray(x) for x in step(A, fit["W0"], fit["H0"], np.float64(fit["lr"]))]
    claim.expect("jitted_step_gap_rel", max(float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
                                            for a, b in zip(jitted, (W1, H1))), "<=", "track_rel_tol")

    steps = np.unique(np.geomspace(1, losses.size, 60).astype(int))
    claim.plot(
        "Matrix factorization by GD: error relative to the Eckart-Young optimum",
        steps.tolist(), {"JAX ||A - WH||_F / optimum": np.sqrt(2 * losses[steps - 1]) / optimum},
        xlabel="step", ylabel="error / optimum", logx=True, logy=True, hline=claim.t["max_ratio"],
    )
