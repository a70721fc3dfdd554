"""The `beyond` group's bad-input claim: one valid call template per exported function (data only).

The tables live beside this file, one per half of the group (`inputs_a.py`, `inputs_b.py`); the
sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the bad
values from each argument's kind.
"""
from impl.harness.input_claim import bad_input_claim
from specs.beyond.inputs_a import CASES as CASES_A
from specs.beyond.inputs_b import CASES as CASES_B


test_rejects_bad_input = bad_input_claim("impl.beyond", CASES_A + CASES_B, subject="the `beyond` group",
                                         course="beyond the course")
