"""Group result records into lessons and claims, ready to render."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impl.harness.results import VERDICTS

VERDICT_ORDER = {verdict: i for i, verdict in enumerate(("error", "refuted", "known refuted", "not run", "holds"))}


@dataclass
class ClaimResult:
    """One claim id and its records (several when parametrized or rerun over seeds)."""

    id: str
    records: list[dict[str, Any]]

    @property
    def first(self) -> dict[str, Any]:
        return self.records[0]

    @property
    def verdict(self) -> str:
        """The worst verdict over the claim's records (one refuted seed refutes the claim)."""
        return min((r["verdict"] for r in self.records), key=VERDICT_ORDER.__getitem__)

    @property
    def statement(self) -> str:
        return self.first["statement"]

    @property
    def pass_fraction(self) -> tuple[int, int]:
        ran = [r for r in self.records if r["verdict"] in ("holds", "refuted", "error")]
        return sum(r["verdict"] == "holds" for r in ran), len(ran)


@dataclass
class Lesson:
    folder: str
    code: str
    title: str
    claims: list[ClaimResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {verdict: 0 for verdict in VERDICTS}
        for claim in self.claims:
            counts[claim.verdict] += 1
        return counts


def lesson_title(root: Path, folder: str) -> str:
    """The first docstring line of specs/<folder>/__init__.py (read without importing)."""
    init = root / "specs" / folder / "__init__.py"
    if init.is_file():
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        if doc:
            return doc.strip().splitlines()[0]
    return folder


def _sort_key(folder: str) -> tuple[int, str]:
    if folder.startswith("l") and folder[1:].split("_")[0].isdigit():
        return int(folder[1:].split("_")[0]), folder
    return (0 if folder == "data" else 100), folder


def group(records: dict[str, dict[str, Any]], root: Path) -> list[Lesson]:
    lessons: dict[str, Lesson] = {}
    for key in sorted(records):
        record = records[key]
        folder = record["lesson_folder"]
        lesson = lessons.setdefault(folder, Lesson(folder, record["lesson"], lesson_title(root, folder)))
        if lesson.claims and lesson.claims[-1].id == record["id"]:
            lesson.claims[-1].records.append(record)
        else:
            lesson.claims.append(ClaimResult(record["id"], [record]))
    return [lessons[folder] for folder in sorted(lessons, key=_sort_key)]
