"""Several machines, one report: bring another checkout's verdicts into this one.

`python -m impl.harness.report.merge <reports folder | checkout | tarball of reports/>` (or
`make import-results FROM=...`) merges the other machine's records into this checkout's:

- its records (`results/<lesson>.json` and whatever it had imported itself) go to `reports/imported/results.json`,
  never into `results/<lesson>.json`, which each lesson's `verify` stage deletes and rewrites;
- its history lines and run summaries are appended to `reports/history.jsonl` and `reports/runs.jsonl`
  unless an identical line is already there.

The report reads the union of this checkout's records and the imported ones and keeps, per claim and
host (`hosts.host_id`), the records of the latest run, exactly as a run on one machine replaces its
own earlier records of a claim. That selection is a join (the latest by run id, then timestamp, then
content), so merging is commutative, associative and idempotent: import order does not matter and a
re-import changes nothing. Every write holds the same file lock as the pytest plugin's.
"""
from __future__ import annotations

import argparse
import json
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from filelock import FileLock

from impl import paths
from impl.atomic import atomic_write_text
from impl.harness import results
from impl.harness.report.hosts import host_id
from impl.harness.verdicts import VERDICTS

IMPORTED_SCHEMA = 1
IMPORTED = PurePosixPath("imported") / "results.json"
RECORD_FIELDS = {"key": str, "id": str, "verdict": str, "lesson_folder": str, "nodeid": str, "hardware": dict,
                 "timestamp": str, "statement": str, "message": str, "checks": list, "observed": dict, "plots": list,
                 "seeds": list, "artifacts": dict, "profile": str}


class BadReports(ValueError):
    """An input that is not a reports folder of this project; the message names the file."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def check_record(record: Any, where: str) -> dict[str, Any]:
    """The record, when it has every field the report reads, with the right types; else an error naming `where`."""
    if not isinstance(record, dict):
        raise BadReports(f"{where}: a record must be a JSON object, got {type(record).__name__}")
    for name, kind in RECORD_FIELDS.items():
        if not isinstance(record.get(name), kind):
            raise BadReports(f"{where}: record {record.get('key')!r} has no {kind.__name__} field {name!r}")
    if record["verdict"] not in VERDICTS:
        raise BadReports(f"{where}: record {record['key']!r} has unknown verdict {record['verdict']!r}")
    if not isinstance(record.get("duration_s"), (int, float)) or isinstance(record.get("duration_s"), bool):
        raise BadReports(f"{where}: record {record['key']!r} has no numeric field 'duration_s'")
    return record


def _rank(record: dict[str, Any]) -> tuple[str, str, str]:
    return str(record.get("run") or ""), record["timestamp"], _canonical(record)


def latest(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (host, record key), the latest record; of those, per (host, claim id), only the latest run's."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        slot = (host_id(record["hardware"]), record["key"])
        if slot not in best or _rank(record) > _rank(best[slot]):
            best[slot] = record
    last_run: dict[tuple[str, str], str] = {}
    for (host, _), record in best.items():
        claim = (host, record["id"])
        last_run[claim] = max(last_run.get(claim, ""), str(record.get("run") or ""))
    return {slot: best[slot] for slot in sorted(best)
            if str(best[slot].get("run") or "") == last_run[(slot[0], best[slot]["id"])]}


@dataclass(frozen=True)
class RecordSet:
    """One checkout's reports: records by (host, key), history lines and run summaries (canonical JSON, file order)."""

    records: dict[tuple[str, str], dict[str, Any]]
    history: tuple[str, ...] = ()
    runs: tuple[str, ...] = ()

    def canonical(self) -> tuple[str, frozenset[str], frozenset[str]]:
        """What two record sets must agree on to show the same report (line order aside)."""
        return _canonical(sorted(self.records.items())), frozenset(self.history), frozenset(self.runs)


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(first + second))


