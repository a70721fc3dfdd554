"""The claims as the command line finds them: one report model (the page's) plus lookups and filters.

`load_catalogue` reads the records, the history and the run summaries once and builds the same lessons and
evidence the HTML page shows, so the terminal and the page never disagree. `find` names close matches when
an id is unknown; `select` filters by lesson, verdict, marker and free text.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from impl import paths
from impl.harness import renames, results
from impl.harness.report.context import ClaimEvidence, ReportContext, build_context
from impl.harness.report.history import read_points
from impl.harness.report.model import ClaimView, LessonView, build, load_history
from impl.harness.verdicts import VERDICTS

CLOSE_MATCHES = 5


class UnknownClaim(LookupError):
    """No claim has the id asked for; `suggestions` are the closest ids."""

    def __init__(self, claim_id: str, suggestions: list[str], total: int):
        self.claim_id, self.suggestions = claim_id, suggestions
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no claim {claim_id!r} among the {total} claims with verdicts{hint}")


class UnknownFilter(ValueError):
    """A filter value that no claim could match (e.g. a lesson that has no verdicts)."""


@dataclass
class Catalogue:
    lessons: list[LessonView]  # course order, as the page lists them
    records: dict[str, dict[str, Any]]  # by record key
    context: ReportContext
    root: Path

    @property
    def claims(self) -> list[ClaimView]:
        return [claim for lesson in self.lessons for claim in lesson.claims]

    def lesson_of(self, claim: ClaimView) -> LessonView:
        return next(lesson for lesson in self.lessons if claim in lesson.claims)

    def records_of(self, claim: ClaimView) -> list[dict[str, Any]]:
        """The claim's records (one per case or seed), by record key."""
        return [self.records[key] for key in sorted(self.records) if self.records[key]["id"] == claim.id]

    def evidence(self, claim: ClaimView) -> ClaimEvidence:
        return self.context.claims[claim.id]

    def find(self, claim_id: str) -> ClaimView:
        """The claim with this id (or record key, e.g. 'L1.x.p[a]'); UnknownClaim names the closest ids."""
        if not isinstance(claim_id, str) or not claim_id.strip():
            raise ValueError(f"claim_id must be a claim id such as 'L1.svd.eckart_young', got {claim_id!r}")
        wanted = claim_id.strip()
        by_id = {claim.id: claim for claim in self.claims}
        if wanted in by_id:
            return by_id[wanted]
        if wanted in self.records:
            return by_id[self.records[wanted]["id"]]
        raise UnknownClaim(wanted, close_matches(wanted, list(by_id)), len(by_id))

    def select(self, lessons: Iterable[str] = (), verdicts: Iterable[str] = (), markers: Iterable[str] = (),
               text: str = "") -> list[ClaimView]:
        """Claims matching every filter given (each filter: any of its values); text: case-insensitive, in the
        id, statement, tightest check, message or a case's message. Unknown values raise UnknownFilter."""
        lessons, verdicts, markers = (_values(name, given) for name, given in
                                      (("lesson", lessons), ("verdict", verdicts), ("marker", markers)))
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        folders = {self._folder(name) for name in lessons}
        verdicts = {normal_verdict(name) for name in verdicts}
        known_markers = {m for evidence in self.context.claims.values() for m in evidence.markers}
        for marker in markers:
            if marker not in known_markers:
                raise UnknownFilter(f"no claim is marked {marker!r}; markers: {', '.join(sorted(known_markers))}")
        needle = text.strip().lower()
        return [claim for lesson in self.lessons for claim in lesson.claims
                if (not folders or lesson.folder in folders) and (not verdicts or claim.verdict in verdicts)
                and (not markers or set(markers) & set(self.evidence(claim).markers))
                and (not needle or needle in _searchable(claim))]

    def _folder(self, name: str) -> str:
        """A lesson named by folder ('l1_linalg') or by its short name ('L1'), case-insensitively."""
        short = {str(r["lesson"]).lower(): r["lesson_folder"] for r in self.records.values() if r.get("lesson")}
        folders = {lesson.folder.lower(): lesson.folder for lesson in self.lessons}
        found = folders.get(name.lower()) or short.get(name.lower())
        if found is None:
            raise UnknownFilter(f"no lesson {name!r} has verdicts; lessons: {', '.join(folders.values())}")
        return found


def _values(name: str, given: Iterable[str]) -> list[str]:
    values = [given] if isinstance(given, str) else list(given)
    if not all(isinstance(value, str) and value.strip() for value in values):
        raise UnknownFilter(f"each {name} must be a non-empty string, got {values!r}")
    return [value.strip() for value in values]


def normal_verdict(name: str) -> str:
    """'not-run', 'Not_Run' and 'not run' all name the verdict 'not run'; anything else is an UnknownFilter."""
    verdict = " ".join(name.lower().replace("-", " ").replace("_", " ").split())
    if verdict not in VERDICTS:
        raise UnknownFilter(f"no verdict {name!r}; verdicts: {', '.join(VERDICTS)}")
    return verdict


def _searchable(claim: ClaimView) -> str:
    parts = [claim.id, claim.statement, claim.summary, claim.message, *(run.message for run in claim.runs)]
    return "\n".join(parts).lower()


def close_matches(wanted: str, ids: list[str], n: int = CLOSE_MATCHES) -> list[str]:
    """Ids that contain `wanted` (case-insensitively), then ids that are spelled alike, at most `n`."""
    lower = wanted.lower()
    containing = [claim_id for claim_id in ids if lower in claim_id.lower()]
    alike = difflib.get_close_matches(lower, [claim_id.lower() for claim_id in ids], n=n, cutoff=0.6)
    by_lower = {claim_id.lower(): claim_id for claim_id in ids}
    return list(dict.fromkeys(containing + [by_lower[name] for name in alike]))[:n]


def load_catalogue(reports_dir: Path | None = None, root: Path | None = None) -> Catalogue:
    """Every claim with its verdict and evidence from `reports_dir` (results/, history.jsonl, runs.jsonl);
    `root` holds specs/ (thresholds' reasons, spec lines). Empty when no run has left verdicts."""
    reports_dir, root = Path(reports_dir or paths.REPORTS_DIR), Path(root or paths.ROOT)
    if not root.is_dir():
        raise FileNotFoundError(f"root {root} is not a folder (it should hold specs/)")
    records = results.load(reports_dir / paths.RESULTS_DIR.name)
    history_file = reports_dir / paths.HISTORY_FILE.name
    renamed = renames.load(root)
    lessons = build(records, root, load_history(history_file, renamed))
    context = build_context(lessons, records, root, read_points(history_file, renamed),
                            results.load_runs(reports_dir / paths.RUNS_FILE.name))
    return Catalogue(lessons, records, context, root)
