"""Map pytest's outcome of a claim's phases to a verdict.

holds         the spec passed
refuted       an AssertionError, or pytest.raises seeing nothing raised: the claim is false as measured
error         any other exception: the harness or the code is broken, never a refutation
not run       skipped (no GPU, optional data absent, noisy host, ...)
known refuted an `xfail(strict=True)` claim that failed its assertion, as expected
"""
from __future__ import annotations

from typing import Any, Iterable

import pytest

# The one definition of the verdict names, worst first: a claim with several records
# (parameters, seeds) takes the worst of them, and tables list problems before successes.
VERDICTS = ("error", "refuted", "known refuted", "not run", "holds")
# How a verdict reads in a report: the two that need a person's attention shout.
BADGES = {"error": "ERROR", "refuted": "REFUTED", "known refuted": "known refuted",
          "not run": "not run", "holds": "holds"}
MAX_MESSAGE = 1500


def worst(verdicts: Iterable[str]) -> str:
    """The worst of several verdicts (one refuted seed refutes the claim)."""
    return min(verdicts, key=VERDICTS.index)


def _message(excinfo: Any) -> str:
    text = f"{excinfo.typename}: {excinfo.value}" if excinfo is not None else ""
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " ..."


def _refutes(exc: BaseException) -> bool:
    """An AssertionError, or `pytest.fail` -- which `pytest.raises` calls when the code under
    test failed to raise ("DID NOT RAISE"): the code did not do what the claim says, a refutation."""
    return isinstance(exc, (AssertionError, pytest.fail.Exception))


def _is_assertion(excinfo: Any) -> bool:
    if excinfo is None:
        return False
    value = excinfo.value
    if isinstance(value, BaseExceptionGroup):  # hypothesis may report several failures
        return all(_refutes(exc) for exc in value.exceptions)
    return _refutes(value)


def _skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def verdict(phases: dict[str, tuple[Any, Any]]) -> tuple[str, str]:
    """`phases` maps 'setup'/'call'/'teardown' to (TestReport, ExceptionInfo or None)."""
    setup_report, setup_exc = phases["setup"]
    if setup_report.skipped:
        if hasattr(setup_report, "wasxfail"):
            return "known refuted", f"not executed (xfail run=False): {setup_report.wasxfail}"
        return "not run", _skip_reason(setup_report)
    if setup_report.failed:
        return "error", "setup failed: " + _message(setup_exc)

    call_report, call_exc = phases["call"]
    teardown_report, teardown_exc = phases.get("teardown", (None, None))
    if call_report.passed:
        result = ("holds", "")
        if hasattr(call_report, "wasxfail"):
            result = ("holds", f"marked xfail but held (non-strict): {call_report.wasxfail}")
    elif call_report.skipped and hasattr(call_report, "wasxfail"):
        if call_exc is not None and call_exc.errisinstance(pytest.xfail.Exception):
            # An imperative pytest.xfail(...) (e.g. "noisy host") is not a refutation.
            result = ("not run", f"xfail: {call_report.wasxfail}")
        elif _is_assertion(call_exc):
            result = ("known refuted", f"{call_report.wasxfail} -- {_message(call_exc)}")
        else:
            result = ("error", "xfail hid a non-assertion failure: " + _message(call_exc))
    elif call_report.skipped:
        result = ("not run", _skip_reason(call_report))
    elif call_exc is None:  # failed without an exception: strict xfail that passed
        result = ("error", f"marked known-refuted but it held; update the marker: {call_report.longrepr}")
    elif _is_assertion(call_exc):
        result = ("refuted", _message(call_exc))
    else:
        result = ("error", _message(call_exc))

    if teardown_report is not None and teardown_report.failed:
        return "error", "teardown failed: " + _message(teardown_exc)
    return result
