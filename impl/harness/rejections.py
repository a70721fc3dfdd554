"""The machinery behind each lesson's bad-input claim.

A case is (label, thunk, argument name): calling the thunk must raise ValueError or
TypeError whose message names the argument. Anything else -- acceptance, another
exception type, a message that does not say what to fix -- is a failure of the claim.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

Case = tuple[str, Callable[[], Any], str]


def argument_cases(calls: Mapping[str, tuple[Callable[[Any], Any], str]], bad_values: Mapping[str, Any]) -> list[Case]:
    """Every call (name -> (function of the bad value, argument name)) with every bad value."""
    return [(f"{name}/{label}", (lambda call=call, bad=bad: call(bad)), arg)
            for name, (call, arg) in calls.items() for label, bad in bad_values.items()]


def thunk_cases(calls: Sequence[tuple[Callable[[], Any], str]], prefix: str = "call") -> list[Case]:
    """Ready-made bad calls (thunk, argument name), e.g. out-of-range scalar parameters."""
    return [(f"{prefix}#{i}", call, arg) for i, (call, arg) in enumerate(calls)]


def failures(cases: Sequence[Case]) -> list[str]:
    """What went wrong, one line per failing case (empty when every bad input was refused well)."""
    found = []
    for label, call, arg in cases:
        try:
            call()
        except (ValueError, TypeError) as exc:
            if arg not in str(exc):
                found.append(f"{label}: message does not name {arg!r}: {exc}")
        except Exception as exc:  # noqa: BLE001 - any other type is itself a failure of the claim
            found.append(f"{label}: raised {type(exc).__name__}: {exc}")
        else:
            found.append(f"{label}: accepted bad input")
    return found


def expect_all_rejected(claim, cases: Sequence[Case]) -> None:
    """Record the cases and their failures on the claim, and assert there are none."""
    found = failures(cases)
    claim.record(cases=len(cases), failures=found)
    claim.expect("cases_failing", len(found), "==", 0)
