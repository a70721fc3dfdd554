"""Every filesystem location the project uses, in one place.

Paths are derived from this file's location, never from the current working
directory, so `pytest`, `dvc repro` and `python -m ...` behave the same from
any folder.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAMS_FILE = ROOT / "params.yaml"    # the shared switches: profile, seed
DVC_FILE = ROOT / "dvc.yaml"          # the shared `report` stage; each lesson has impl/<lesson>/dvc.yaml
REQUIREMENTS_LOCK = ROOT / "requirements.lock"
IMPL_DIR = ROOT / "impl"
SPECS_DIR = ROOT / "specs"

DATA_DIR = ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PREPARED_DIR = DATA_DIR / "prepared"
MODELS_DIR = DATA_DIR / "models"     # content-addressed stage outputs, one folder per lesson
METRICS_DIR = DATA_DIR / "metrics"   # stage summaries: deterministic figures only (committed), one folder per lesson
TIMINGS_DIR = DATA_DIR / "timings"   # stage wall times and the CPU kind that ran them (never committed)

REPORTS_DIR = ROOT / "reports"
RESULTS_DIR = REPORTS_DIR / "results"        # one <lesson>.json of verdicts per lesson folder
HISTORY_FILE = REPORTS_DIR / "history.jsonl"  # append-only: every run's verdicts
RUNS_FILE = REPORTS_DIR / "runs.jsonl"        # append-only: one line per run (when, how long, what, where)
LOGS_DIR = REPORTS_DIR / "logs"              # pytest logs and JUnit XML of every run

MIRROR_ENV = "CLAIMS_DATA_MIRROR"


def lesson_models(lesson: str) -> Path:
    """Where a lesson's stages write their content outputs (models, fitted arrays)."""
    return MODELS_DIR / lesson


def lesson_metrics(lesson: str) -> Path:
    """Where a lesson's stages write their summaries (headline figures; no timings)."""
    return METRICS_DIR / lesson


def lesson_timings(lesson: str) -> Path:
    """Where a lesson's stages write their wall times and the CPU kind (a per-machine file, not committed)."""
    return TIMINGS_DIR / lesson


def relative(path: Path) -> str:
    """`path` relative to the project root, POSIX-style (how DVC files name it)."""
    return Path(path).resolve().relative_to(ROOT).as_posix()


def data_mirror() -> Path | None:
    """The offline mirror folder named by `CLAIMS_DATA_MIRROR`, or None when unset.

    A relative value is taken relative to the project root (CI sets
    `../shared/data`), so it does not depend on the working directory.
    """
    value = os.environ.get(MIRROR_ENV, "").strip()
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else (ROOT / path).resolve()
