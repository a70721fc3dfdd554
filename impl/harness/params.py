"""Read `params.yaml`: the profile switch, per-lesson knobs and claim thresholds."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from impl import paths

PROFILES = ("quick", "full")


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"params file not found: {path}")
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: top level must be a mapping")
    return data


def load(path: Path | None = None) -> dict[str, Any]:
    """The whole params file as a dict (cached; treat as read-only)."""
    return _load(Path(path or paths.PARAMS_FILE))


def profile(path: Path | None = None) -> str:
    """The active profile, `quick` or `full`, from `profile:` in params.yaml."""
    value = load(path).get("profile", "quick")
    if value not in PROFILES:
        raise ValueError(f"params.yaml: profile must be one of {PROFILES}, got {value!r}")
    return value


def resolve_profile(value: Any, active: str) -> Any:
    """Pick the active profile's entry from `{quick: ..., full: ...}` mappings, recursively."""
    if isinstance(value, dict):
        if value and set(value) <= set(PROFILES):
            if active not in value:
                raise KeyError(f"profile {active!r} missing in {sorted(value)}")
            return resolve_profile(value[active], active)
        return {key: resolve_profile(item, active) for key, item in value.items()}
    return value


def knobs(section: str, path: Path | None = None) -> dict[str, Any]:
    """A lesson's knobs (e.g. `l1_linalg`) with profile-specific values resolved."""
    data = load(path)
    if section not in data:
        raise KeyError(f"params.yaml has no section {section!r}")
    return resolve_profile(data[section], profile(path))


def thresholds(claim_id: str, path: Path | None = None) -> dict[str, Any]:
    """The thresholds of one claim under `claims:`; empty if it has none."""
    claims = load(path).get("claims") or {}
    return resolve_profile(dict(claims.get(claim_id) or {}), profile(path))


def default_seed(path: Path | None = None) -> int:
    return int(load(path).get("seed", 0))
