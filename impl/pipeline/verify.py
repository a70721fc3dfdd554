"""A lesson's DVC stage `verify`: run its specs into reports/results/<lesson>.json.

`python -m impl.pipeline.verify <lesson folder>`. Each lesson has its own verify stage, so a
change to one lesson's code re-verifies that lesson only. Its DVC output is the lesson's
freshness marker (impl.pipeline.verified), written only when the run finished against the
inputs it started with.

A refuted claim is a result, not a pipeline failure, so this exits 0 whenever pytest ran to
completion (exit 0 or 1); it fails on usage, internal or collection errors, where no
trustworthy verdicts exist, and when a claim read an artifact the stage does not track
(its verdict could go stale without DVC noticing).
"""
from __future__ import annotations

import argparse
import subprocess
import sys

from impl import paths
from impl.harness.results import read_lesson
from impl.pipeline import stages, verified

COMPLETED = (0, 1)  # all passed / some claims refuted or errored (shown in the report)


def untracked_artifacts(lesson: str, records: dict) -> list[str]:
    """Artifacts the lesson's claims read that its verify stage does not list as deps."""
    try:
        stage = stages.verify_stage(lesson)
    except KeyError as exc:
        return [str(exc)]
    used = {path for record in records.values() for path in record.get("artifacts", {})}
    return sorted(path for path in used if not stage.covers(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lesson", help="a folder under specs/, e.g. l1_linalg")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = parser.parse_args(argv)
    if not (paths.SPECS_DIR / args.lesson).is_dir():
        parser.error(f"lesson must be a folder under specs/, got {args.lesson!r}")
    results = paths.RESULTS_DIR / f"{args.lesson}.json"
    results.unlink(missing_ok=True)  # the whole lesson reruns: no stale merged records
    verified.forget(args.lesson)
    before = verified.lesson_digest(args.lesson)
    paths.LOGS_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"specs/{args.lesson}",
         f"--junitxml={paths.relative(paths.LOGS_DIR)}/{args.lesson}.xml", *args.pytest_args],
        cwd=paths.ROOT,
    )
    if done.returncode not in COMPLETED:
        print(f"verify {args.lesson}: pytest exited {done.returncode}; no trustworthy verdicts", file=sys.stderr)
        return done.returncode
    if not results.is_file():
        print(f"verify {args.lesson}: pytest wrote no {results}", file=sys.stderr)
        return 1
    missing = untracked_artifacts(args.lesson, read_lesson(results))
    if missing:
        print(f"verify {args.lesson}: claims read artifacts the stage does not depend on: {missing}; "
              f"add them to the deps of `verify` in impl/{args.lesson}/dvc.yaml", file=sys.stderr)
        return 1
    if verified.lesson_digest(args.lesson) != before:
        print(f"verify {args.lesson}: its deps changed while the specs ran; run it again", file=sys.stderr)
        return 1
    verified.write_marker(args.lesson, before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
