"""Where a verdict came from: git commit, package versions, DVC artifact hashes, seeds used.

Loaders and stages do not know about claims: they report what they read through
`record_artifact` / `record_seed`, and whoever is listening (the pytest plugin, one
`recording()` per claim) collects it. With nobody listening the calls do nothing.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Iterator

import yaml

from impl import paths


@dataclass
class Recorder:
    """What one claim read: artifact path -> dvc.lock md5 (None if unlocked), seeds in order of use."""

    artifacts: dict[str, str | None] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)


_CURRENT: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("claims_recorder", default=None)


@contextlib.contextmanager
def recording() -> Iterator[Recorder]:
    """Collect every artifact and seed recorded inside the block."""
    recorder = Recorder()
    token = _CURRENT.set(recorder)
    try:
        yield recorder
    finally:
        _CURRENT.reset(token)


def record_artifact(relpath: str, md5: str | None) -> None:
    recorder = _CURRENT.get()
    if recorder is not None:
        recorder.artifacts[relpath] = md5


def record_seed(seed: int) -> None:
    recorder = _CURRENT.get()
    if recorder is not None and int(seed) not in recorder.seeds:
        recorder.seeds.append(int(seed))


@functools.lru_cache(maxsize=1)
def git_state() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=paths.ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        # dvc.lock files and stage metrics are pipeline state that `dvc repro` rewrites while it runs; not code.
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!dvc.lock", ":!**/dvc.lock", ":!data/metrics"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==")


def locked_packages(lock_file: Path | None = None) -> list[str]:
    """Every package pinned in requirements.lock, in file order."""
    lock_file = Path(lock_file or paths.REQUIREMENTS_LOCK)
    if not lock_file.is_file():
        return []
    names = [m.group(1) for line in lock_file.read_text(encoding="utf-8").splitlines() if (m := _PIN.match(line))]
    return list(dict.fromkeys(names))


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Installed version of every package the lock file pins (what a verdict can depend on)."""
    versions = {}
    for name in locked_packages():
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


DVC_LOCK_WAIT_S = 600.0


@contextlib.contextmanager
def dvc_repo_locked(root: Path | None = None) -> Iterator[None]:
    """DVC's own repo lock (`.dvc/tmp/lock`, the zc.lockfile that `dvc.lock.Lock` takes), held for the block.
    DVC rewrites a dvc.lock in place, not atomically, while it holds this lock; it releases the lock while
    a stage's command runs, so a stage (or a `verify` stage's specs) can take it too."""
    import time

    import zc.lockfile

    folder = Path(root or paths.ROOT) / ".dvc" / "tmp"
    if not folder.is_dir():  # no DVC command has run here yet: none is writing
        yield
        return
    deadline = time.monotonic() + DVC_LOCK_WAIT_S
    while True:
        try:
            held = zc.lockfile.LockFile(str(folder / "lock"))
            break
        except zc.lockfile.LockError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"another DVC command held {folder / 'lock'} for over {DVC_LOCK_WAIT_S:.0f} s") from None
            time.sleep(0.05)
    try:
        yield
    finally:
        held.close()


def read_dvc_lock(lock_file: Path, root: Path | None = None) -> dict:
    """A dvc.lock file's content ({} when there is none), read while no DVC command of the project at
    `root` (default: this one) is rewriting it."""
    with dvc_repo_locked(root):
        if not Path(lock_file).is_file():
            return {}
        return yaml.safe_load(Path(lock_file).read_text(encoding="utf-8")) or {}


def dvc_lock_hashes(root: Path | None = None) -> dict[str, str]:
    """Map every output path (relative to the project root) in every dvc.lock to its recorded md5.

    A lock file names outputs relative to its stage's `wdir`, which only dvc.yaml states.
    """
    from impl.pipeline import stages

    root = Path(root or paths.ROOT).resolve()
    wdirs = {(stage.dvcfile, stage.name): stage.wdir for stage in stages.all_stages(root)}
    hashes = {}
    for dvcfile in {dvcfile for dvcfile, _ in wdirs}:
        lock = read_dvc_lock((root / dvcfile).with_name("dvc.lock"), root)
        for name, stage in (lock.get("stages") or {}).items():
            base = (root / wdirs.get((dvcfile, name), Path(dvcfile).parent.as_posix())).resolve()
            for out in stage.get("outs") or []:
                if "md5" in out:
                    hashes[(base / out["path"]).resolve().relative_to(root).as_posix()] = out["md5"]
    return hashes
