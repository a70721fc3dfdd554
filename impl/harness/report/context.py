"""What the index page shows beyond the lesson model: the overview, what changed, and each claim's evidence.

Built once from the records, the history points, the run summaries and the source tree (spec lines,
threshold reasons); `html` lays it out. Everything here is sorted, so the same inputs give the same page.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from impl.harness.report.changes import NOISE_RULE, Changes, since_commit, since_previous_run
from impl.harness.report.evidence import spec_location, threshold_reasons
from impl.harness.report.history import Point, by_key, run_order
from impl.harness.report.hosts import Hosts
from impl.harness.report.model import LessonView
from impl.harness.report.overview import Overview, build_overview
from impl.harness.report.text import number
from impl.harness.report.trend import Trend, claim_trend

HISTORY_ROWS = 10  # recent runs listed per claim (the trend draws up to trend.TREND_RUNS)
TIGHTEST_RULE = ("trend of the tightest check's observed value across runs; tightest = the first failing check, "
                 "else the one with the smallest relative margin to its limit; dashed line: the limit")
NO_REASON = "no reason given in claims.yaml"


@dataclass(frozen=True)
class HistoryRow:
    run: str
    commit: str
    verdict: str
    value: str  # the tightest check's observed value in that run


@dataclass
class ClaimEvidence:
    key: str  # the record whose checks and history are shown (a claim's first record)
    markers: list[str]
    spec_file: str
    spec_line: int | None
    thresholds: list[tuple[str, str, str]]  # (name, value, reason)
    trend: Trend | None
    history: list[HistoryRow]
    change: str = ""  # mark from "since the previous run", e.g. "newly refuted"


@dataclass
class ReportContext:
    overview: Overview
    changes: list[Changes]
    claims: dict[str, ClaimEvidence] = field(default_factory=dict)  # by claim id
    noise_rule: str = NOISE_RULE
    tightest_rule: str = TIGHTEST_RULE


def _evidence(root: Path, record: dict[str, Any], points: list[Point]) -> ClaimEvidence:
    spec_file, spec_line = spec_location(root, record["nodeid"])
    reasons = threshold_reasons(root, record["lesson_folder"], record["id"])
    thresholds = [(str(name), number(value), reasons.get(str(name), NO_REASON))
                  for name, value in sorted((record.get("thresholds") or {}).items())]
    trend = claim_trend(record, points)
    check = trend.check if trend else ""
    rows = [HistoryRow(p.run, p.commit[:7] + ("+" if p.dirty else ""), p.verdict,
                       number(p.observed[check]) if check in p.observed else "")
            for p in points[-HISTORY_ROWS:]]
    return ClaimEvidence(record["key"], sorted(str(m) for m in record.get("markers") or []), spec_file, spec_line,
                         thresholds, trend, rows)


def by_host(records: dict[str, dict[str, Any]], points: list[Point],
            hosts: Hosts) -> tuple[dict[str, dict[str, Any]], list[Point]]:
    """Records and points keyed 'key @ host' when several hosts ran claims (plain keys for one host), so
    each comparison and each claim's history stays on one machine."""
    if not hosts.many:
        return {r["key"]: r for r in records.values()}, points
    tagged = {f"{r['key']} @ {hosts.of_record(r)}": r for r in records.values()}
    return tagged, [replace(p, key=f"{p.key} @ {hosts.of_line(p.run, p.cpu)}")
                    for p in points]


def build_context(lessons: list[LessonView], records: dict[str, dict[str, Any]], root: Path,
                  points: list[Point], summaries: list[dict[str, Any]],
                  base: tuple[str, str] | None = None) -> ReportContext:
    """`base`: (full commit hash, how the user named it) to compare today's records with, or None.

    With several hosts, "since the previous run" compares the latest run with earlier runs on its own host,
    "since REV" each host's records with that host's runs at REV, and each claim's history is its detail host's."""
    if not isinstance(records, dict) or not all(isinstance(r, dict) for r in records.values()):
        raise TypeError("records must map record keys to record mappings")
    if base is not None and not (isinstance(base, tuple) and len(base) == 2 and all(isinstance(b, str) for b in base)):
        raise TypeError(f"base must be (commit, label), got {base!r}")
    hosts = Hosts(records.values(), summaries)
    records, points = by_host(records, points, hosts)
    order = run_order(points, summaries)
    history = by_key(points, order)
    latest = order[-1] if order else ""
    changes = [since_previous_run(history, order, latest, records)]
    if base is not None:
        changes.append(since_commit(history, base[0], base[1], records))
    marks = changes[0].marks()
    detail_host = {claim.id: claim.host for lesson in lessons for claim in lesson.claims}
    claims: dict[str, ClaimEvidence] = {}
    for key in sorted(records, key=lambda k: (records[k]["key"], k)):
        record = records[key]
        if record["id"] not in claims and hosts.of_record(record) == detail_host.get(record["id"], hosts.of_record(record)):
            evidence = _evidence(root, record, history.get(key, []))
            evidence.change = marks.get(record["id"], "")
            claims[record["id"]] = evidence
    return ReportContext(build_overview(lessons, records, summaries, hosts), changes, claims)
