"""Tolerances from sampling error, at a stated false-fail probability.

A statistical claim's threshold is placed so that a *correct* implementation
fails with probability at most `false_fail` (DESIGN: 1e-3). These helpers turn
that target into numbers a spec can assert against. (Only what a spec uses lives
here; add a helper together with its first spec.)
"""
from __future__ import annotations

import math

from scipy import stats


def _check_probability(name: str, value: float) -> None:
    if not (0.0 < value < 1.0) or math.isnan(value):
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")


def _check_count(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def binomial_acceptance(n: int, p: float, false_fail: float = 1e-3) -> tuple[int, int]:
    """Two-sided acceptance region [lo, hi] for a Binomial(n, p) count, exact.

    When p is the truth, P(count < lo) <= false_fail/2 and P(count > hi) <= false_fail/2.
    """
    _check_count("n", n)
    _check_probability("p", p)
    _check_probability("false_fail", false_fail)
    tail = false_fail / 2
    lo = int(stats.binom.ppf(tail, n, p))  # smallest k with P(X <= k) >= tail, so P(X < k) < tail
    hi = int(stats.binom.isf(tail, n, p))
    while hi > 0 and stats.binom.sf(hi - 1, n, p) <= tail:
        hi -= 1
    while stats.binom.sf(hi, n, p) > tail:
        hi += 1
    return lo, hi
