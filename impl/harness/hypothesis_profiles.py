"""Hypothesis profiles: `ci` (default) is derandomized with no deadline.

Select another with `pytest --hypothesis-profile=dev` (hypothesis's own option).
"""
from __future__ import annotations

from hypothesis import HealthCheck, settings

# The `claim` fixture is function-scoped on purpose: it accumulates the worst case
# over all examples (claim.track_max), so that health check does not apply.
_SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def register(load_default: bool = True) -> None:
    settings.register_profile(
        "ci", derandomize=True, max_examples=50, deadline=None,
        suppress_health_check=_SUPPRESS, print_blob=True, database=None,
    )
    settings.register_profile(
        "dev", max_examples=200, deadline=None, suppress_health_check=_SUPPRESS,
    )
    if load_default:
        settings.load_profile("ci")
