"""Artifacts a spec or a loader needs, brought up to date through DVC and recorded with their hash.

`pytest` alone on a fresh clone must work: `require(relpath)` finds the stage that declares
`relpath` as an output and runs `dvc repro` on it once per process (serialised across xdist
workers by a file lock), then rehashes it against dvc.lock (`integrity`: DVC serves a damaged cache
file as it is); a damaged copy is discarded and rebuilt once, and refused if it is still wrong. Inside `dvc repro` (a `verify` stage) DVC already built the upstream
outputs and holds the repo lock, so there it only checks that the file exists.

While the `dvc repro` subprocess works, this process only waits in `subprocess.run`: measured
with NumPy, torch, JAX and TF pools all warm, it uses 0.06-0.08 CPU-seconds over a 3 s wait,
so idle thread pools do not compete with the stage.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from filelock import FileLock

from impl import paths
from impl.pipeline import integrity, provenance, stages

_UP_TO_DATE: set[str] = set()
_INTACT: dict[str, tuple] = {}  # relpath -> the file signatures last found to match dvc.lock
LOCK_RETRY_S = 600  # another DVC command (a user's `dvc repro`, another xdist worker's stage) may hold the repo lock


class ArtifactError(RuntimeError):
    """An artifact could not be produced; the message carries DVC's output."""


def inside_dvc_stage() -> bool:
    return bool(os.environ.get("DVC_STAGE"))


def repo_lock() -> FileLock:
    """The lock this suite's DVC commands take on the checkout: held while a `dvc repro` builds an artifact, so
    another xdist worker that reads the pipeline's state (`dvc status`, the outputs) waits for a whole stage."""
    (paths.ROOT / ".dvc" / "tmp").mkdir(parents=True, exist_ok=True)
    return FileLock(str(paths.ROOT / ".dvc" / "tmp" / "claims-repro.lock"))


def reproduce(address: str) -> None:
    """`dvc repro <address>` (and its upstream stages), once per process."""
    if address in _UP_TO_DATE or inside_dvc_stage():
        return
    lock = repo_lock()
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    deadline = time.monotonic() + LOCK_RETRY_S
    while True:
        with lock:
            done = subprocess.run(
                [sys.executable, "-m", "dvc", "repro", address],
                cwd=paths.ROOT, capture_output=True, text=True, env=env,
            )
        busy = "unable to acquire lock" in (done.stdout + done.stderr).lower()
        if done.returncode == 0 or not busy or time.monotonic() > deadline:
            break
        time.sleep(2)
    if done.returncode != 0:
        raise ArtifactError(
            f"`dvc repro {address}` failed (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    _UP_TO_DATE.add(address)


def _signature(path: Path) -> tuple:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return tuple((str(f), f.stat().st_ino, f.stat().st_size, f.stat().st_mtime_ns) for f in files)


def _ensure_intact(relpath: str, address: str) -> None:
    """The output's bytes are what dvc.lock records; a damaged copy is discarded and its stage rebuilt once.
    Checked once per process while the files' inode, size and mtime stay the same."""
    path = paths.ROOT / relpath
    if _INTACT.get(relpath) == _signature(path):
        return
    wrong = integrity.mismatches(relpath)
    if wrong:
        listed = "; ".join(map(str, wrong[:5]))
        if inside_dvc_stage():
            raise ArtifactError(f"{relpath} differs from what dvc.lock records ({listed}); a damaged DVC cache file "
                                f"was checked out. Run `python -m impl.pipeline.integrity --discard`, then `dvc repro`")
        print(f"artifacts: {relpath} differs from dvc.lock ({listed}); discarding the damaged copies and "
              f"rebuilding {address}", file=sys.stderr)
        integrity.discard(relpath, wrong)
        _UP_TO_DATE.discard(address)
        reproduce(address)
        still = integrity.mismatches(relpath)
        if still:
            raise ArtifactError(f"{relpath} still differs from dvc.lock after a rebuild of {address}: "
                                f"{'; '.join(map(str, still[:5]))}")
    _INTACT[relpath] = _signature(path)


def require(relpath: str) -> Path:
    """Bring the stage producing `relpath` up to date, check the file exists, record its dvc.lock md5."""
    stage = stages.producer(relpath)
    reproduce(stage.address)
    path = paths.ROOT / relpath
    if not path.exists():
        raise ArtifactError(f"stage {stage.address!r} did not produce {relpath} (looked at {path})")
    _ensure_intact(relpath, stage.address)
    provenance.record_artifact(relpath, provenance.dvc_lock_hashes().get(relpath))
    return path

