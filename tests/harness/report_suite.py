"""A small but complete project on disk for report tests: two lessons' specs, claims.yaml with reasons,
verdict records of every kind (a parametrized claim, a flagged pair, a GPU claim not run, an error),
two runs of history and a run summary, written where the harness writes them (`reports/results/`,
`reports/history.jsonl`, `reports/runs.jsonl` under the given root)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from impl.harness import results
from tests.harness.test_report import HOSTILE, _record

LESSON_DOCS = {"l1_linalg": "Lesson 1: linear algebra\n\nMatrices, spectra and their claims.\n",
               "l2_stats": "Lesson 2: statistics\n\nEstimators and their claims.\n"}
SPECS = {
    "l1_linalg/test_x.py": '''
def test_y(claim):
    claim.expect("x", 1.0, "<=", "max_x")
    claim.expect("y", 0.25, ">=", "min_y")


def test_z(claim):
    x = 3.0
    claim.expect("x", x, "<=", "max_x")


def test_p(claim, case):
    claim.expect("x", 1.0, "<=", "max_x")
''',
    "l2_stats/test_s.py": '''
def test_gpu(claim):
    pass


def test_err(claim):
    raise RuntimeError("boom")


def test_known(claim):
    claim.expect("bias", 0.4, "<=", "max_bias")


def test_fixed(claim):
    claim.expect("bias", 0.4, "<=", 0.5)
''',
}
CLAIMS_YAML = {
    "l1_linalg": "L1.x.y:\n  max_x: 2.0  # theory says 2\n  min_y: 0.2  # a fifth, from the course\n"
                 "L1.x.z:\n  max_x: 2.0  # the eigenvalue bound of the course\n  min_y: 0.2\n",
    "l2_stats": "L2.s.known:\n  max_bias: 0.1  # what the source states\n",
}
OLD_RUN, NEW_RUN = ("20240101T000000Z-1", "aaaa1111"), ("20240102T000000Z-2", "bbbb2222")
RUN_SUMMARY = {"run": NEW_RUN[0], "started": "2024-01-02T00:00:00+00:00", "wall_s": 61.0, "profile": "quick",
               "args": [], "git": {"commit": NEW_RUN[1], "dirty": False}, "exitstatus": 1, "workers": 0,
               "counts": {"holds": 3, "refuted": 2, "not run": 1, "error": 1, "known refuted": 1},
               "lessons": ["l1_linalg", "l2_stats"],
               "hardware": {"cpu_model": "Test CPU", "cpu_count": 2, "physical_cores": 1, "memory_gib": 3.5,
                            "os": "Linux", "python": "3.11.7"}}
FAILED_X = {"name": "x", "observed": 3.0, "op": "<=", "limit": 2.0, "limit_name": "max_x", "ok": False}
PASSED_Y = {"name": "y", "observed": 0.25, "op": ">=", "limit": 0.2, "limit_name": "min_y", "ok": True}


def _l2(key: str, verdict: str, function: str, **extra: Any) -> dict[str, Any]:
    fields = {"nodeid": f"specs/l2_stats/test_s.py::{function}", "lesson": "L2", "lesson_folder": "l2_stats",
              "plots": [], "thresholds": {}}
    return _record(key, verdict, **{**fields, **extra})


def suite_records() -> dict[str, dict[str, Any]]:
    """Eight records of seven claims in two lessons: each verdict, markers cpu/gpu/perf/slow, one hostile string."""
    records = [
        _record("L1.x.y", "holds", markers=["cpu", "perf"], nodeid="specs/l1_linalg/test_x.py::test_y"),
        _record("L1.x.z", "refuted", nodeid="specs/l1_linalg/test_x.py::test_z", plots=[], checks=[FAILED_X, PASSED_Y],
                statement="The eigenvalue bound holds.\n\nCourse: L1.",
                message="AssertionError: L1.x.z: x = 3.0 is not <= max_x = 2.0 (off by +1, +0.5 relative)"),
        _record("L1.x.p[a]", "holds", nodeid="specs/l1_linalg/test_x.py::test_p[a]", plots=[], seeds=[1],
                statement=f"Cases agree. {HOSTILE}\n\nCourse: L1."),
        _record("L1.x.p[b]", "refuted", nodeid="specs/l1_linalg/test_x.py::test_p[b]", plots=[], seeds=[2],
                checks=[dict(FAILED_X, observed=2.5)], statement=f"Cases agree. {HOSTILE}\n\nCourse: L1."),
        _l2("L2.s.gpu", "not run", "test_gpu", markers=["gpu"], checks=[], observed={},
            message="no GPU found (torch.cuda and jax report none)"),
        _l2("L2.s.err", "error", "test_err", markers=["cpu", "slow"], checks=[], observed={},
            message="RuntimeError: boom"),
        _l2("L2.s.known", "known refuted", "test_known", flag="F3", expected_refuted=True,
            thresholds={"max_bias": 0.1},
            checks=[{"name": "bias", "observed": 0.4, "op": "<=", "limit": 0.1, "limit_name": "max_bias",
                     "ok": False, "known_refuted": True}],
            message="the estimator is unbiased -- refuted at check bias: 0.4 is not <= 0.1"),
        _l2("L2.s.fixed", "holds", "test_fixed", flag="F3",
            checks=[{"name": "bias", "observed": 0.4, "op": "<=", "limit": 0.5, "limit_name": None, "ok": True}]),
    ]
    return {record["key"]: record for record in records}


def write_suite(root: Path) -> dict[str, dict[str, Any]]:
    """Write the specs and every record file under `root`; returns the records, keyed by record key."""
    root = Path(root)
    for folder, doc in LESSON_DOCS.items():
        lesson = root / "specs" / folder
        lesson.mkdir(parents=True, exist_ok=True)
        (lesson / "__init__.py").write_text(f'"""{doc}"""\n', encoding="utf-8")
        if folder in CLAIMS_YAML:
            (lesson / "claims.yaml").write_text(CLAIMS_YAML[folder], encoding="utf-8")
    for name, text in SPECS.items():
        (root / "specs" / name).write_text(text, encoding="utf-8")
    records = suite_records()
    reports = root / "reports"
    results.merge(records.values(), reports / "results", root)
    old = [dict(record, verdict="holds", run=OLD_RUN[0], git={"commit": OLD_RUN[1], "dirty": False},
                checks=[dict(check, observed=check["limit"], ok=True) for check in record["checks"]])
           for record in records.values()]  # every check held, at its limit
    new = [dict(record, run=NEW_RUN[0], git={"commit": NEW_RUN[1], "dirty": False}) for record in records.values()]
    results.append_history(old + new, reports / "history.jsonl")
    results.append_run(RUN_SUMMARY, reports / "runs.jsonl")
    return records
