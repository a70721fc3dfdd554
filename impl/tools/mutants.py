"""`make mutants LESSON=<lesson> [N=30] [SEED=0]`: how many small bugs in a lesson's methods its specs catch.

cosmic-ray (pinned) enumerates every mutation its operators can make in the lesson's core modules
(`impl/tools/mutants.yaml`); `impl.tools.mutant_report.sample` draws N of them with a fixed seed,
spread over the modules; each is applied by cosmic-ray (`mutate_and_test`) and judged by the
lesson's fast specs, `-m "not slow and not perf and not gpu" -x`, one mutant at a time.

Nothing happens in the user's checkout: cosmic-ray edits files in place, so every run works in a
scratch copy of the tree (tracked and untracked, not ignored, files) under the system temp folder,
removed at the end. Its DVC outputs are checked out there from this checkout's cache as hard links
(read-only, never re-built): specs read the models and prepared data as built from the unmutated code
(`impl.pipeline.artifacts` treats the run as inside a stage), so a mutant of training code counts only
through the specs that call that code directly. The specs run with `--no-claim-results`, and the
copy's `reports/` goes with it, so no verdict or history record is left behind.

The unmutated specs run first (they must pass); each mutant gets 3x that time + 30 s before it counts
as timed out. Output: `reports/mutants/<lesson>.json` and `.md` (the tally, the kill rate over the
mutants not argued equivalent in `specs/<lesson>/equivalent_mutants.yaml`, each survivor's diff).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import cosmic_ray.mutating  # first: importing cosmic_ray.plugins alone hits a circular import in parso
from cosmic_ray.commands.init import init as cosmic_ray_init
from cosmic_ray.testing import run_tests
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import MutationSpec, TestOutcome, WorkerOutcome

from impl import paths
from impl.atomic import atomic_write_json, atomic_write_text
from impl.checks import as_float, as_str
from impl.tools import mutant_report
from impl.tools.mutant_report import Mutant, Result

__all__ = ["CONFIG", "FAST_SPECS", "timeout_for", "test_command", "scratch_tree", "enumerate_mutants",
           "run_mutant", "run", "main"]

CONFIG = Path(__file__).with_name("mutants.yaml")
FAST_SPECS = "not slow and not perf and not gpu"
TIMEOUT_FACTOR, TIMEOUT_SLACK_S = 3.0, 30.0  # a mutant may slow the specs (more iterations) without hanging


def timeout_for(baseline_s: float) -> float:
    """Seconds a mutant's spec run may take before it counts as timed out: 3x the baseline + 30 s."""
    return TIMEOUT_FACTOR * as_float(baseline_s, "baseline_s", low=0.0) + TIMEOUT_SLACK_S


def test_command(lesson: str) -> str:
    """The lesson's fast specs, stopping at the first failure, writing no verdicts."""
    lesson = as_str(lesson, "lesson")
    return shlex.join([sys.executable, "-m", "pytest", f"specs/{lesson}", "-m", FAST_SPECS, "-x", "-q",
                       "--tb=line", "--no-claim-results", "-p", "no:randomly"])


def _dvc(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, DVC_NO_ANALYTICS="1"))


@contextmanager
def scratch_tree(root: Path) -> Iterator[Path]:
    """A throw-away copy of `root`'s working tree with its DVC outputs checked out (hard links), removed after."""
    root = Path(root).resolve()
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=root, capture_output=True, check=True).stdout.decode().split("\0")
    cache = _dvc(["cache", "dir"], root)
    if cache.returncode != 0:
        raise RuntimeError(f"`dvc cache dir` failed in {root}: {cache.stderr.strip()}")
    scratch = Path(tempfile.mkdtemp(prefix="mutants-"))
    try:
        for name in filter(None, listed):
            source = root / name
            if source.is_file():  # a tracked file deleted in the working tree is not copied
                (scratch / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, scratch / name)
        (scratch / ".dvc" / "config.local").write_text(
            "[core]\n    no_scm = true\n"
            f"[cache]\n    dir = {cache.stdout.strip()}\n    type = \"hardlink,copy\"\n")
        _dvc(["checkout"], scratch)  # outputs missing from the cache stay missing: the baseline run says which
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def _inside(scratch: Path) -> Iterator[None]:
    """cwd and environment for spec runs in `scratch` (cosmic-ray runs the command in the current folder)."""
    saved_cwd, saved_env = os.getcwd(), dict(os.environ)
    mirror = os.environ.get(paths.MIRROR_ENV, "").strip()
    if mirror and not Path(mirror).is_absolute():  # relative to the project root: the real one, not the copy
        os.environ[paths.MIRROR_ENV] = str((paths.ROOT / mirror).resolve())
    os.environ["DVC_STAGE"] = "mutants"  # impl.pipeline.artifacts: use the checked-out outputs, build nothing
    os.chdir(scratch)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def enumerate_mutants(scratch: Path, modules: list[str]) -> list[Mutant]:
    """Every mutation cosmic-ray's operators can make in `modules` (paths relative to `scratch`)."""
    with tempfile.TemporaryDirectory() as folder, use_db(Path(folder) / "session.sqlite", WorkDB.Mode.create) as db:
        cosmic_ray_init([scratch / m for m in modules], db, {})
        specs = [item.mutations[0] for item in db.work_items]
    return sorted(Mutant(module=Path(s.module_path).relative_to(scratch).as_posix(), line=s.start_pos[0],
                         column=s.start_pos[1], operator=s.operator_name, occurrence=s.occurrence) for s in specs)


