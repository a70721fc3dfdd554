"""The report model: everything a page shows, per lesson and per claim, as display text.

Records (from `impl.harness.results.load()`) and the verdict history are read here once;
the Markdown and HTML renderers only lay this model out and escape it. Because every
fact is computed here, a fact shown by one renderer is shown by the other.
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from impl.harness import renames
from impl.harness.report.figures import slug
from impl.harness.report.hosts import Hosts, HostVerdict, across_hosts, cpu_kind, host_verdict, split_by_host
from impl.harness.report.text import (
    check_line, git_line, hardware_line, key_check, number, observation_table, scalar_observations,
)
from impl.harness.verdicts import BADGES, VERDICTS, worst

HISTORY_SHOWN = 10  # recent runs per claim: enough to see a flip, short enough for one line
MESSAGE_SHOWN = 800
RUN_MESSAGE_SHOWN = 200
SUMMARY_MESSAGE_SHOWN = 120
MD5_SHOWN = 10


@dataclass(frozen=True)
class HistoryEntry:
    """One line of reports/history.jsonl: a claim's (or one case's) verdict in one past run."""

    verdict: str
    commit: str = ""
    profile: str = ""
    hardware: str = ""  # only compared: a flip on other hardware need not be the code's doing
    run: str = ""
    cpu: str = ""  # `hosts.cpu_kind` of the line: with `run`, which host it ran on


@dataclass(frozen=True)
class Run:
    """One record of a multi-record claim (a parameter or a seed)."""

    key: str
    verdict: str
    seeds: str
    message: str


@dataclass(frozen=True)
class CheckRow:
    name: str
    observed: str
    threshold: str  # e.g. "<= 2 (max_x)"
    ok: bool


@dataclass(frozen=True)
class Figure:
    title: str
    file_name: str  # under reports/figures/
    spec: dict[str, Any]  # the declarative plot, rendered once by __main__


@dataclass(frozen=True)
class Artifact:
    path: str
    md5: str

    @property
    def md5_short(self) -> str:
        return self.md5[:MD5_SHOWN]


@dataclass
class ClaimView:
    id: str
    verdict: str
    statement: str
    message: str  # the single record's message ("" for multi-record claims: see `runs`)
    runs: list[Run]  # empty unless the claim has several records
    held: int
    ran: int
    checks: list[CheckRow]
    summary: str  # the tightest check (closest to its threshold), else the message
    extras: list[tuple[str, str]]  # scalar observations not shown as checks
    table_columns: list[str]  # nested observations, e.g. one benchmark summary per row
    table_rows: list[tuple[str, list[str]]]
    figures: list[Figure]
    seeds: str
    artifacts: list[Artifact]
    nodeid: str
    profile: str
    duration: str
    commit: str
    timestamp: str
    history: list[tuple[str, list[HistoryEntry]]] = field(default_factory=list)  # (record key, recent runs)
    flag: str | None = None  # the CLAIMS.md section 12 flag the claim answers (`@pytest.mark.flag`)
    expected_refuted: bool = False  # marked known-refuted: the source's statement as made
    host: str = ""  # the host whose records the card shows in detail (`hosts.host_id`)
    hosts: list[HostVerdict] = field(default_factory=list)  # every host's verdict, when several ran the claim
    formerly: list[str] = field(default_factory=list)  # ids the claim had before a rename (specs/renamed.yaml)

    @property
    def badge(self) -> str:
        return BADGES[self.verdict]

    @property
    def formerly_line(self) -> str:
        """' · formerly <ids>' when the claim was renamed (specs/renamed.yaml), else ''."""
        return f" · formerly {', '.join(self.formerly)}" if self.formerly else ""

    @property
    def gist(self) -> str:
        """The statement's first paragraph on one line (the `Course:` paragraph and the rest left out)."""
        return " ".join(self.statement.split("\n\n")[0].split())

    @property
    def history_line(self) -> str:
        """The verdict flips of recent runs ('' when there were none); per case when there are several."""
        flips = [(key, flip_line(entries)) for key, entries in self.history]
        if len(flips) == 1:
            return flips[0][1]
        return "; ".join(f"{key}: {line}" for key, line in flips if line)


