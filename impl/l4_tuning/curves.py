"""Seeded synthetic learning curves: noisy exponential decay of a validation loss to a plateau.

loss_t = p + (1 - p) exp(-(t + 1) / tau) + noise_sd z_t for steps t = 0 .. num_steps - 1, starting
near 1 and levelling off at the plateau p. A configuration (lr, dropout) sets the plateau: best at
lr = 1e-2 with no dropout, p = 0.1 + 0.1 (log10 lr + 2)^2 + 0.2 dropout. How fast it gets there is
the modelling choice that decides whether early steps predict the final ranking:
- a shared time constant (`SHARED_TIME_CONSTANT`): curves differ only in their plateau, so the
  ranking at any step is the final one up to noise (the premise of early stopping);
- `lr_time_constant(lr)`: larger learning rates converge faster (tau = 10 at lr 1e-4 down to 1 at
  lr 1), so a fast configuration with a poor plateau leads early and is overtaken later.
"""
from __future__ import annotations

import math

import numpy as np

from impl.checks import MAX_STEPS, as_float, as_int, as_rng

__all__ = ["SHARED_TIME_CONSTANT", "LR_RANGE", "DROPOUT_RANGE", "config_plateau", "lr_time_constant", "learning_curve"]

SHARED_TIME_CONSTANT = 4.0  # steps: a curve is within 2% of its plateau gap after 16 of 30 steps (e^-4 = 0.018)
LR_RANGE = (1e-4, 1.0)
DROPOUT_RANGE = (0.0, 0.5)


def _lr(lr) -> float:
    return as_float(lr, "lr", low=LR_RANGE[0], high=LR_RANGE[1])


def config_plateau(lr: float, dropout: float) -> float:
    """Where the configuration's loss levels off: 0.1 + 0.1 (log10 lr + 2)^2 + 0.2 dropout."""
    lr, dropout = _lr(lr), as_float(dropout, "dropout", low=DROPOUT_RANGE[0], high=DROPOUT_RANGE[1])
    return 0.1 + 0.1 * (math.log10(lr) + 2) ** 2 + 0.2 * dropout


def lr_time_constant(lr: float) -> float:
    """Steps to close 1/e of the gap when speed grows with the learning rate: 10^(-log10(lr) / 4)."""
    return 10 ** (-math.log10(_lr(lr)) / 4)


def learning_curve(plateau: float, time_constant: float, num_steps: int, noise_sd: float,
                   rng: np.random.Generator) -> np.ndarray:
    """(num_steps,) losses p + (1 - p) exp(-(t + 1) / tau) + noise_sd z_t, z_t ~ N(0, 1) from `rng`."""
    plateau = as_float(plateau, "plateau", low=0.0, high=1.0)
    time_constant = as_float(time_constant, "time_constant", low=0.0, low_open=True)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=MAX_STEPS)
    noise_sd = as_float(noise_sd, "noise_sd", low=0.0)
    rng = as_rng(rng, "rng")
    t = np.arange(num_steps)
    return plateau + (1 - plateau) * np.exp(-(t + 1) / time_constant) + noise_sd * rng.standard_normal(num_steps)
