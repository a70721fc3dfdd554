"""The verdict history as runs: each line of reports/history.jsonl as a `Point`, each point in a run.

Lines written since runs got ids carry `run` (e.g. "20261206T084900Z-1234", the session's start in
UTC plus its pid). Older lines carry none; they are grouped here into legacy runs: reading the file
in order, a legacy run goes on while the commit stays the same, no record key repeats and no line is
more than `LEGACY_GAP_S` from the one before (one pytest session appends all its lines at once, so a
session's lines are contiguous). A legacy run's id is its first line's time in the same format plus
"-legacy", so ids of both kinds sort by start time.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from impl.harness import renames
from impl.harness.report.hosts import cpu_kind
from impl.harness.verdicts import VERDICTS

LEGACY_GAP_S = 15 * 60  # a pause longer than this between two lines without run ids starts a new run


@dataclass(frozen=True)
class Point:
    """One claim (or one case of it) in one run."""

    run: str
    key: str
    id: str
    verdict: str
    observed: dict[str, Any] = field(default_factory=dict)  # check name -> observed value
    commit: str = ""
    dirty: bool | None = None
    profile: str = ""
    time: str = ""
    cpu: str = ""  # `hosts.cpu_kind` of the line: with `run`, which host it ran on


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _legacy_id(time: str, index: int) -> str:
    began = _parse_time(time)
    stamp = began.strftime("%Y%m%dT%H%M%SZ") if began else f"00000000T000000Z-{index:06d}"
    return f"{stamp}-legacy"


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The file's usable lines in order; a torn or foreign line (concurrent writers) is skipped."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and row.get("verdict") in VERDICTS and isinstance(row.get("id"), str):
            rows.append(row)
    return rows


def points_from_rows(rows: Iterable[dict[str, Any]], renamed: dict[str, str] | None = None) -> list[Point]:
    """Rows (history lines, file order) as points, each with a run id (legacy runs grouped, see above); with
    `renamed` (`renames.load`), a line recorded under a claim's old id is a point of its id now."""
    points: list[Point] = []
    legacy, keys, previous = "", set(), None
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise TypeError(f"history row {index} must be a mapping, got {type(row).__name__}")
        run = row.get("run")
        if not run:
            time = _parse_time(str(row.get("time") or ""))
            before = _parse_time(str(previous.get("time") or "")) if previous else None
            gap = abs((time - before).total_seconds()) if time and before else 0.0
            key = str(row.get("key") or row.get("id"))
            if (not legacy or previous is None or previous.get("run") or row.get("commit") != previous.get("commit")
                    or key in keys or gap > LEGACY_GAP_S):
                legacy, keys = _legacy_id(str(row.get("time") or ""), index), set()
            keys.add(key)
            run = legacy
        observed = row.get("observed") if isinstance(row.get("observed"), dict) else {}
        points.append(Point(run=str(run), key=renames.current(str(row.get("key") or row["id"]), renamed or {}),
                            id=renames.current(row["id"], renamed or {}), verdict=row["verdict"],
                            observed=observed, commit=str(row.get("commit") or ""),
                            dirty=row.get("dirty") if isinstance(row.get("dirty"), bool) else None,
                            profile=str(row.get("profile") or ""), time=str(row.get("time") or ""),
                            cpu=cpu_kind(row.get("cpu_model"), row.get("cpu_flags"))))
        previous = row
    return points


def read_points(path: Path, renamed: dict[str, str] | None = None) -> list[Point]:
    return points_from_rows(read_rows(path), renamed)


def run_order(points: Iterable[Point], summaries: Iterable[dict[str, Any]] = ()) -> list[str]:
    """Every run id, oldest first (ids start with the run's start time in UTC, so they sort by it)."""
    ids = {point.run for point in points} | {str(s["run"]) for s in summaries if isinstance(s, dict) and s.get("run")}
    return sorted(ids)


def by_key(points: Iterable[Point], order: list[str]) -> dict[str, list[Point]]:
    """Each record key's points in run order (the last point of a run, should a run hold two)."""
    rank = {run: i for i, run in enumerate(order)}
    latest: dict[tuple[str, str], Point] = {}
    for point in points:
        latest[(point.key, point.run)] = point
    found: dict[str, list[Point]] = {}
    for (key, run) in sorted(latest, key=lambda pair: (pair[0], rank.get(pair[1], -1))):
        found.setdefault(key, []).append(latest[(key, run)])
    return found


def runs_at_commit(points: Iterable[Point], commit: str) -> list[str]:
    """The runs whose lines were recorded at `commit` (a full hash or a prefix of >= 4 characters)."""
    if not isinstance(commit, str) or len(commit) < 4:
        raise ValueError(f"commit must be a hash or a prefix of at least 4 characters, got {commit!r}")
    return sorted({point.run for point in points if point.commit and point.commit.startswith(commit)})
