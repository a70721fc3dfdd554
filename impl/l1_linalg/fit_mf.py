"""DVC stage `fit_mf`: fit the Lesson 1 low-rank factorization with jitted JAX GD.

Writes data/models/l1_linalg/mf.npz (problem, initial and final factors, loss per step).
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

from impl.atomic import atomic_write_bytes
from impl.l1_linalg import mf
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

OUTPUT_NAME = "mf.npz"

TINY_KNOBS = {"m": 20, "n": 10, "rank": 2, "num_steps": 50}  # seconds, for the tiny-knob stage test


def run(knobs: dict, out_dir: Path) -> dict:
    rng = np.random.default_rng(knobs["seed"])
    problem = mf.make_problem(knobs["m"], knobs["n"], knobs["rank"], knobs["noise"], knobs["init_scale"], rng)
    W, H, losses = mf.fit_jax(problem.A, problem.W0, problem.H0, problem.lr, knobs["num_steps"])
    buffer = io.BytesIO()
    np.savez(
        buffer, A=problem.A, W0=problem.W0, H0=problem.H0, W=W, H=H, losses=losses,
        lr=problem.lr, optimum=problem.optimum, rank=problem.rank, seed=knobs["seed"],
    )
    atomic_write_bytes(Path(out_dir) / OUTPUT_NAME, buffer.getvalue())
    return {"steps": knobs["num_steps"], "error_over_optimum": mf.residual_norm(problem.A, W, H) / problem.optimum}


main = stage_main(run, "l1_linalg", "mf")

if __name__ == "__main__":
    sys.exit(main())