def _changed_lines(diff: str) -> tuple[str, str]:
    body = diff.splitlines()[3:]  # cosmic-ray's "--- mutation diff ---" and the two file headers
    before = [line[1:].strip() for line in body if line.startswith("-")]
    after = [line[1:].strip() for line in body if line.startswith("+")]
    return " / ".join(before), " / ".join(after)


def run_mutant(scratch: Path, mutant: Mutant, lesson: str, timeout_s: float) -> Result:
    """Apply `mutant` in `scratch` (cosmic-ray restores the file after), run the fast specs, classify."""
    spec = MutationSpec(module_path=scratch / mutant.module, operator_name=mutant.operator,
                        occurrence=mutant.occurrence, start_pos=(mutant.line, mutant.column),
                        end_pos=(mutant.line, mutant.column + 1))
    start = time.monotonic()
    work = cosmic_ray.mutating.mutate_and_test([spec], test_command(lesson), timeout_s)
    seconds = time.monotonic() - start
    if work.worker_outcome != WorkerOutcome.NORMAL or work.test_outcome == TestOutcome.INCOMPETENT:
        outcome = "incompetent"
    elif work.test_outcome == TestOutcome.KILLED:
        outcome = "timed out" if work.output == "timeout" else "killed"
    else:
        outcome = "survived"
    diff = (work.diff or "").replace(f"{scratch}/", "")
    before, after = _changed_lines(diff) if diff else ("", "")
    return Result(mutant, outcome, seconds, before, after, diff, output_tail=(work.output or "")[-2000:])


def run(lesson: str, n: int = 30, seed: int = 0, *, root: Path = paths.ROOT, config: Path = CONFIG,
        out_dir: Path | None = None, log=print) -> dict:
    """Sample, run and tally `n` mutants of `lesson`; write `<out_dir>/<lesson>.json` and `.md`, and the
    overview of every lesson measured, `<out_dir>/../mutants.md`."""
    wall = time.monotonic()
    modules = mutant_report.lesson_modules(config, lesson, root)
    root = Path(root)
    table = mutant_report.equivalents(root / "specs" / lesson / "equivalent_mutants.yaml", modules, root)
    out_dir = Path(out_dir or paths.REPORTS_DIR / "mutants")
    measured_on = _measured_on(root)  # the code copied into the scratch tree, before the checkout can change
    with scratch_tree(root) as scratch, _inside(scratch):
        all_mutants = enumerate_mutants(scratch, modules)
        mutants = mutant_report.sample(all_mutants, n, seed)
        start = time.monotonic()
        outcome, output = run_tests(test_command(lesson), timeout=3600)
        baseline_s = time.monotonic() - start
        if outcome != TestOutcome.SURVIVED:
            raise RuntimeError(f"the unmutated fast specs of {lesson} fail, so no mutant can be judged:\n"
                               f"{output[-3000:]}")
        timeout_s = timeout_for(baseline_s)
        log(f"{lesson}: {len(mutants)} of {len(all_mutants)} mutants; baseline {baseline_s:.1f} s, "
            f"timeout {timeout_s:.0f} s")
        results = []
        for i, mutant in enumerate(mutants, 1):
            result = run_mutant(scratch, mutant, lesson, timeout_s)
            if result.outcome == "survived":
                result.equivalent = mutant_report.match_equivalent(result, table)
            results.append(result)
            log(f"[{i}/{len(mutants)}] {mutant.module}:{mutant.line} {mutant.operator} -> {result.outcome}"
                f"{' (argued equivalent)' if result.equivalent else ''} ({result.seconds:.0f} s)")
    summary = mutant_report.summarize(lesson, results, n_mutants=len(all_mutants), seed=seed, baseline_s=baseline_s,
                                      timeout_s=timeout_s, wall_s=time.monotonic() - wall)
    summary["measured_on"] = measured_on
    atomic_write_json(out_dir / f"{lesson}.json", summary)
    atomic_write_text(out_dir / f"{lesson}.md", mutant_report.markdown(summary))
    every = [json.loads(path.read_text()) for path in sorted(out_dir.glob("*.json"))]
    atomic_write_text(out_dir.parent / "mutants.md", mutant_report.overview(every))  # linked from the report's index
    return summary


def _measured_on(root: Path) -> str:
    """When, and on which code: the UTC date and `git describe --always --dirty` of the checkout mutated."""
    found = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=root, capture_output=True, text=True)
    commit = found.stdout.strip() if found.returncode == 0 else "no git"
    return f"{time.strftime('%Y-%m-%d', time.gmtime())}, {commit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m impl.tools.mutants", description=__doc__.splitlines()[0])
    parser.add_argument("lesson", help="a lesson folder under specs/, listed in impl/tools/mutants.yaml")
    parser.add_argument("--n", type=int, default=30, help="mutants to sample (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    args = parser.parse_args(argv)
    # A `kill` ends the run through SystemExit, so the scratch copy is removed on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    summary = run(args.lesson, args.n, args.seed)
    rate = summary["kill_rate"]
    print(f"{args.lesson}: killed {summary['killed']}, survived {summary['survived'] - summary['equivalent']}, "
          f"timed out {summary['timed_out']}, incompetent {summary['incompetent']}, argued equivalent "
          f"{summary['equivalent']}; kill rate {'n/a' if rate is None else f'{100 * rate:.1f}%'} "
          f"-> reports/mutants/{args.lesson}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
