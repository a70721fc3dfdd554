"""`reports/results.json`: one record per claim, merged across partial runs."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from filelock import FileLock

from impl import paths
from impl.atomic import atomic_write_text

SCHEMA = 1
VERDICTS = ("holds", "refuted", "error", "not run", "known refuted")


def load(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """All records keyed by record key; empty when no run has written the file yet."""
    path = Path(path or paths.RESULTS_FILE)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {data.get('schema')!r}, expected {SCHEMA}; delete it and rerun")
    return data["claims"]


def merge(
    records: Iterable[dict[str, Any]], path: Path | None = None, root: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Merge new records into the file (a partial run keeps the other claims).

    Records of specs whose file no longer exists are dropped, so a deleted claim
    does not linger in the report.
    """
    path = Path(path or paths.RESULTS_FILE)
    root = Path(root or paths.ROOT)
    with FileLock(str(path) + ".lock"):
        claims = load(path)
        for record in records:
            if record["verdict"] not in VERDICTS:
                raise ValueError(f"unknown verdict {record['verdict']!r} for {record['key']}")
            claims[record["key"]] = record
        claims = {
            key: record for key, record in claims.items()
            if (root / record["nodeid"].partition("::")[0]).is_file()
        }
        text = json.dumps({"schema": SCHEMA, "claims": dict(sorted(claims.items()))}, indent=1)
        atomic_write_text(path, text + "\n")
    return claims
