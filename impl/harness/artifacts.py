"""Artifacts a spec needs, brought up to date through DVC and recorded with their hash.

`pytest` alone on a fresh clone must work: `require` runs `dvc repro <stage>` once
per session (serialised across xdist workers by a file lock). Inside `dvc repro`
(the `verify` stage) DVC already built the upstream outputs and holds the repo
lock, so there it only checks that the file exists.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from filelock import FileLock

from impl import paths
from impl.harness import provenance

_UP_TO_DATE: set[str] = set()
LOCK_RETRY_S = 120  # another DVC command (a user's `dvc repro`, a second pytest) may hold the repo lock


class ArtifactError(RuntimeError):
    """An artifact could not be produced; the message carries DVC's output."""


def inside_dvc_stage() -> bool:
    return bool(os.environ.get("DVC_STAGE"))


def reproduce(stage: str) -> None:
    """`dvc repro <stage>` (and its upstream stages), once per process."""
    if stage in _UP_TO_DATE or inside_dvc_stage():
        return
    lock = FileLock(str(paths.ROOT / ".dvc" / "tmp" / "claims-repro.lock"))
    (paths.ROOT / ".dvc" / "tmp").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    deadline = time.monotonic() + LOCK_RETRY_S
    while True:
        with lock:
            done = subprocess.run(
                [sys.executable, "-m", "dvc", "repro", stage],
                cwd=paths.ROOT, capture_output=True, text=True, env=env,
            )
        busy = "unable to acquire lock" in (done.stdout + done.stderr).lower()
        if done.returncode == 0 or not busy or time.monotonic() > deadline:
            break
        time.sleep(2)
    if done.returncode != 0:
        raise ArtifactError(
            f"`dvc repro {stage}` failed (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    _UP_TO_DATE.add(stage)


def require(stage: str, relpath: str, claim=None) -> Path:
    """Bring `stage` up to date, check its output `relpath` exists, record its dvc.lock md5."""
    reproduce(stage)
    path = paths.ROOT / relpath
    if not path.exists():
        raise ArtifactError(f"stage {stage!r} did not produce {relpath} (looked at {path})")
    if claim is not None:
        claim.use_artifact(relpath, provenance.dvc_lock_hashes().get(relpath))
    return path
