"""Map pytest's outcome of a claim's phases to a verdict.

holds         the spec passed
refuted       an AssertionError, or pytest.raises seeing nothing raised: the claim is false as measured
error         any other exception: the harness or the code is broken, never a refutation
not run       skipped (no GPU, optional data absent, noisy host, ...)
known refuted a claim marked `known_refuted("check", source=...)` whose named check failed, as expected,
              while every other check held (the plugin judges that; see plugin._judge_named_checks)
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
    """`phases` maps 'setup'/'call'/'teardown' to (TestReport, ExceptionInfo or None).

    Claims carry no xfail marks (the plugin refuses them at collection): a known-refuted claim's
    named check is judged by the plugin, which marks the call's report `claim_known_refuted`.
    """
    setup_report, setup_exc = phases["setup"]
    if setup_report.skipped:
        return "not run", _skip_reason(setup_report)
    if setup_report.failed:
        return "error", "setup failed: " + _message(setup_exc)

    call_report, call_exc = phases["call"]
    teardown_report, teardown_exc = phases.get("teardown", (None, None))
    if getattr(call_report, "claim_known_refuted", False):
        result = ("known refuted", call_report.wasxfail)
    elif call_report.passed:
        result = ("holds", "")
    elif call_report.skipped:
        result = ("not run", _skip_reason(call_report))
    elif call_exc is None:  # failed without an exception: the plugin's judgement of a named check
        result = ("error", str(call_report.longrepr))
    elif _is_assertion(call_exc):
        result = ("refuted", _message(call_exc))
    else:
        result = ("error", _message(call_exc))

    if teardown_report is not None and teardown_report.failed:
        return "error", "teardown failed: " + _message(teardown_exc)
    return result
