"""Where a verdict came from: git commit, package versions, DVC artifact hashes."""
from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path

import yaml

from impl import paths

# The libraries whose versions can change a verdict. Missing ones are simply omitted.
TRACKED_PACKAGES = (
    "numpy", "scipy", "scikit-learn", "pandas", "statsmodels", "jax", "jaxlib", "torch",
    "tensorflow", "tf-keras", "tensorflow-probability", "tensorflow-model-optimization",
    "ai-edge-litert", "pymc", "arviz", "optuna", "onnx", "onnxruntime", "torchao",
    "pyspark", "dvc", "hypothesis", "pytest",
)


@functools.lru_cache(maxsize=1)
def git_state() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=paths.ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        # dvc.lock is pipeline state that `dvc repro` rewrites while it runs; it is not code.
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!dvc.lock"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def dvc_lock_hashes(lock_file: Path | None = None) -> dict[str, str]:
    """Map every output path in dvc.lock to its recorded md5 (empty if no lock yet)."""
    lock_file = Path(lock_file or paths.DVC_LOCK)
    if not lock_file.is_file():
        return {}
    with lock_file.open(encoding="utf-8") as fh:
        lock = yaml.safe_load(fh) or {}
    hashes = {}
    for stage in (lock.get("stages") or {}).values():
        for out in stage.get("outs") or []:
            if "md5" in out:
                hashes[out["path"]] = out["md5"]
    return hashes
