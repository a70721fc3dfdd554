import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from impl.l4_tuning import search_spaces

MAX_BOUND = 1e6


@st.composite
def float_bounds(draw):
    """0 < low < high <= 1e6 with high >= low (1 + 1e-6): wide enough in log space that float
    rounding of the samples (~1e-16 relative) is invisible to a 300-sample KS test."""
    low = draw(st.floats(1e-12, MAX_BOUND / (1 + 2e-6)))
    return low, draw(st.floats(low * (1 + 1e-6), MAX_BOUND))


@st.composite
def int_bounds(draw):
    low = draw(st.integers(1, 10**6 - 1))
    return low, draw(st.integers(low + 1, 10**6))


grid_axis = st.lists(st.floats(-MAX_BOUND, MAX_BOUND, allow_nan=False), min_size=3, max_size=3, unique=True)


@pytest.mark.cpu
@settings(max_examples=50)
@given(bounds=float_bounds(), int_range=int_bounds(), steps=st.integers(1, 1000), int_step=st.integers(1, 10**6),
       grid_a=grid_axis, grid_b=grid_axis, sampler_seed=st.integers(0, 2**32 - 1))
def test_spaces(claim, bounds, int_range, steps, int_step, grid_a, grid_b, sampler_seed):
    """For any bounds 0 < low < high <= 1e6 (floats with high >= low (1 + 1e-6); ints) and any seed,
    300 `RandomSampler` trials keep every float and int suggestion (plain, `log=True` and `step=`)
    within [low, high]; the float samples pass a KS test against Uniform(low, high) and the logs of
    the `log=True` samples against Uniform(log low, log high) (p above a Bonferroni-corrected 1e-3);
    `step=` values lie on the grid low + k step (floats to a few ulps, ints exactly); and
    `GridSampler` over a 3 x 3 grid runs exactly 9 trials, one per grid point, then stops the study
    although `n_trials=20` was asked.

    Course: Lesson 4, understanding hyperparameter tuning (search spaces: ranges, log scale, grids).
    """
    low, high = bounds
    int_low, int_high = int_range
    float_step = (high - low) / steps
    int_step = min(int_step, int_high - int_low)
    with warnings.catch_warnings():  # Optuna warns when it trims `high` to a whole number of steps
        warnings.simplefilter("ignore", UserWarning)
        raw = search_spaces.random_suggestions(low, high, int_low, int_high, float_step=float_step,
                                               int_step=int_step, n_trials=300, seed=sampler_seed)
    for name in ("int", "int_log", "int_step"):
        claim.expect(f"{name}_not_python_int", sum(type(v) is not int for v in raw[name]), "==", 0)
    drawn = {name: np.asarray(values) for name, values in raw.items()}
    for name in ("float", "float_log", "float_step"):
        outside = np.sum((drawn[name] < low) | (drawn[name] > high))
        claim.expect(f"{name}_outside_bounds", int(outside), "==", 0)
    for name in ("int", "int_log", "int_step"):
        outside = np.sum((drawn[name] < int_low) | (drawn[name] > int_high))
        claim.expect(f"{name}_outside_bounds", int(outside), "==", 0)
    claim.expect("int_step_off_grid", int(np.sum((drawn["int_step"] - int_low) % int_step != 0)), "==", 0)
    # The grid point nearest each value, recomputed here; both sides round about twice, hence a few ulps.
    k = np.round((drawn["float_step"] - low) / float_step)
    off_grid = np.max(np.abs(drawn["float_step"] - (low + k * float_step))) / (np.finfo(float).eps * high)
    claim.expect("float_step_off_grid_ulps", float(off_grid), "<=", "grid_tol_ulps")

    p_linear = stats.kstest(drawn["float"], "uniform", args=(low, high - low)).pvalue
    p_log = stats.kstest(np.log(drawn["float_log"]), "uniform", args=(math.log(low), math.log(high / low))).pvalue
    claim.expect("ks_p_uniform", float(p_linear), ">", "min_ks_p")
    claim.expect("ks_p_log_uniform", float(p_log), ">", "min_ks_p")

    visited = search_spaces.grid_visits({"a": grid_a, "b": grid_b}, n_trials=20, seed=sampler_seed)
    claim.expect("grid_trials_run", len(visited), "==", 9)
    claim.expect("grid_points_missed", len(set(itertools.product(grid_a, grid_b)) - set(visited)), "==", 0)
