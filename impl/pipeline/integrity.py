"""Stage outputs checked against the md5 that dvc.lock records before anything uses them.

DVC 3.67 trusts its cache: a cache file whose bytes changed after it was written (a flipped bit, a
hand edit, a bad disk) is served as it is. Measured on a two-line stage (tests/reliability): with the
object's bytes changed, `dvc checkout` restores the damaged bytes and exits 0, and `dvc repro` of a
stage whose output is missing re-runs the stage but then links the workspace to the damaged cache
object it already holds, so the output is wrong again; `dvc status` says "up to date" throughout.

So `artifacts.require` rehashes an output against dvc.lock after DVC brought it up to date
(`mismatches`); on a mismatch it discards the damaged cache objects -- only objects whose bytes do not
hash to their own name, which are wrong for every checkout that shares the cache -- and the workspace
copy (`discard`), then lets DVC rebuild the stage, and refuses the artifact if it is still wrong.
A directory output is checked file by file against its manifest (the `.dir` object, itself checked).

`python -m impl.pipeline.integrity` checks every output of every dvc.lock in the workspace and every
cache object they name, and prints what is wrong (`--discard` drops the damaged copies, so the next
`dvc repro` rebuilds them).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from impl import paths
from impl.checks import as_str

BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class Mismatch:
    """One file whose bytes do not hash to what DVC recorded for it."""

    path: Path          # the workspace file, or the cache object
    expected: str
    actual: str | None  # None: missing

    def __str__(self) -> str:
        found = "missing" if self.actual is None else f"md5 {self.actual}"
        return f"{self.path}: {found}, dvc.lock/cache name says {self.expected}"


def cache_dir(root: Path | None = None) -> Path:
    """The DVC cache folder of the project at `root` (as .dvc/config and config.local set it)."""
    from dvc.repo import Repo

    root = Path(root or paths.ROOT)
    with Repo(str(root)) as repo:
        return Path(repo.cache.local_cache_dir)  # cache.local.path is its files/md5 subfolder


def object_path(cache: Path, md5: str) -> Path:
    """Where DVC 3 keeps the object named `md5` ("<hex>" or "<hex>.dir")."""
    md5 = as_str(md5, "md5")
    if len(md5.removesuffix(".dir")) != 32:
        raise ValueError(f"md5 must be 32 hex digits (plus '.dir' for a folder), got {md5!r}")
    return Path(cache) / "files" / "md5" / md5[:2] / md5[2:]


def _md5_or_none(path: Path) -> str | None:
    """The file's MD5 (as impl.digests.file_md5, inlined: every stage imports impl/pipeline, and a dep on
    impl/digests.py would be one more file in all of their deps), or None when it is not a file."""
    if not path.is_file():
        return None
    digest = hashlib.md5()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def mismatches(relpath: str, root: Path | None = None, cache: Path | None = None) -> list[Mismatch]:
    """Files of the output `relpath` (workspace copy and cache objects) whose bytes differ from what
    dvc.lock records; empty when all agree or when no dvc.lock records the output yet."""
    from impl.pipeline import provenance

    relpath = as_str(relpath, "relpath")
    root = Path(root or paths.ROOT)
    expected = provenance.dvc_lock_hashes(root).get(relpath)
    if expected is None:
        return []
    target = root / relpath
    if not expected.endswith(".dir"):
        actual = _md5_or_none(target)
        return [] if actual == expected else [Mismatch(target, expected, actual)]
    cache = Path(cache or cache_dir(root))
    manifest = object_path(cache, expected)
    actual = _md5_or_none(manifest)
    if actual != expected.removesuffix(".dir"):
        return [Mismatch(manifest, expected.removesuffix(".dir"), actual)]
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    found = []
    for entry in entries:
        file = target / entry["relpath"]
        actual = _md5_or_none(file)
        if actual != entry["md5"]:
            found.append(Mismatch(file, entry["md5"], actual))
    return found


def damaged_objects(md5s: list[str], cache: Path) -> list[Mismatch]:
    """Cache objects among `md5s` whose bytes do not hash to their own name (absent ones are not damaged)."""
    found = []
    for md5 in md5s:
        path = object_path(cache, md5)
        actual = _md5_or_none(path)
        if actual is not None and actual != md5.removesuffix(".dir"):
            found.append(Mismatch(path, md5.removesuffix(".dir"), actual))
    return found


def discard(relpath: str, found: list[Mismatch], root: Path | None = None, cache: Path | None = None) -> list[Path]:
    """Remove what `mismatches(relpath)` found wrong so DVC rebuilds it: every damaged cache object of the
    output (checked by rehashing it, never by trust) and the workspace output. Returns what was removed."""
    relpath = as_str(relpath, "relpath")
    if not isinstance(found, list) or not all(isinstance(m, Mismatch) for m in found):
        raise TypeError("found must be the list mismatches() returned")
    root = Path(root or paths.ROOT)
    cache = Path(cache or cache_dir(root))
    md5s = [m.expected + (".dir" if m.path.name.endswith(".dir") else "") for m in found]
    removed = []
    for damaged in damaged_objects(md5s, cache):
        damaged.path.unlink()
        removed.append(damaged.path)
    target = root / relpath
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
        removed.append(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
        removed.append(target)
    return removed


def check_all(root: Path | None = None) -> dict[str, list[Mismatch]]:
    """`mismatches` of every output that a dvc.lock records and the workspace holds, by output path
    (outputs that agree are left out)."""
    from impl.pipeline import provenance

    root = Path(root or paths.ROOT)
    cache = cache_dir(root)
    found = {}
    for relpath in sorted(provenance.dvc_lock_hashes(root)):
        if (root / relpath).exists():
            wrong = mismatches(relpath, root, cache)
            if wrong:
                found[relpath] = wrong
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--discard", action="store_true",
                        help="remove damaged cache objects and the outputs that disagree, for `dvc repro` to rebuild")
    args = parser.parse_args(argv)
    found = check_all()
    for relpath, wrong in found.items():
        for mismatch in wrong:
            print(f"integrity: {relpath}: {mismatch}", file=sys.stderr)
        if args.discard:
            for path in discard(relpath, wrong):
                print(f"integrity: removed {path}", file=sys.stderr)
    if found and args.discard:
        print("integrity: run `dvc repro` to rebuild what was removed", file=sys.stderr)
    print(f"integrity: {len(found)} output(s) disagree with dvc.lock", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