def merge(a: RecordSet, b: RecordSet) -> RecordSet:
    """Both record sets in one: the latest records per host and claim, every distinct history and run line."""
    if not isinstance(a, RecordSet) or not isinstance(b, RecordSet):
        raise TypeError("merge takes two RecordSets")
    return RecordSet(latest([*a.records.values(), *b.records.values()]), _union(a.history, b.history),
                     _union(a.runs, b.runs))


# -- reading a reports folder or a tarball of one ---------------------------------------------------------------
def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BadReports(f"{where}: not JSON ({exc})") from None


def _records_file(text: str, where: str, schema: int, field: str) -> list[dict[str, Any]]:
    data = _json(text, where)
    if not isinstance(data, dict) or data.get("schema") != schema or not isinstance(data.get(field), dict):
        raise BadReports(f"{where}: not a results file of schema {schema} (a mapping with '{field}')")
    return [check_record(record, where) for record in data[field].values()]


def _lines(text: str, where: str, required: tuple[str, ...]) -> tuple[str, ...]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        row = _json(line, f"{where}:{number}")
        if not isinstance(row, dict) or not all(row.get(name) for name in required):
            raise BadReports(f"{where}:{number}: a line must be a JSON object with {', '.join(required)}")
        if "verdict" in required and row["verdict"] not in VERDICTS:
            raise BadReports(f"{where}:{number}: unknown verdict {row['verdict']!r}")
        found.append(_canonical(row))
    return tuple(dict.fromkeys(found))


def from_files(files: dict[str, str], origin: str) -> RecordSet:
    """A record set from a reports folder's files, by path relative to it ('results/l1.json', 'history.jsonl')."""
    records: list[dict[str, Any]] = []
    for name in sorted(files):
        path, where = PurePosixPath(name), f"{origin}/{name}"
        if path.parent == PurePosixPath("results") and path.suffix == ".json":
            records += _records_file(files[name], where, results.SCHEMA, "claims")
        elif path == IMPORTED:
            records += _records_file(files[name], where, IMPORTED_SCHEMA, "records")
    history = _lines(files.get("history.jsonl", ""), f"{origin}/history.jsonl", ("id", "verdict"))
    runs = _lines(files.get("runs.jsonl", ""), f"{origin}/runs.jsonl", ("run",))
    if not records and not history and not runs:
        raise BadReports(f"{origin}: holds no results/*.json, history.jsonl or runs.jsonl: not a reports folder")
    return RecordSet(latest(records), history, runs)


def _wanted(path: PurePosixPath) -> bool:
    return (path.name in ("history.jsonl", "runs.jsonl") or path.as_posix().endswith(IMPORTED.as_posix())
            or (path.parent.name == "results" and path.suffix == ".json"))


def _from_tarball(source: Path) -> RecordSet:
    """The reports folder inside a tarball, read in memory (nothing is extracted to disk)."""
    try:
        with tarfile.open(source) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and _wanted(PurePosixPath(m.name))]
            texts = {PurePosixPath(m.name): tar.extractfile(m).read().decode("utf-8") for m in members}
    except (tarfile.TarError, OSError, UnicodeDecodeError) as exc:
        raise BadReports(f"{source}: not a readable tarball of a reports folder ({exc})") from None
    roots = {p.parent.parent if p.parent.name in ("results", "imported") else p.parent for p in texts}
    if len(roots) != 1:
        raise BadReports(f"{source}: holds {len(roots)} reports folders ({sorted(map(str, roots))}); expected one")
    root = roots.pop()
    return from_files({p.relative_to(root).as_posix(): text for p, text in texts.items()}, str(source))


def read_reports(source: Path) -> RecordSet:
    """Another machine's reports: its reports/ folder, the checkout holding it, or a tarball of either."""
    source = Path(source)
    if source.is_file():
        return _from_tarball(source)
    if not source.is_dir():
        raise BadReports(f"{source}: no such folder or tarball")
    if (source / "reports").is_dir() and not (source / "results").is_dir():
        source = source / "reports"
    files = {p.relative_to(source).as_posix(): p.read_text(encoding="utf-8")
             for p in [*source.glob("results/*.json"), source / IMPORTED, source / "history.jsonl",
                       source / "runs.jsonl"] if p.is_file()}
    return from_files(files, str(source))


