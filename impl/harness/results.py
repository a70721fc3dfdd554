"""Verdict records on disk: `reports/results/<lesson>.json`, plus the append-only `reports/history.jsonl`
(every record of every run, compact) and `reports/runs.jsonl` (one line per run: its id, start, wall
time, arguments, commit, profile, machine and verdict counts).

One file per lesson folder, so each lesson's DVC `verify` stage owns exactly its file. A run's
records for a claim replace every earlier record of that claim (a plain run after a seed
sweep leaves no stale per-seed verdicts behind); claims the run did not touch are kept, so a
partial run (`-k`, `-m`) merges. The history file keeps every run's verdicts, for flips.

Faults: a lesson file cut short (a run killed mid-write on a filesystem without atomic rename, a full
disk, a hand edit) is refused on reading with `ResultsFileError`, naming the file and the way out; a
run that merges into such a file keeps it aside as `<lesson>.json.corrupt-<time>` and writes its own
records. A torn last line of an append-only file (history, runs) is never glued to the next run's
first line: appends start on a fresh line, and readers skip a torn line.
Concurrent runs on one checkout serialise every write through a lock file beside it.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from filelock import FileLock

from impl import paths
from impl.atomic import atomic_write_text
from impl.harness.verdicts import VERDICTS

SCHEMA = 2


def lesson_file(folder: str, results_dir: Path | None = None) -> Path:
    return Path(results_dir or paths.RESULTS_DIR) / f"{folder}.json"


class ResultsFileError(ValueError):
    """A results file that cannot be read as one; the message names the file and the way out."""


def _way_out(path: Path) -> str:
    lesson = path.stem
    return (f"rerun its lesson (`make test PYTEST_ARGS=specs/{lesson}`) or delete {path}; the other lessons' "
            f"files and reports/history.jsonl are not affected")


def read_lesson(path: Path) -> dict[str, dict[str, Any]]:
    """The records of one lesson file, keyed by record key; {} when it does not exist.

    Raises ResultsFileError for a file that is not a whole results file of this schema (cut short,
    not JSON, not UTF-8, another schema or shape).
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ResultsFileError(f"{path}: not a complete results file ({exc}); it was cut short or damaged: "
                               f"{_way_out(path)}") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ResultsFileError(f"{path}: schema {found!r}, expected {SCHEMA}: {_way_out(path)}")
    claims = data.get("claims")
    if not isinstance(claims, dict) or not all(isinstance(r, dict) and "id" in r for r in claims.values()):
        raise ResultsFileError(f"{path}: 'claims' is not a mapping of records: {_way_out(path)}")
    return claims



def _read_or_set_aside(path: Path) -> dict[str, dict[str, Any]]:
    """`read_lesson`, except that a damaged file is renamed aside (kept for a look) and read as empty,
    so a run's new records are written rather than lost; says so on stderr."""
    try:
        return read_lesson(path)
    except ResultsFileError as exc:
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        path.replace(aside)
        print(f"results: {exc}\nresults: kept it as {aside}; this run's records start a new {path.name}",
              file=sys.stderr)
        return {}


def load(results_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every record of every lesson, keyed by record key; empty when no run has written any."""
    folder = Path(results_dir or paths.RESULTS_DIR)
    records: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        records.update(read_lesson(path))
    return records


def merge(records: Iterable[dict[str, Any]], results_dir: Path | None = None,
          root: Path | None = None) -> dict[str, dict[str, Any]]:
    """Merge a run's records into the lesson files; returns the merged records of the lessons touched.

    Records of specs whose file no longer exists are dropped, so a deleted claim does not linger.
    """
    root = Path(root or paths.ROOT)
    by_lesson: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record["verdict"] not in VERDICTS:
            raise ValueError(f"unknown verdict {record['verdict']!r} for {record['key']}")
        by_lesson.setdefault(record["lesson_folder"], []).append(record)
    merged: dict[str, dict[str, Any]] = {}
    for folder, new in by_lesson.items():
        path = lesson_file(folder, results_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):
            rerun = {record["id"] for record in new}
            claims = {key: old for key, old in _read_or_set_aside(path).items()
                      if old["id"] not in rerun and (root / old["nodeid"].partition("::")[0]).is_file()}
            claims.update({record["key"]: record for record in new})
            text = json.dumps({"schema": SCHEMA, "claims": dict(sorted(claims.items()))}, indent=1)
            atomic_write_text(path, text + "\n")
        merged.update(claims)
    return merged


def history_line(record: dict[str, Any]) -> dict[str, Any]:
    """The compact form of a record kept in the history: verdict, checked values, where and when."""
    hw = record.get("hardware") or {}
    return {
        "key": record["key"], "id": record["id"], "verdict": record["verdict"], "run": record.get("run"),
        "observed": {check["name"]: check["observed"] for check in record.get("checks", [])},
        "commit": (record.get("git") or {}).get("commit"), "dirty": (record.get("git") or {}).get("dirty"),
        "profile": record.get("profile"), "cpu_model": hw.get("cpu_model"), "cpu_flags": hw.get("cpu_flags"),
        "gpus": hw.get("gpus"), "time": record.get("timestamp"),
    }


def append_history(records: Iterable[dict[str, Any]], path: Path | None = None) -> None:
    """Append one line per record to the history file (never rewritten)."""
    path = Path(path or paths.HISTORY_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(history_line(record), sort_keys=True) + "\n" for record in records)
    _append_lines(path, lines)


def _append_lines(path: Path, lines: str) -> None:
    """Append whole lines under the file's lock; after a torn last line (a writer killed mid-line) the
    new lines start on a line of their own, so only the torn line is unreadable."""
    with FileLock(str(path) + ".lock"), path.open("a+b") as fh:
        fh.seek(0, 2)
        if fh.tell():
            fh.seek(-1, 2)
            if fh.read(1) != b"\n":
                lines = "\n" + lines
        fh.write(lines.encode("utf-8"))


def append_run(summary: dict[str, Any], path: Path | None = None) -> None:
    """Append one run's summary line to the runs file (never rewritten)."""
    if not isinstance(summary, dict) or not summary.get("run"):
        raise ValueError(f"summary must be a mapping with a 'run' id, got {summary!r:.80}")
    path = Path(path or paths.RUNS_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    _append_lines(path, json.dumps(summary, sort_keys=True) + "\n")


def load_runs(path: Path | None = None) -> list[dict[str, Any]]:
    """Every run summary, oldest first; empty when none was written. A torn line (a run killed while
    appending) is skipped with a warning naming the file and line; the other runs are kept."""
    path = Path(path or paths.RUNS_FILE)
    if not path.is_file():
        return []
    summaries = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        try:
            row = json.loads(line) if line.strip() else None
        except ValueError:
            row = "torn"
        if isinstance(row, dict) and row.get("run"):
            summaries.append(row)
        elif row is not None:
            print(f"results: {path} line {number} is not a run summary (a torn write); skipped", file=sys.stderr)
    return summaries