@dataclass
class Correction:
    """One flagged source statement: the statement as the source makes it beside what holds instead."""
    flag: str
    as_stated: list[ClaimView]  # marked known-refuted
    measured: list[ClaimView]  # the corrected statements

    @staticmethod
    def side(claims: list[ClaimView]) -> str:
        """One side of the pair as text: each claim's id, badge, statement and tightest check."""
        return " / ".join(f"{c.id} ({c.badge}): {c.gist} [{c.summary}]" for c in claims) or "(no claim)"

    @property
    def row(self) -> list[str]:
        return [self.flag, self.side(self.as_stated), self.side(self.measured)]


CORRECTIONS_HEADER = ["flag", "the source says (known refuted)", "measured instead"]
HOSTS_HEADER = ["host", "verdict", "tightest check (closest to its threshold)", "commit", "when"]


def host_rows(claim: ClaimView) -> list[tuple[str, str, str, str, str]]:
    """One row per host that ran the claim, the host shown in detail first (empty for a single host)."""
    return [(f"{v.label} ({v.host})", BADGES[v.verdict], v.summary, v.commit, v.timestamp) for v in claim.hosts]


@dataclass
class LessonView:
    folder: str
    title: str
    claims: list[ClaimView]
    hardware: list[str]  # every distinct host its records ran on (partial runs may differ)
    profiles: list[str]
    versions: list[tuple[str, str]]  # package, version(s)
    stages: list[list[str]] = field(default_factory=list)  # [stage, headline figures, wall s, CPU] from data/metrics
    introduction: str = ""  # the rest of specs/<folder>/__init__.py's docstring, after the title line

    @property
    def corrections(self) -> list[Correction]:
        """Flagged claims paired by flag number, in flag order."""
        by_flag: dict[str, Correction] = {}
        for claim in self.claims:
            if claim.flag:
                pair = by_flag.setdefault(claim.flag, Correction(claim.flag, [], []))
                (pair.as_stated if claim.expected_refuted else pair.measured).append(claim)
        return [by_flag[flag] for flag in sorted(by_flag, key=_flag_order)]

    @property
    def page(self) -> str:
        """The lesson page's path relative to reports/."""
        return f"lessons/{self.folder}.md"

    def counts(self) -> dict[str, int]:
        counts = {verdict: 0 for verdict in VERDICTS}
        for claim in self.claims:
            counts[claim.verdict] += 1
        return counts

    @property
    def counts_line(self) -> str:
        return ", ".join(f"{n} {verdict}" for verdict, n in self.counts().items() if n)


def _flag_order(flag: str) -> tuple[int, int, str]:
    """F2 before F10; a flag not of that form (never written by the plugin) after them, not a crash."""
    return (0, int(flag[1:]), flag) if flag[1:].isdigit() else (1, 0, flag)


def flip_line(entries: list[HistoryEntry]) -> str:
    """'holds ×2 -> refuted @ 1a2b3c4 -> holds @ 5d6e7f8' when the verdict changed across the
    entries, else ''. Each flip names the commit it appeared at, and says when the profile or
    hardware changed with it (then the flip need not be the code's doing)."""
    steps: list[list[Any]] = []  # [verdict, runs, the entry where it began, the entry before]
    previous = None
    for entry in entries:
        if steps and steps[-1][0] == entry.verdict:
            steps[-1][1] += 1
        else:
            steps.append([entry.verdict, 1, entry, previous])
        previous = entry
    if len(steps) < 2:
        return ""
    parts = []
    for verdict, runs, began, before in steps:
        text = verdict + (f" ×{runs}" if runs > 1 else "")
        if before is not None:
            notes = [f"@ {began.commit[:7]}"] if began.commit else []
            if began.profile != before.profile:
                notes.append(f"profile {began.profile}")
            if began.hardware != before.hardware:
                notes.append("other hardware")
            text += (" " + ", ".join(notes)) if notes else ""
        parts.append(text)
    return " -> ".join(parts)


def figure_name(claim_id: str, index: int, title: str) -> str:
    return f"{claim_id.replace('.', '_')}-{index}-{slug(title)}.png"


def _lesson_doc(root: Path, folder: str) -> str:
    """The docstring of specs/<folder>/__init__.py (read without importing), '' when there is none."""
    init = root / "specs" / folder / "__init__.py"
    if init.is_file():
        return (ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or "").strip()
    return ""


def lesson_title(root: Path, folder: str) -> str:
    """The first docstring line of specs/<folder>/__init__.py; the folder name when there is none."""
    doc = _lesson_doc(root, folder)
    return doc.splitlines()[0] if doc else folder


