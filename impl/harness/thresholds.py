"""A lesson's thresholds: `specs/<lesson>/claims.yaml`, one mapping per claim id.

Each value says in a comment why it is that number; values written as
`{quick: ..., full: ...}` resolve to the active profile.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from impl.harness import ids
from impl.pipeline import params

FILE_NAME = "claims.yaml"


def claims_file(folder: str, root: Path) -> Path:
    return Path(root) / "specs" / folder / FILE_NAME


def lesson_thresholds(folder: str, root: Path) -> dict[str, dict[str, Any]]:
    """Every claim id -> its thresholds (as written) of one lesson; empty if it has no file."""
    path = claims_file(folder, root)
    if not path.is_file():
        return {}
    data = params.load_yaml(path)
    code = ids.lesson_of(folder)
    wrong = [key for key in data if not str(key).startswith(code + ".")]
    if wrong:
        raise ValueError(f"{path}: claim ids of lesson {code} start with '{code}.', got {wrong}")
    return data


def for_claim(claim_id: str, folder: str, root: Path, profile: str) -> dict[str, Any]:
    """One claim's thresholds resolved for `profile` (empty when it has none)."""
    return params.resolve_profile(dict(lesson_thresholds(folder, root).get(claim_id) or {}), profile)
