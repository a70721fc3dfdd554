"""Every filesystem location the project uses, in one place.

Paths are derived from this file's location, never from the current working
directory, so `pytest`, `dvc repro` and `python -m ...` behave the same from
any folder.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAMS_FILE = ROOT / "params.yaml"
DVC_LOCK = ROOT / "dvc.lock"
SPECS_DIR = ROOT / "specs"

DATA_DIR = ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PREPARED_DIR = DATA_DIR / "prepared"
MODELS_DIR = DATA_DIR / "models"

REPORTS_DIR = ROOT / "reports"
RESULTS_FILE = REPORTS_DIR / "results.json"

MIRROR_ENV = "CLAIMS_DATA_MIRROR"


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
