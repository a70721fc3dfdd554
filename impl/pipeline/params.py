"""Knobs: the shared switches in `params.yaml`, each lesson's own in `impl/<lesson>/params.yaml`.

`params.yaml` holds only what every lesson shares (the `profile` switch and the default
`seed`). A lesson's stage knobs live beside its code, so adding a lesson edits no shared
file. Knobs written as `{quick: ..., full: ...}` resolve to the active profile.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from impl import paths

PROFILES = ("quick", "full")
KNOBS_FILE = "params.yaml"  # impl/<lesson>/params.yaml


@functools.lru_cache(maxsize=32)
def _load(path: Path, mtime_ns: int) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: top level must be a mapping")
    return data


def load_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping (cached until the file changes; treat it as read-only)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"params file not found: {path}")
    return _load(path, path.stat().st_mtime_ns)


def shared(path: Path | None = None) -> dict[str, Any]:
    """The shared switches (`params.yaml` at the project root)."""
    return load_yaml(Path(path or paths.PARAMS_FILE))


def profile(path: Path | None = None) -> str:
    """The active profile, `quick` or `full`, from `profile:` in params.yaml."""
    value = shared(path).get("profile", "quick")
    if value not in PROFILES:
        raise ValueError(f"params.yaml: profile must be one of {PROFILES}, got {value!r}")
    return value


def default_seed(path: Path | None = None) -> int:
    """The seed statistical claims use unless `--claim-seeds` says otherwise."""
    return int(shared(path).get("seed", 0))


def resolve_profile(value: Any, active: str) -> Any:
    """Pick the active profile's entry from `{quick: ..., full: ...}` mappings, recursively."""
    if isinstance(value, dict):
        if value and set(value) <= set(PROFILES):
            if active not in value:
                raise KeyError(f"profile {active!r} missing in {sorted(value)}")
            return resolve_profile(value[active], active)
        return {key: resolve_profile(item, active) for key, item in value.items()}
    return value


def knobs_file(lesson: str, root: Path | None = None) -> Path:
    """impl/<lesson>/params.yaml."""
    return Path(root or paths.ROOT) / "impl" / lesson / KNOBS_FILE


def knobs(lesson: str, section: str | None = None, *, root: Path | None = None) -> dict[str, Any]:
    """A lesson's knobs (one `section` of them, or all), resolved for the active profile."""
    root = Path(root or paths.ROOT)
    data = load_yaml(knobs_file(lesson, root))
    if section is not None:
        if section not in data:
            raise KeyError(f"{knobs_file(lesson, root)} has no section {section!r} (has {sorted(data)})")
        data = data[section]
    return resolve_profile(data, profile(root / "params.yaml"))


def raw_knobs(lesson: str, root: Path | None = None) -> dict[str, Any]:
    """A lesson's knobs as written, both profiles kept (for cards that state both)."""
    return load_yaml(knobs_file(lesson, root))
