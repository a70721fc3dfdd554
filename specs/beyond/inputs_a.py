"""Valid call templates for the bad-input sweep: part A of the `beyond` group (see test_inputs.py)."""
from impl.harness.sweep import Case, HeavyCase  # noqa: F401  (the table below uses them)

CASES: list = []
