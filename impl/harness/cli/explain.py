"""Why a claim has its verdict, in words a person acts on: the failing check and by how much it missed,
the line of the spec that asserted it, and what to do next. Read from records and the source tree only.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impl.harness import spec_source
from impl.harness.report.text import number

FAILING_VERDICTS = ("refuted", "known refuted", "error")


@dataclass(frozen=True)
class FailedCheck:
    key: str  # the record (case) it failed in
    name: str
    observed: str
    op: str
    limit: str  # value, with the threshold's name when it has one
    limit_name: str | None
    miss: str  # e.g. "1 above the limit (+50% of it)"
    expected: bool  # the known-refuted check: the sources' statement failing, as recorded


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def shortfall(check: dict[str, Any]) -> str:
    """How far a check's observed value is from passing: 'x above the limit (+p% of it)' for <= and <,
    'below' for >= and >, 'off by' for ==; the plain comparison for values that are not finite numbers."""
    if not isinstance(check, dict) or not {"observed", "op", "limit"} <= set(check):
        raise ValueError(f"check must be a record's check with observed, op and limit, got {check!r:.120}")
    observed, limit, op = check["observed"], check["limit"], check["op"]
    if not (_numeric(observed) and _numeric(limit)):
        return f"{number(observed)} is not {op} {number(limit)}"
    diff = observed - limit
    share = f" ({diff / abs(limit):+.1%} of it)" if limit else ""
    if op in ("<=", "<"):
        return f"{number(abs(diff))} above the limit{share}" if diff >= 0 else f"{number(-diff)} under it (passes)"
    if op in (">=", ">"):
        return f"{number(abs(diff))} below the limit{share}" if diff <= 0 else f"{number(diff)} over it (passes)"
    return f"off by {number(diff)}{share}"


def failed_checks(records: list[dict[str, Any]]) -> list[FailedCheck]:
    """Every failing check of the records given, case by case, in record order."""
    failed = []
    for record in records:
        for check in record.get("checks") or []:
            if not check.get("ok", True):
                limit = number(check["limit"]) + (f" ({check['limit_name']})" if check.get("limit_name") else "")
                failed.append(FailedCheck(record["key"], str(check["name"]), number(check["observed"]), check["op"],
                                          limit, check.get("limit_name"), shortfall(check),
                                          bool(check.get("known_refuted"))))
    return failed


def expect_line(root: Path, nodeid: str, check: str | None = None) -> tuple[str, int | None, str]:
    """(spec file, line, that line's text) of the `claim.expect("<check>", ...)` call in the claim's test
    function; the function's own line when no such call names the check (or `check` is None); line None
    when the file or the function cannot be found."""
    if not isinstance(nodeid, str) or "::" not in nodeid:
        raise ValueError(f"nodeid must look like 'specs/<lesson>/test_x.py::test_y', got {nodeid!r}")
    file, _, name = nodeid.partition("::")
    try:
        source = (Path(root) / file).read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return file, None, ""
    function = spec_source.definitions(tree).get(name.partition("[")[0])
    if function is None:
        return file, None, ""
    line = function.lineno
    if check is not None:
        calls = [node for node in ast.walk(function) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and node.func.attr == "expect" and node.args
                 and isinstance(node.args[0], ast.Constant) and node.args[0].value == check]
        if calls:
            line = min(call.lineno for call in calls)
    return file, line, source.splitlines()[line - 1].strip()


def next_steps(verdict: str, nodeid: str, markers: list[str], lesson_folder: str, *, seeded: bool = False,
               message: str = "", check: str = "", partners: list[str] = ()) -> list[str]:
    """What a person does next about a claim with this verdict (commands to run, files to change)."""
    if verdict not in ("holds", "not run", *FAILING_VERDICTS):
        raise ValueError(f"unknown verdict {verdict!r}")
    rerun = f"python -m pytest '{nodeid}'"
    if verdict == "holds":
        return ["Nothing to do: the claim holds. `show` lists its checks and history."]
    if verdict == "known refuted":
        steps = ["Nothing to fix: the statement as the sources make it is false as measured, and kept with "
                 f"its numbers (the check `{check}` is expected to fail; any other failing check would read refuted)."]
        if partners:
            steps.append(f"The statement that holds instead: {', '.join(partners)}.")
        return steps
    if verdict == "error":
        return [f"Not a refutation: the code or the harness raised. Rerun it alone with the traceback: {rerun} -x",
                "The full log of the last `make test` is reports/logs/pytest.log; fix the exception, then rerun."]
    if verdict == "not run":
        lowered = message.lower()
        if "gpu" in markers:
            steps = ["Run it on a machine with a GPU: make test-gpu"]
        elif "perf" in markers or "inconclusive" in lowered or "busy" in lowered:
            steps = ["A timing claim judged only on a quiet host: rerun it with nothing else running "
                     f"({rerun}), or `make perf-repeat` for five runs."]
        else:
            steps = [f"Supply what the reason above says is missing, then rerun: {rerun}"]
        return steps
    steps = [f"Rerun it alone: {rerun}" + (" (over more seeds: add --claim-seeds 0-9)" if seeded else "")]
    if "perf" in markers:
        steps.append("A timing claim: confirm over five runs on a quiet host with `make perf-repeat` first.")
    steps += [f"If the code is wrong, fix it in impl/{lesson_folder}/.",
              f"If the threshold is wrong, change it with its reason in specs/{lesson_folder}/claims.yaml.",
              "If the course is wrong, keep the spec and mark it "
              f"@pytest.mark.known_refuted(\"{check or '<check>'}\", source=\"...\")."]
    return steps
