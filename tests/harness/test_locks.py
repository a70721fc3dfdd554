"""The committed DVC locks describe the code beside them.

A lock whose dep hashes differ from the files it names tells a user nothing: `dvc status` on a clean
clone must list missing outputs only. Judged on a commit (a clean clone, as CI runs it): where a
stage's source deps carry uncommitted edits, the locks are expected to lag until `make report` or
`make test` records them, so the check skips and says so.
"""
import json
import subprocess
import sys

import pytest

from impl import paths
from impl.pipeline import artifacts, stages

MISSING = ("deleted", "not in cache")  # an output not built yet on this machine: expected on a clean clone


def _produced() -> set[str]:
    """Stage outputs, and folders holding one (a dep on reports/verified waits for every marker)."""
    outs = {out for stage in stages.all_stages() for out in stage.outs}
    deps = {dep for stage in stages.all_stages() for dep in stage.deps}
    return outs | {dep for dep in deps if any(out.startswith(dep.rstrip("/") + "/") for out in outs)}


def _source_deps() -> set[str]:
    produced = _produced()
    return {dep for stage in stages.all_stages() for dep in (*stage.deps, *stage.params) if dep not in produced}


def _edited_sources() -> list[str]:
    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", *sorted(_source_deps())],
                          cwd=paths.ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"not a git checkout ({done.stderr.strip()[:200]}): the lock check judges a commit")
    return [line[3:] for line in done.stdout.splitlines() if "__pycache__" not in line and not line.endswith(".pyc")]


def _stale(entries: list) -> list[str]:
    """What in one stage's `dvc status` entry says the lock does not describe the tree."""
    problems = []
    produced = _produced()
    for entry in entries:
        if isinstance(entry, str):  # "always changed", "changed checksum"
            problems.append(entry)
            continue
        for kind, changes in entry.items():
            if kind == "changed deps":
                problems += [f"dep {path} {change}" for path, change in changes.items() if path not in produced]
            elif kind == "changed outs":
                problems += [f"output {path} {change}" for path, change in changes.items() if change not in MISSING]
            else:
                problems.append(f"{kind}: {changes}")
    return problems


def test_committed_locks_match_the_tree():
    """Every committed dvc.lock names the current hash of each source file its stages read (code,
    knobs, params) and of each committed output (the metrics); only outputs this clone has not
    built yet, and deps that are such outputs, may differ."""
    edited = _edited_sources()
    if edited:
        pytest.skip(f"uncommitted edits to stage deps ({', '.join(edited[:5])}{' ...' if len(edited) > 5 else ''}): "
                    "the locks catch up with `make report`; this check judges a commit")
    with artifacts.builds_settled():  # no stage half-built by another xdist worker
        done = subprocess.run([sys.executable, "-m", "dvc", "status", "--json"], cwd=paths.ROOT,
                              capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    status = json.loads(done.stdout or "{}")
    stale = {stage: problems for stage, entries in status.items() if (problems := _stale(entries))}
    assert stale == {}, ("dvc.lock does not describe the code: run `make report` (it re-runs what changed and "
                         "records it) and commit the locks with the code")


def test_outputs_do_not_name_the_checkout():
    """No stage output built here holds this checkout's absolute path (as the torch ONNX exporter's
    per-node stack traces once did): an output that does has another hash in every other clone, so the
    committed lock can describe only one machine's files."""
    root = str(paths.ROOT).encode()
    with artifacts.builds_settled():  # every output whole: none half-written by another worker's stage
        built = sorted({path for stage in stages.all_stages() for out in stage.outs
                        for path in ([paths.ROOT / out] if (paths.ROOT / out).is_file()
                                     else (paths.ROOT / out).rglob("*")) if path.is_file()})
        naming = [path.relative_to(paths.ROOT).as_posix() for path in built if root in path.read_bytes()]
    if not built:
        pytest.skip("no stage output is built in this checkout yet")
    assert naming == [], f"outputs that name {root.decode()}: {naming}"
