"""What changed between two states of the suite: verdicts that flipped and checked values that moved.

A state maps each record key to its `Point`. Two comparisons are built: since the previous run (each
claim of the latest run against its own latest verdict from an earlier run) and since a git revision
(today's records against each claim's latest verdict recorded at that commit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from impl.harness.report.history import Point, runs_at_commit
from impl.harness.report.text import number

NOISE = 0.10  # relative move beyond which a checked value "moved"
PERF_NOISE = 0.50  # timings (claims marked `perf`) wander more from run to run and host to host
NOISE_RULE = (f"a checked value moved when |new - old| > {NOISE:.0%} of the larger of |old| and |limit| "
              f"({PERF_NOISE:.0%} for claims marked perf, whose figures are timings); "
              "values that are not numbers moved when they differ")
BAD = ("refuted", "error")  # "newly refuted" counts a claim that now errors too: it no longer holds


@dataclass(frozen=True)
class VerdictChange:
    key: str
    id: str
    old: str
    new: str


@dataclass(frozen=True)
class Move:
    key: str
    id: str
    check: str
    old: str
    new: str
    change: str  # "+25%", or "changed" for values that are not numbers


@dataclass
class Changes:
    title: str  # e.g. "since the previous run"
    old_label: str  # which run(s) the old side is
    new_label: str
    compared: int = 0  # keys present on both sides
    newly_refuted: list[VerdictChange] = field(default_factory=list)
    newly_holding: list[VerdictChange] = field(default_factory=list)
    flipped: list[VerdictChange] = field(default_factory=list)  # any other change of verdict
    moved: list[Move] = field(default_factory=list)
    new_keys: list[str] = field(default_factory=list)  # no earlier verdict to compare with
    note: str = ""  # why nothing could be compared, when so

    @property
    def empty(self) -> bool:
        return not (self.newly_refuted or self.newly_holding or self.flipped or self.moved)

    def marks(self) -> dict[str, str]:
        """Claim id -> the strongest change shown beside that claim."""
        found: dict[str, str] = {}
        for label, changes in (("moved", self.moved), ("flipped", self.flipped),
                               ("newly holding", self.newly_holding), ("newly refuted", self.newly_refuted)):
            for change in changes:
                found[change.id] = label
        return found


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def moved(old: Any, new: Any, limit: Any = None, perf: bool = False) -> str:
    """'' when the value stayed within the noise rule (`NOISE_RULE`), else how it changed."""
    if not (_is_number(old) and _is_number(new)):
        return "" if old == new else "changed"
    scale = max(abs(old), abs(limit) if _is_number(limit) else 0.0)
    if abs(new - old) <= (PERF_NOISE if perf else NOISE) * scale:
        return ""
    return f"{(new - old) / abs(old):+.0%}" if old else f"{new - old:+.3g}"


def point_from_record(record: dict[str, Any]) -> Point:
    """Today's record as a point of its run."""
    if not isinstance(record, dict) or "key" not in record:
        raise TypeError(f"record must be a mapping with a 'key', got {record!r:.80}")
    git = record.get("git") or {}
    return Point(run=str(record.get("run") or ""), key=record["key"], id=record["id"], verdict=record["verdict"],
                 observed={check["name"]: check["observed"] for check in record.get("checks", [])},
                 commit=str(git.get("commit") or ""), dirty=git.get("dirty"), profile=str(record.get("profile") or ""),
                 time=str(record.get("timestamp") or ""))


def compare(changes: Changes, old: dict[str, Point], new: dict[str, Point],
            records: dict[str, dict[str, Any]]) -> Changes:
    """Fill `changes` with what differs from `old` to `new`; limits and markers come from `records`."""
    for key in sorted(new):
        after, before = new[key], old.get(key)
        if before is None:
            changes.new_keys.append(key)
            continue
        changes.compared += 1
        if before.verdict != after.verdict:
            change = VerdictChange(key, after.id, before.verdict, after.verdict)
            if after.verdict in BAD and before.verdict not in BAD:
                changes.newly_refuted.append(change)
            elif after.verdict == "holds":
                changes.newly_holding.append(change)
            else:
                changes.flipped.append(change)
        record = records.get(key) or {}
        limits = {check["name"]: check.get("limit") for check in record.get("checks", [])}
        perf = "perf" in (record.get("markers") or [])
        for check in sorted(set(before.observed) & set(after.observed)):
            how = moved(before.observed[check], after.observed[check], limits.get(check), perf)
            if how:
                changes.moved.append(Move(key, after.id, check, number(before.observed[check]),
                                          number(after.observed[check]), how))
    return changes


def _run_label(run: str, points: Iterable[Point]) -> str:
    commits = sorted({p.commit[:7] + (" (dirty)" if p.dirty else "") for p in points if p.run == run and p.commit})
    return f"run {run}" + (f" at {', '.join(commits)}" if commits else "")


def since_previous_run(history: dict[str, list[Point]], order: list[str], latest: str,
                       records: dict[str, dict[str, Any]]) -> Changes:
    """Each claim of run `latest` against its latest point from an earlier run."""
    if not isinstance(latest, str):
        raise TypeError(f"latest must be a run id, got {type(latest).__name__}")
    rank = {run: i for i, run in enumerate(order)}
    new = {key: p for key, points in history.items() for p in points if p.run == latest}
    old = {}
    for key in new:
        earlier = [p for p in history[key] if rank.get(p.run, -1) < rank.get(latest, -1)]
        if earlier:
            old[key] = earlier[-1]
    all_points = [p for points in history.values() for p in points]
    before = sorted({p.run for p in old.values()})
    old_runs = f" ({len(before)} run(s), latest {before[-1]})" if before else ""
    changes = Changes("since the previous run", "each claim's latest earlier run" + old_runs,
                      _run_label(latest, all_points))
    if not new:
        changes.note = "no run in the history yet"
    elif not old:
        changes.note = "no earlier run of these claims in the history"
    return compare(changes, old, new, records)


def since_commit(history: dict[str, list[Point]], commit: str, label: str,
                 records: dict[str, dict[str, Any]]) -> Changes:
    """Today's records against each claim's latest point recorded at `commit` (a full hash)."""
    all_points = [p for points in history.values() for p in points]
    runs = runs_at_commit(all_points, commit)
    old = {}
    for key, points in history.items():
        at = [p for p in points if p.run in runs]
        if at:
            old[key] = at[-1]
    new = {key: point_from_record(record) for key, record in records.items()}
    changes = Changes(f"since {label}", f"{len(runs)} run(s) at commit {commit[:10]}"
                      + (f", latest {runs[-1]}" if runs else ""), "today's records")
    if not runs:
        changes.note = f"no run in the history was recorded at commit {commit[:10]}"
        return changes
    return compare(changes, old, new, records)
