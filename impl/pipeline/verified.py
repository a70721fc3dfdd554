"""Which lessons' verdicts are fresh: a marker per lesson naming the exact inputs they were judged on.

A lesson's verdicts are fresh when a complete run of its specs (every claim of `specs/<lesson>`,
no `-k`/`-m`/deselection, no seed sweep) finished against the files its `verify` stage
lists as deps, and none of them has changed since. Such a run, by `dvc repro` or by a plain
`pytest`, leaves `reports/verified/<lesson>.json`: the md5 of every dep file and the values of
its params, measured when the run started (checked again at its end, so an edit made during the
run leaves no marker).

The marker is the `verify` stage's DVC output. Its content depends only on the deps, so
the lock entry is the same on every machine and describes the code; the verdicts themselves
(`reports/results/<lesson>.json`) differ by machine and stay uncommitted.

`python -m impl.pipeline.verified --commit` (run by `make report` before `dvc repro`) records in
dvc.lock the verify stages of the lessons a plain `pytest` run left fresh, so `dvc repro` reuses
those verdicts instead of running the specs again.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from impl import paths
from impl.atomic import atomic_write_text
from impl.digests import file_md5
from impl.pipeline import stages

SKIPPED_PARTS = ("__pycache__",)  # as .dvcignore: DVC does not hash them either
SKIPPED_SUFFIXES = (".pyc",)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file()
                  and not any(part in SKIPPED_PARTS for part in p.parts) and p.suffix not in SKIPPED_SUFFIXES)


def _param_values(file: Path, keys: tuple[str, ...]) -> Any:
    from impl.pipeline import params

    data = params.load_yaml(file) if file.is_file() else None
    if data is None or not keys:
        return data
    return {key: data.get(key) for key in keys}


def _stage_outputs(root: Path) -> set[str]:
    return {out for stage in stages.all_stages(root) for out in stage.outs}


def deps_digest(stage: stages.Stage, root: Path | None = None, *, sources_only: bool = False) -> dict[str, Any]:
    """The stage's inputs as measured now: {"deps": {file: md5}, "params": {file: values}}; a missing
    dep reads as None (so a run against a missing file is never taken as fresh). `sources_only` leaves
    out deps that another stage produces: a run that starts on a fresh clone builds them as it goes."""
    root = Path(root or paths.ROOT)
    produced = _stage_outputs(root) if sources_only else set()
    files: dict[str, str | None] = {}
    for dep in stage.deps:
        if dep in produced:
            continue
        path = root / dep
        if not path.exists():
            files[dep] = None
            continue
        for file in _files(path):
            files[file.relative_to(root).as_posix()] = file_md5(file)
    values = {file: _param_values(root / file, keys) for file, keys in sorted(stage.params.items())}
    return {"deps": dict(sorted(files.items())), "params": values}


def lesson_digest(lesson: str, root: Path | None = None, *, sources_only: bool = False) -> dict[str, Any]:
    """`deps_digest` of the lesson's verify stage."""
    return deps_digest(stages.verify_stage(lesson, root), root, sources_only=sources_only)


def marker_file(lesson: str, reports_dir: Path | None = None) -> Path:
    return Path(reports_dir or paths.REPORTS_DIR) / "verified" / f"{lesson}.json"


def write_marker(lesson: str, digest: dict[str, Any], reports_dir: Path | None = None) -> Path:
    """Leave the marker of a complete, finished run whose inputs were `digest`."""
    if not isinstance(digest, dict) or set(digest) != {"deps", "params"}:
        raise ValueError(f"digest must be a deps_digest() mapping with 'deps' and 'params', got {digest!r:.80}")
    if any(md5 is None for md5 in digest["deps"].values()):
        missing = sorted(dep for dep, md5 in digest["deps"].items() if md5 is None)
        raise ValueError(f"{lesson}: the run had missing deps {missing}; its verdicts are not fresh")
    path = marker_file(lesson, reports_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"lesson": lesson, **digest}, indent=1, sort_keys=True) + "\n")
    return path


def forget(lesson: str, reports_dir: Path | None = None) -> None:
    """Drop the marker: the lesson's verdicts are about to change."""
    marker_file(lesson, reports_dir).unlink(missing_ok=True)


def is_fresh(lesson: str, root: Path | None = None, reports_dir: Path | None = None) -> bool:
    """A marker exists and names exactly the inputs the lesson's verify stage has now."""
    path = marker_file(lesson, reports_dir)
    if not path.is_file():
        return False
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return recorded == {"lesson": lesson, **lesson_digest(lesson, root)}


def fresh_lessons(root: Path | None = None, reports_dir: Path | None = None) -> list[str]:
    """Lessons whose verdicts are fresh, in folder order."""
    lessons = [s.verified_lesson for s in stages.all_stages(root) if s.verified_lesson is not None]
    return sorted(lesson for lesson in lessons if is_fresh(lesson, root, reports_dir))


def commit_fresh(root: Path | None = None) -> list[str]:
    """`dvc commit` the verify stages of fresh lessons (their command in effect ran against these deps)."""
    fresh = fresh_lessons(root)
    if fresh:
        addresses = [stages.verify_stage(lesson, root).address for lesson in fresh]
        done = subprocess.run([sys.executable, "-m", "dvc", "commit", "--force", "--quiet", *addresses],
                              cwd=Path(root or paths.ROOT), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"`dvc commit {' '.join(addresses)}` failed (exit {done.returncode}):\n"
                               f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return fresh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", action="store_true", help="record fresh lessons' verify stages in dvc.lock")
    args = parser.parse_args(argv)
    fresh = commit_fresh() if args.commit else fresh_lessons()
    print(f"fresh verdicts ({'recorded in dvc.lock' if args.commit else 'not recorded'}): "
          f"{', '.join(fresh) if fresh else 'none'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
