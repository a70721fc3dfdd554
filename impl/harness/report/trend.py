"""A claim's trend: its tightest check's observed value across runs, drawn as a small inline SVG.

The tightest check is `text.key_check`'s: the first failing check, else the numeric check with the
smallest relative margin to its limit. Values are formatted with a fixed precision so the same
history always draws the same bytes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any

from impl.harness.report.history import Point
from impl.harness.report.text import key_check, number

TREND_RUNS = 50  # most recent runs drawn
WIDTH, HEIGHT = 120, 28  # CSS pixels shown
GRID = 2  # drawn on a grid GRID times finer, in whole units: short coordinates, same sharpness
PAD = 3 * GRID


@dataclass(frozen=True)
class Trend:
    check: str
    values: list[float]  # oldest first, one per run that recorded the check as a number
    runs: list[str]
    limit: float | None

    @property
    def caption(self) -> str:
        if not self.values:
            return f"{self.check}: no numeric history"
        return f"{self.check} over {len(self.values)} run(s): {number(self.values[0])} -> {number(self.values[-1])}"


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def claim_trend(record: dict[str, Any], points: list[Point]) -> Trend | None:
    """The trend of `record`'s tightest check over `points` (its key's history, run order); None without checks."""
    if not isinstance(record, dict):
        raise TypeError(f"record must be a mapping, got {type(record).__name__}")
    check = key_check(record.get("checks") or [])
    if check is None:
        return None
    name = str(check["name"])
    shown = [p for p in points if _finite(p.observed.get(name))][-TREND_RUNS:]
    limit = check.get("limit")
    return Trend(name, [float(p.observed[name]) for p in shown], [p.run for p in shown],
                 float(limit) if _finite(limit) else None)


def sparkline(trend: Trend) -> str:
    """An inline SVG (escaped, self-contained): the values as a line, the limit dashed when drawn."""
    if not isinstance(trend, Trend):
        raise TypeError(f"trend must be a Trend, got {type(trend).__name__}")
    values = trend.values
    if not values:
        return ""
    scale = values + ([trend.limit] if trend.limit is not None else [])
    low, high = min(scale), max(scale)
    span = (high - low) or 1.0
    width, height = WIDTH * GRID, HEIGHT * GRID

    def y(value: float) -> int:
        return round(height - PAD - (value - low) / span * (height - 2 * PAD))

    step = (width - 2 * PAD) / max(len(values) - 1, 1)
    xs = [round(PAD + i * step) for i in range(len(values))]
    line = " ".join(f"{x},{y(v)}" for x, v in zip(xs, values))
    parts = [f'<svg class="trend" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {width} {height}" role="img">'
             f"<title>{escape(trend.caption)}</title>"]
    if trend.limit is not None:
        parts.append(f'<line x1="0" x2="{width}" y1="{y(trend.limit)}" y2="{y(trend.limit)}" class="limit"/>')
    parts.append(f'<polyline points="{line}"/><circle cx="{xs[-1]}" cy="{y(values[-1])}" r="{2 * GRID}"/></svg>')
    return "".join(parts)
