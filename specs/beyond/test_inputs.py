"""The `beyond` group's bad-input claim: one valid call template per exported function (data only).

The tables live beside this file, one per half of the group (`inputs_a.py`, `inputs_b.py`); the
sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the bad
values from each argument's kind.
"""
import pytest

from impl.harness.sweep import run_sweep
from specs.beyond.inputs_a import CASES as CASES_A
from specs.beyond.inputs_b import CASES as CASES_B


@pytest.mark.cpu
def test_rejects_bad_input(claim):
    """Every exported function of the `beyond` group (its modules' `__all__`) refuses NaN, infinite,
    empty, wrongly-shaped, wrongly-typed or None arguments and out-of-range or unbounded counts with a
    ValueError or TypeError naming the argument, and answers an equivalent argument (a list, a strided
    or reversed view, the other float dtype, a NumPy scalar) as it answers the plain one.

    Course: beyond the course (house rule: a learner's mistake gets a clear message, not a wrong number).
    """
    run_sweep(claim, "impl.beyond", CASES_A + CASES_B)