def lesson_introduction(root: Path, folder: str) -> str:
    """What the lesson's docstring says after its title line: the page's opening text."""
    return "\n".join(_lesson_doc(root, folder).splitlines()[1:]).strip()


def load_history(path: Path, renamed: dict[str, str] | None = None) -> dict[str, list[HistoryEntry]]:
    """The last `HISTORY_SHOWN` verdicts per record key (the claim id for lines without a key),
    oldest first; {} when there is no file. Observed values in the lines are not shown. With `renamed`
    (`renames.load`), a line recorded under a claim's old id counts under its id now.

    The file is append-only and written by concurrent runs, so a torn or foreign line is
    skipped rather than failing the whole report.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    history: dict[str, list[HistoryEntry]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict) or row.get("verdict") not in VERDICTS or not isinstance(row.get("id"), str):
            continue
        # A line names the host either as one "hardware" value or as its cpu/gpu fields.
        hardware = row.get("hardware", {name: row.get(name) for name in ("cpu_model", "cpu_flags", "gpus")})
        key = renames.current(str(row.get("key") or row["id"]), renamed or {})
        history.setdefault(key, []).append(HistoryEntry(
            verdict=row["verdict"], commit=str(row.get("commit") or ""), profile=str(row.get("profile") or ""),
            hardware=hardware if isinstance(hardware, str) else json.dumps(hardware, sort_keys=True),
            run=str(row.get("run") or ""), cpu=cpu_kind(row.get("cpu_model"), row.get("cpu_flags"))))
    return {key: entries[-HISTORY_SHOWN:] for key, entries in history.items()}


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _check_row(check: dict[str, Any]) -> CheckRow:
    threshold = f"{check['op']} {number(check['limit'])}"
    if check.get("limit_name"):
        threshold += f" ({check['limit_name']})"
    return CheckRow(str(check["name"]), number(check["observed"]), threshold, bool(check["ok"]))


def _claim_history(records: list[dict[str, Any]], history: dict[str, list[HistoryEntry]],
                   hosts: Hosts | None = None, host: str = "") -> list[tuple[str, list[HistoryEntry]]]:
    """The claim's recent verdicts per case; with several hosts in the report, only `host`'s."""
    if hosts is not None and hosts.many:
        history = {key: [e for e in entries if hosts.of_line(e.run, e.cpu) == host] for key, entries in history.items()
                   if key in {r["key"] for r in records} | {records[0]["id"]}}
        history = {key: entries for key, entries in history.items() if entries}
    cases = [(r["key"], history[r["key"]]) for r in records if r["key"] in history]
    claim_id = records[0]["id"]
    if not cases and claim_id in history:  # lines that name only the claim, not the case
        cases = [(claim_id, history[claim_id])]
    return cases


def claim_view(claim_id: str, records: list[dict[str, Any]], history: dict[str, list[HistoryEntry]],
               hosts: Hosts | None = None) -> ClaimView:
    """Everything shown for one claim; checks, observations and plots come from its first record.

    Records of several hosts: the card shows one host's records in detail (`hosts.split_by_host`), every
    host's verdict side by side, and the verdict across hosts (`hosts.COMBINE_RULE`)."""
    hosts = hosts or Hosts(records)
    groups = split_by_host(records, hosts)
    host, records = groups[0]
    by_host = [host_verdict(h, group, hosts) for h, group in groups] if len(groups) > 1 else []
    first = records[0]
    multi = len(records) > 1
    ran = [r for r in records if r["verdict"] in ("holds", "refuted", "error")]
    shown_check = key_check(first["checks"])
    seeds = [seed for record in records for seed in record["seeds"]]
    artifacts = {path: str(md5) for record in records for path, md5 in record["artifacts"].items()}
    columns, rows = observation_table(first)
    return ClaimView(
        id=claim_id,
        verdict=across_hosts(v.verdict for v in by_host) if by_host else worst(r["verdict"] for r in records),
        statement=first["statement"],
        message="" if multi else first["message"][:MESSAGE_SHOWN],
        runs=[Run(r["key"], r["verdict"], number(r["seeds"]), r["message"][:RUN_MESSAGE_SHOWN])
              for r in records] if multi else [],
        held=sum(r["verdict"] == "holds" for r in ran),
        ran=len(ran),
        checks=[_check_row(check) for check in first["checks"]],
        summary=check_line(shown_check) if shown_check else first["message"][:SUMMARY_MESSAGE_SHOWN],
        extras=[(str(name), number(value)) for name, value in scalar_observations(first).items()],
        table_columns=[str(c) for c in columns],
        table_rows=[(str(name), values) for name, values in rows],
        figures=[Figure(plot["title"], figure_name(claim_id, i, plot["title"]), plot)
                 for i, plot in enumerate(first["plots"])],
        seeds=number(_distinct(seeds)) if seeds else "none",
        artifacts=[Artifact(path, md5) for path, md5 in artifacts.items()],
        nodeid=first["nodeid"],
        profile=", ".join(_distinct([r["profile"] for r in records])),
        duration=f"{sum(r['duration_s'] for r in records):.2f} s",
        commit=", ".join(_distinct([git_line(r) for r in records])),
        timestamp=max(r["timestamp"] for r in records),
        history=_claim_history(records, history, hosts, host),
        flag=first.get("flag"),
        expected_refuted=bool(first.get("expected_refuted")),
        host=host,
        hosts=by_host,
    )


