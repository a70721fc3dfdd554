"""Artifacts a spec or a loader needs, brought up to date through DVC and recorded with their hash.

`pytest` alone on a fresh clone must work: `require(relpath)` finds the stage that declares
`relpath` as an output and brings it and its upstream stages up to date, one `dvc repro --single-item`
per stage, once per process; then rehashes it against dvc.lock (`integrity`: DVC serves a damaged cache
file as it is); a damaged copy is discarded and rebuilt once, and refused if it is still wrong. Inside
`dvc repro` (a `verify` stage) DVC already built the upstream outputs, so there it only checks that the
file exists.

Stages build side by side. DVC holds its repo lock only while it reads the pipeline and records a
stage, and releases it while the stage's command runs (`unlocked_repo` in dvc.stage.run), so two
`dvc --wait-for-lock repro` of different stages overlap; what this module adds is one file lock per
stage, so two xdist workers that need the same stage build it once (the second then finds it up to
date) instead of colliding on DVC's read/write locks. Every build also holds a shared lock that
`builds_settled()` takes exclusively: a check that reads every output or runs `dvc status` waits
until no stage is half-built.

While the `dvc repro` subprocess works, this process only waits in `subprocess.run`: measured
with NumPy, torch, JAX and TF pools all warm, it uses 0.06-0.08 CPU-seconds over a 3 s wait,
so idle thread pools do not compete with the stage.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from filelock import FileLock

from impl import paths
from impl.pipeline import integrity, provenance, stages

_UP_TO_DATE: set[str] = set()  # stage addresses this process brought up to date
_INTACT: dict[str, tuple] = {}  # relpath -> the file signatures last found to match dvc.lock
BUSY_RETRY_S = 600  # a user's own DVC command may hold a stage's deps or outs (DVC's read/write lock)
_BUSY = ("is busy, it is being blocked by", "unable to acquire lock")


class ArtifactError(RuntimeError):
    """An artifact could not be produced; the message carries DVC's output."""


def inside_dvc_stage() -> bool:
    return bool(os.environ.get("DVC_STAGE"))


def _lock_dir() -> Path:
    folder = paths.ROOT / ".dvc" / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stage_lock(address: str) -> FileLock:
    """The lock this suite holds while it brings one stage up to date: two processes never build one stage at once."""
    return FileLock(str(_lock_dir() / f"claims-stage-{re.sub(r'[^A-Za-z0-9_.-]+', '-', address)}.lock"))


@contextlib.contextmanager
def _builds_lock(mode: int) -> Iterator[None]:
    with open(_lock_dir() / "claims-builds.lock", "a+") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def builds_settled() -> contextlib.AbstractContextManager[None]:
    """Held while no stage this suite builds (in any process on the checkout) is half-way: waits for the
    running builds to finish and keeps new ones from starting until the block ends."""
    return _builds_lock(fcntl.LOCK_EX)


def _dvc(*args: str) -> subprocess.CompletedProcess:
    """One DVC command on the checkout, retried while a user's own DVC command holds what it needs."""
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    deadline, pause = time.monotonic() + BUSY_RETRY_S, 0.2
    while True:
        done = subprocess.run([sys.executable, "-m", "dvc", "--wait-for-lock", *args],
                              cwd=paths.ROOT, capture_output=True, text=True, env=env)
        busy = any(sign in (done.stdout + done.stderr).lower() for sign in _BUSY)
        if done.returncode == 0 or not busy or time.monotonic() > deadline:
            return done
        time.sleep(pause)
        pause = min(2 * pause, 5.0)


def _up_to_date(address: str) -> bool:
    """`dvc status <address>` finds nothing to do. (Not `dvc repro` of an unchanged stage: that takes DVC's
    write lock on its outputs, which collides with every stage reading them while it runs.)"""
    done = _dvc("status", "--json", address)
    try:
        return done.returncode == 0 and json.loads(done.stdout or "{}") == {}
    except json.JSONDecodeError:
        return False


def _repro_one(address: str) -> None:
    """Bring one stage up to date; its upstream stages are up to date already."""
    if _up_to_date(address):
        return
    with _builds_lock(fcntl.LOCK_SH):
        done = _dvc("repro", "--single-item", address)
    if done.returncode != 0:
        raise ArtifactError(
            f"`dvc repro {address}` failed (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )


def reproduce(address: str) -> None:
    """`dvc repro <address>` (and its upstream stages), once per process, a stage at a time."""
    if address in _UP_TO_DATE or inside_dvc_stage():
        return
    for stage in stages.upstream(address):
        if stage.address not in _UP_TO_DATE:
            with stage_lock(stage.address):
                _repro_one(stage.address)
            _UP_TO_DATE.add(stage.address)


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

