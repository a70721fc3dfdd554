"""DVC stage `l1_fit_mf`: fit the Lesson 1 low-rank factorization with jitted JAX GD.

Writes data/models/l1_mf.npz (problem, initial and final factors, loss per step).
"""
from __future__ import annotations

import io

import numpy as np

from impl import paths
from impl.harness import params
from impl.atomic import atomic_write_bytes
from impl.l1_linalg import mf

OUTPUT = paths.MODELS_DIR / "l1_mf.npz"


def main() -> None:
    knobs = params.knobs("l1_linalg")["mf"]
    rng = np.random.default_rng(knobs["seed"])
    problem = mf.make_problem(
        knobs["m"], knobs["n"], knobs["rank"], knobs["noise"], knobs["init_scale"], rng
    )
    W, H, losses = mf.fit_jax(problem.A, problem.W0, problem.H0, problem.lr, knobs["num_steps"])
    buffer = io.BytesIO()
    np.savez(
        buffer, A=problem.A, W0=problem.W0, H0=problem.H0, W=W, H=H, losses=losses,
        lr=problem.lr, optimum=problem.optimum, rank=problem.rank, seed=knobs["seed"],
    )
    atomic_write_bytes(OUTPUT, buffer.getvalue())
    ratio = mf.residual_norm(problem.A, W, H) / problem.optimum
    print(f"{OUTPUT.relative_to(paths.ROOT)}: {knobs['num_steps']} steps, error / optimum = {ratio:.5f}")


if __name__ == "__main__":
    main()
