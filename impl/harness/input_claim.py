"""Each lesson's bad-input claim, generated from its table of valid calls rather than copied per lesson.

A lesson's `specs/<lesson>/test_inputs.py` holds the table (`CASES`, one `sweep.Case` per exported
function) and one line that makes the claim from it:

    test_rejects_bad_input = bad_input_claim("impl.l1_linalg", CASES, subject="Lesson 1", course="Lesson 1")

The claim is a plain pytest test function (the `cpu` marker, the `claim` fixture and any fixture the
table's calls need), its docstring the statement below with the lesson's names filled in, its body
`sweep.run_sweep`. Its id is the same as a hand-written one's (`L1.inputs.rejects_bad_input`).
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable

import pytest

from impl.harness.sweep import Case, Packages, run_sweep

__all__ = ["STATEMENT", "bad_input_claim"]

STATEMENT = (
    "Every exported function of {subject} (its modules' `__all__`) refuses NaN, infinite, empty, "
    "wrongly-shaped, wrongly-typed or None arguments, out-of-range or unbounded counts and seeds, arguments "
    "valid alone but not together (sizes whose product passes a cap, column counts that disagree) and a NaN "
    "inside a record passed in (a fitted PCA, a ratings table, a mixture) with a ValueError or TypeError naming "
    "the argument or field, accepts the legal ends of each stated range (a count's minimum, seed 0 and the "
    "largest seed), answers an equivalent argument (a list, a strided or reversed view, the "
    "other float dtype, a NumPy scalar) as it answers the plain one, and answers a legal but absurd real (1e300 "
    "where no bound is stated: a learning rate, a noise scale) with finite numbers or a clear error saying the "
    "computation diverged or overflowed, never with NaN or inf.\n\n"
    "Course: {course} (house rule: a learner's mistake gets a clear message, not a wrong number)."
)


def bad_input_claim(packages: Packages, cases: Iterable[Case], *, subject: str, course: str,
                    fixtures: tuple[str, ...] = (), after: Callable[[], Any] | None = None) -> Callable[..., None]:
    """The bad-input claim over `packages` (a package name, a module, or a tuple of them) with the valid call
    templates `cases`; `fixtures` names extra pytest fixtures the calls need (requested, not passed on), and
    `after` runs once the sweep ends, pass or fail (to drop objects that belong to a fixture's session)."""
    cases = list(cases)
    if not cases or not all(isinstance(case, Case) for case in cases):
        raise TypeError("cases must be a non-empty sequence of sweep.Case")
    for name, value in (("subject", subject), ("course", course)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if not isinstance(fixtures, tuple) or not all(isinstance(f, str) and f.isidentifier() and f != "claim"
                                                  for f in fixtures):
        raise ValueError(f"fixtures must be a tuple of fixture names other than 'claim', got {fixtures!r}")
    if after is not None and not callable(after):
        raise TypeError(f"after must be callable or None, got {type(after).__name__}")

    def test_rejects_bad_input(**arguments: Any) -> None:
        try:
            run_sweep(arguments["claim"], packages, cases)
        finally:
            if after is not None:
                after()

    test_rejects_bad_input.__doc__ = STATEMENT.format(subject=subject, course=course)
    test_rejects_bad_input.__signature__ = inspect.Signature(  # what pytest reads to request fixtures
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in ("claim", *fixtures)])
    return pytest.mark.cpu(test_rejects_bad_input)
