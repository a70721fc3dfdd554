"""Plain-text formatting of record values, used by the report model (never by a renderer)."""
from __future__ import annotations

import math
from typing import Any


def number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, list):
        if len(value) <= 6 and all(isinstance(v, (int, float)) for v in value):
            return "[" + ", ".join(number(v) for v in value) + "]"
        return f"[{len(value)} values]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {number(v)}" for k, v in list(value.items())[:6]) + "}"
    return str(value)


def check_line(check: dict[str, Any]) -> str:
    limit = number(check["limit"])
    if check.get("limit_name"):
        limit = f"{check['limit_name']} = {limit}"
    mark = "ok" if check["ok"] else "FAILED"
    return f"{check['name']} = {number(check['observed'])} {check['op']} {limit} ({mark})"


def scalar_observations(record: dict[str, Any]) -> dict[str, Any]:
    """Top-level observed values not already shown as checks (nested summaries go to `observation_table`)."""
    shown = {check["name"] for check in record["checks"]}
    return {name: value for name, value in record["observed"].items()
            if name not in shown and not isinstance(value, dict)}


def observation_table(record: dict[str, Any]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Nested observations (e.g. one benchmark summary per workload) as (columns, rows of cells).

    Rows are the nested dicts; columns are their scalar fields, in first-seen order.
    """
    nested = {name: value for name, value in record["observed"].items() if isinstance(value, dict)}
    columns: list[str] = []
    for value in nested.values():
        columns += [key for key, item in value.items() if not isinstance(item, (list, dict)) and key not in columns]
    rows = [(name, [number(value[key]) if key in value else "" for key in columns]) for name, value in nested.items()]
    return columns, rows


def hardware_line(record: dict[str, Any]) -> str:
    hw = record["hardware"]
    gpus = ", ".join(hw.get("gpus") or []) or "none used"
    flags = " ".join(hw.get("cpu_flags") or [])
    return f"{hw.get('cpu_model')} ({hw.get('cpu_count')} cores; {flags}); GPU: {gpus}"


def git_line(record: dict[str, Any]) -> str:
    git = record.get("git") or {}
    commit = (git.get("commit") or "unknown")[:10]
    return commit + (" (uncommitted changes)" if git.get("dirty") else "")


def _margin(check: dict[str, Any]) -> float | None:
    """Relative distance of a numeric check from its limit (smaller: closer to failing)."""
    observed, limit, op = check["observed"], check["limit"], check["op"]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (observed, limit))
    if not numeric or op == "==":
        return None
    gap = (limit - observed) if op in ("<=", "<") else (observed - limit)
    return gap / abs(limit) if limit else gap


def key_check(checks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The check to show in a summary: the first failing one, else the one closest to its limit."""
    if not checks:
        return None
    failing = [check for check in checks if not check["ok"]]
    if failing:
        return failing[0]
    margins = [(m, i) for i, check in enumerate(checks) if (m := _margin(check)) is not None]
    return checks[min(margins)[1]] if margins else checks[0]
