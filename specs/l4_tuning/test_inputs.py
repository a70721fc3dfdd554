"""Lesson 4's bad-input claim: one valid call template per exported function (data only).

The sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the
bad values from each argument's kind; nothing here is chosen per bad value.
"""
import pytest

from impl.harness.kinds import Count, Optional, PathArg, Text
from impl.harness.sweep import Case, run_sweep
from impl.l4_tuning import storage

CASES = [
    Case(storage.storage_url, Optional(PathArg("/tmp/claims-sweep/optuna.db"))),
    Case(storage.make_storage, Text("sqlite:///:memory:"), heartbeat_interval=Optional(Count(1, 1, 3600)),
         grace_period=Optional(Count(2, 1, 86400)), max_retry=Count(0, 0, 100)),
]


@pytest.mark.cpu
def test_rejects_bad_input(claim):
    """Every exported function of Lesson 4 (its modules' `__all__`) refuses NaN, infinite, empty,
    wrongly-shaped, wrongly-typed or None arguments and out-of-range or unbounded counts with a
    ValueError or TypeError naming the argument.

    Course: Lesson 4 (house rule: a learner's mistake gets a clear message, not a wrong number).
    """
    run_sweep(claim, "impl.l4_tuning", CASES)