def _versions(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    seen: dict[str, list[str]] = {}
    for record in records:
        for name, version in (record.get("versions") or {}).items():
            seen.setdefault(name, [])
            if str(version) not in seen[name]:
                seen[name].append(str(version))
    return [(name, " / ".join(versions)) for name, versions in seen.items()]


def _sort_key(folder: str) -> tuple[int, str]:
    if folder.startswith("l") and folder[1:].split("_")[0].isdigit():
        return int(folder[1:].split("_")[0]), folder
    return (0 if folder == "data" else 100), folder


STAGE_FACTS = ("profile",)  # shown elsewhere on the page, not as a headline


def _json_or_empty(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def stage_rows(metrics_dir: Path, folder: str, timings_dir: Path | None = None) -> list[list[str]]:
    """One row per stage summary in data/metrics/<lesson>/: headline figures, then the wall time and the
    CPU kind from the per-machine data/timings/<lesson>/ file of the same name ("?" where none exists)."""
    timings_dir = Path(timings_dir or Path(metrics_dir).parent / "timings")
    rows = []
    for path in sorted((Path(metrics_dir) / folder).glob("*.json")):
        summary = _json_or_empty(path)
        if not summary:
            continue
        timing = _json_or_empty(timings_dir / folder / path.name)
        headline = "; ".join(f"{k} = {number(v)}" for k, v in summary.items() if k not in STAGE_FACTS)
        cpu = f"{timing.get('cpu_model', '?')} ({timing.get('cpu_flags', '')})"
        rows.append([path.stem, headline, number(timing.get("wall_seconds")), cpu])
    return rows


def build(records: dict[str, dict[str, Any]], root: Path, history: dict[str, list[HistoryEntry]] | None = None,
          metrics_dir: Path | None = None, hosts: Hosts | None = None) -> list[LessonView]:
    """Lessons in course order, each with its claims (records grouped by claim id) and stage summaries.

    `records` may hold several hosts' records of a claim (`merge.load_view`); `hosts` (default: the
    records' hosts) also places history lines on hosts through the run summaries."""
    history = history or {}
    hosts = hosts or Hosts(records.values())
    formerly: dict[str, list[str]] = {}
    for old, new in renames.load(root).items():
        formerly.setdefault(new, []).append(old)
    metrics_dir = Path(metrics_dir or root / "data" / "metrics")
    by_lesson: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for record in sorted(records.values(), key=lambda r: (r["key"], hosts.of_record(r))):
        by_lesson.setdefault(record["lesson_folder"], {}).setdefault(record["id"], []).append(record)
    lessons = []
    for folder in sorted(by_lesson, key=_sort_key):
        claims = by_lesson[folder]
        all_records = [r for group in claims.values() for r in group]
        lessons.append(LessonView(
            folder=folder,
            title=lesson_title(root, folder),
            claims=[replace(claim_view(claim_id, group, history, hosts), formerly=sorted(formerly.get(claim_id, ())))
                    for claim_id, group in claims.items()],
            hardware=_distinct([hardware_line(r) for r in all_records]),
            profiles=_distinct([r["profile"] for r in all_records]),
            versions=_versions(all_records),
            stages=stage_rows(metrics_dir, folder),
            introduction=lesson_introduction(root, folder),
        ))
    return lessons
