"""Test functions for samplers, with minima known in closed form.

Branin (2-D, three global minimisers) is the classic Bayesian-optimisation benchmark: at every
minimiser the squared term vanishes and cos x1 = -1, so the minimum is s t = 10 / (8 pi) =
0.397887... exactly. The shifted sphere sum (x_i - c_i)^2 has its minimum 0 at the shift c, which
is placed off the centre of the box [-5, 5]^d on purpose: a sampler biased toward the middle of
its search space gets no free win.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

from impl.checks import as_float_array, as_int

__all__ = [
    "BRANIN_MINIMUM", "BRANIN_MINIMIZERS", "Benchmark", "branin", "branin_benchmark", "shifted_sphere",
    "sphere_shift", "sphere_benchmark",
]

# Branin's constants (the standard a, b, c, r, s, t)
_A, _B, _C, _R, _S, _T = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
BRANIN_MINIMUM = _S * _T  # = 10 / (8 pi) = 0.3978873577...
# x1 = -pi, pi, 3 pi; x2 from b x1^2 - c x1 + r (the squared term's zero): 12.275, 2.275, 2.475
BRANIN_MINIMIZERS = tuple((x1, _B * x1**2 - _C * x1 + _R) for x1 in (-math.pi, math.pi, 3 * math.pi))
MAX_SPHERE_DIM = 1000  # a search space no lesson needs is refused up front


class Benchmark(NamedTuple):
    name: str
    lower: tuple[float, ...]       # box bounds, one per coordinate
    upper: tuple[float, ...]
    minimum: float                 # the global minimum value, in closed form
    minimizer: tuple[float, ...]   # one point attaining it
    function: Callable[[np.ndarray], float]

    @property
    def dim(self) -> int:
        return len(self.lower)


def _point(x, name: str, dim: int | None = None, like: str = "") -> np.ndarray:
    x = as_float_array(x, name, ndim=1)
    if dim is not None and x.size != dim:
        raise ValueError(f"{name} must have {dim} coordinates{f' (as many as {like})' if like else ''}, got {x.size}")
    return x


def branin(x) -> float:
    """Branin's function at x = (x1, x2): a (x2 - b x1^2 + c x1 - r)^2 + s (1 - t) cos x1 + s."""
    x1, x2 = _point(x, "x", 2)
    return float(_A * (x2 - _B * x1**2 + _C * x1 - _R) ** 2 + _S * (1 - _T) * math.cos(x1) + _S)


def branin_benchmark() -> Benchmark:
    """Branin on its usual box x1 in [-5, 10], x2 in [0, 15]."""
    return Benchmark("branin", (-5.0, 0.0), (10.0, 15.0), BRANIN_MINIMUM, BRANIN_MINIMIZERS[1], branin)


def sphere_shift(dim: int) -> np.ndarray:
    """The sphere's minimiser: c_i = 2.5 cos(i), i = 1..dim (distinct, off-centre, inside [-5, 5])."""
    dim = as_int(dim, "dim", minimum=1, maximum=MAX_SPHERE_DIM)
    return 2.5 * np.cos(np.arange(1, dim + 1))


def shifted_sphere(x, shift) -> float:
    """sum_i (x_i - shift_i)^2."""
    shift = _point(shift, "shift")
    x = _point(x, "x", shift.size, like="shift")
    return float(np.sum((x - shift) ** 2))


def sphere_benchmark(dim: int) -> Benchmark:
    """The `dim`-D sphere shifted to `sphere_shift(dim)` on [-5, 5]^dim; minimum 0 at the shift."""
    shift = sphere_shift(dim)
    return Benchmark(f"sphere{shift.size}d", (-5.0,) * shift.size, (5.0,) * shift.size, 0.0,
                     tuple(float(c) for c in shift), lambda x: shifted_sphere(x, shift))
