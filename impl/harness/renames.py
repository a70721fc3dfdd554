"""Claims that changed id: `specs/renamed.yaml` maps each id a claim once had to the id it has now.

A claim's id comes from where its spec lives (`impl.harness.ids`): renaming a spec file or function renames
its claims. The file keeps the old ids, so the verdict history recorded under them reads as the claim's own
(`current`), and an id written elsewhere before the rename (the catalog, CLAIMS.md, names claims as they were
first written) can be looked up. A harness test checks that every old id is gone from the specs and every
new one is a claim.
"""
from __future__ import annotations

import re
from pathlib import Path

from impl.checks import as_path
from impl.pipeline import params

__all__ = ["FILE", "load", "current"]

FILE = "specs/renamed.yaml"
_ID = re.compile(r"^(L\d+|B|D)\.[a-z0-9_]+\.[a-z0-9_]+$")


def load(root: Path) -> dict[str, str]:
    """Old id -> the id its claim has now (chains of renames followed); empty when nothing was renamed."""
    path = as_path(root, "root") / FILE
    if not path.is_file():
        return {}
    data = params.load_yaml(path)  # refuses a file whose top level is not a mapping
    for old, new in data.items():
        for name in (old, new):
            if not isinstance(name, str) or not _ID.match(name):
                raise ValueError(f"{path}: {name!r} is not a claim id (<lesson>.<topic>.<slug>)")
        if old.split(".")[0] != new.split(".")[0]:
            raise ValueError(f"{path}: {old} -> {new} moves a claim to another lesson; a rename keeps its lesson")
    resolved = {}
    for old in data:
        seen, new = {old}, data[old]
        while new in data:
            if new in seen:
                raise ValueError(f"{path}: the renames of {old} run in a circle through {new}")
            seen.add(new)
            new = data[new]
        resolved[old] = new
    return resolved


def current(key: str, renames: dict[str, str]) -> str:
    """A record key (a claim id, or `id[case]`) under the id its claim has now."""
    if not isinstance(key, str):
        raise TypeError(f"key must be a str, got {type(key).__name__}")
    if not isinstance(renames, dict):
        raise TypeError(f"renames must be a dict from `load`, got {type(renames).__name__}")
    claim, bracket, case = key.partition("[")
    return renames.get(claim, claim) + bracket + case