# -- this checkout's store -----------------------------------------------------------------------------------------
def _read_imported(path: Path) -> list[dict[str, Any]]:
    return _records_file(path.read_text(encoding="utf-8"), str(path), IMPORTED_SCHEMA, "records") \
        if path.is_file() else []


def _append_new(path: Path, lines: tuple[str, ...]) -> int:
    """Append the lines `path` does not hold yet, under the plugin's lock; how many were appended."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        held = set()
        for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
            try:  # this checkout's own file: a torn line (a crashed writer) is not the import's business
                held.add(_canonical(json.loads(line)))
            except ValueError:
                continue
        new = [line for line in lines if line not in held]
        if new:
            with path.open("a", encoding="utf-8") as fh:
                fh.write("".join(line + "\n" for line in new))
    return len(new)


def import_reports(incoming: RecordSet, reports_dir: Path | None = None) -> dict[str, int]:
    """Merge `incoming` into this checkout's reports; counts of what changed: records the report now shows
    differently (added, replaced or superseded), history and run lines appended. All 0 on a re-import."""
    if not isinstance(incoming, RecordSet):
        raise TypeError(f"incoming must be a RecordSet, got {type(incoming).__name__}")
    reports_dir = Path(reports_dir or paths.REPORTS_DIR)
    store = reports_dir / IMPORTED
    store.parent.mkdir(parents=True, exist_ok=True)
    own = list(results.load(reports_dir / "results").values())
    with FileLock(str(store) + ".lock"):
        before = latest(_read_imported(store))
        after = latest([*before.values(), *incoming.records.values()])
        shown_before, shown_after = latest([*own, *before.values()]), latest([*own, *after.values()])
        changed = sum(shown_before.get(slot) != shown_after.get(slot) for slot in {*shown_before, *shown_after})
        if after != before:
            text = json.dumps({"schema": IMPORTED_SCHEMA,
                               "records": {f"{key}@{host}": r for (host, key), r in after.items()}}, indent=1)
            atomic_write_text(store, text + "\n")
    return {"records": changed,
            "history lines": _append_new(reports_dir / paths.HISTORY_FILE.name, incoming.history),
            "runs": _append_new(reports_dir / paths.RUNS_FILE.name, incoming.runs)}


def load_view(own: dict[str, dict[str, Any]], reports_dir: Path | None = None,
              root: Path | None = None) -> dict[str, dict[str, Any]]:
    """The records the report shows: this checkout's (`own`, from `results.load()`) and the imported ones,
    the latest per host and claim.

    Keyed by record key while one host is present, else by 'key@host'. Imported records of specs this
    checkout no longer has are left out, as `results.merge` leaves them out of this machine's own files.
    """
    if not isinstance(own, dict):
        raise TypeError(f"own must map record keys to records, got {type(own).__name__}")
    reports_dir, root = Path(reports_dir or paths.REPORTS_DIR), Path(root or paths.ROOT)
    imported = [r for r in _read_imported(reports_dir / IMPORTED)
                if (root / r["nodeid"].partition("::")[0]).is_file()]
    view = latest([*own.values(), *imported])
    many = len({host for host, _ in view}) > 1
    return {(f"{key}@{host}" if many else key): record for (host, key), record in view.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the other machine's reports/ folder, its checkout, or a tarball")
    args = parser.parse_args(argv)
    try:
        counts = import_reports(read_reports(args.source))
    except ValueError as exc:  # BadReports for the input; this checkout's own files are checked as well
        print(f"import: {exc}", file=sys.stderr)
        return 2
    print(f"import: {counts['records']} record(s) shown anew (added or replacing older ones), "
          f"{counts['history lines']} history line(s) and {counts['runs']} run line(s) appended"
          + f" from {args.source} -> {paths.REPORTS_DIR}; `make report` shows them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
