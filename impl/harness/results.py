"""Verdict records on disk: `reports/results/<lesson>.json`, plus the append-only `reports/history.jsonl`
(every record of every run, compact) and `reports/runs.jsonl` (one line per run: its id, start, wall
time, arguments, commit, profile, machine and verdict counts).

One file per lesson folder, so each lesson's DVC `verify` stage owns exactly its file. A run's
records for a claim replace every earlier record of that claim (a plain run after a seed
sweep leaves no stale per-seed verdicts behind); claims the run did not touch are kept, so a
partial run (`-k`, `-m`) merges. The history file keeps every run's verdicts, for flips.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from filelock import FileLock

from impl import paths
from impl.atomic import atomic_write_text
from impl.harness.verdicts import VERDICTS

SCHEMA = 2


def lesson_file(folder: str, results_dir: Path | None = None) -> Path:
    return Path(results_dir or paths.RESULTS_DIR) / f"{folder}.json"


def _read(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {data.get('schema')!r}, expected {SCHEMA}; delete it and rerun")
    return data["claims"]


def load(results_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every record of every lesson, keyed by record key; empty when no run has written any."""
    folder = Path(results_dir or paths.RESULTS_DIR)
    records: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        records.update(_read(path))
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
            claims = {key: old for key, old in _read(path).items()
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
    with FileLock(str(path) + ".lock"), path.open("a", encoding="utf-8") as fh:
        fh.write(lines)


def append_run(summary: dict[str, Any], path: Path | None = None) -> None:
    """Append one run's summary line to the runs file (never rewritten)."""
    if not isinstance(summary, dict) or not summary.get("run"):
        raise ValueError(f"summary must be a mapping with a 'run' id, got {summary!r:.80}")
    path = Path(path or paths.RUNS_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"), path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(summary, sort_keys=True) + "\n")


def load_runs(path: Path | None = None) -> list[dict[str, Any]]:
    """Every run summary, oldest first; empty when none was written."""
    path = Path(path or paths.RUNS_FILE)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
