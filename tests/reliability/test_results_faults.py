"""Faults in the verdict files: a results file cut short is refused with its name and the way out, a
torn history line costs only itself, and two runs writing one reports folder at once lose nothing."""
import json
import subprocess
import sys
import textwrap

import pytest

from impl import paths
from impl.harness import results
from impl.harness.report import history


def _record(lesson: str, claim: str, verdict: str = "holds") -> dict:
    return {"key": claim, "id": claim, "verdict": verdict, "lesson_folder": lesson,
            "nodeid": f"specs/{lesson}/test_x.py::test_{claim.rsplit('.', 1)[-1]}", "checks": [],
            "run": "r", "timestamp": "2026-01-01T00:00:00+00:00"}


@pytest.fixture
def tree(tmp_path):
    """A root with one spec file per lesson (merge keeps only records whose spec file exists)."""
    for lesson in ("l1_a", "l2_b"):
        (tmp_path / "specs" / lesson).mkdir(parents=True)
        (tmp_path / "specs" / lesson / "test_x.py").write_text("")
    return tmp_path, tmp_path / "reports" / "results"


def test_a_results_file_cut_short_is_refused_naming_the_file_and_the_way_out(tree):
    root, folder = tree
    results.merge([_record("l1_a", "L1.x.one"), _record("l1_a", "L1.x.two")], folder, root=root)
    results.merge([_record("l2_b", "L2.x.one")], folder, root=root)
    path = folder / "l1_a.json"
    whole = path.read_bytes()
    for cut in (len(whole) // 2, len(whole) - 3, 1):
        path.write_bytes(whole[:cut])
        with pytest.raises(results.ResultsFileError) as caught:
            results.load(folder)
        message = str(caught.value)
        assert str(path) in message and "make test PYTEST_ARGS=specs/l1_a" in message and "delete" in message
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(results.ResultsFileError, match="l1_a.json"):
        results.load(folder)
    path.write_text(json.dumps({"schema": results.SCHEMA, "claims": ["not", "records"]}))
    with pytest.raises(results.ResultsFileError, match="not a mapping of records"):
        results.load(folder)


def test_a_run_merging_into_a_damaged_file_keeps_its_records_and_the_damaged_file(tree, capsys):
    root, folder = tree
    results.merge([_record("l1_a", "L1.x.one")], folder, root=root)
    path = folder / "l1_a.json"
    path.write_bytes(path.read_bytes()[:20])
    merged = results.merge([_record("l1_a", "L1.x.two", "refuted")], folder, root=root)
    assert set(merged) == {"L1.x.two"}
    assert results.load(folder)["L1.x.two"]["verdict"] == "refuted"
    aside = list(folder.glob("l1_a.json.corrupt-*"))
    assert len(aside) == 1 and len(aside[0].read_bytes()) == 20
    assert "kept it as" in capsys.readouterr().err


def test_the_report_names_the_damaged_file_instead_of_a_traceback(tmp_path):
    """The report command reads the real reports folder: run it in a copy whose lesson file is cut short."""
    project = tmp_path / "p"
    (project / "reports" / "results").mkdir(parents=True)
    for rel in ("impl",):
        subprocess.run(["cp", "-r", str(paths.ROOT / rel), str(project / rel)], check=True)
    (project / "reports" / "results" / "l1_a.json").write_text('{"schema": 2, "claims": {"L1')
    done = subprocess.run([sys.executable, "-m", "impl.harness.report"], cwd=project, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "l1_a.json" in done.stderr and "make test PYTEST_ARGS=specs/l1_a" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_torn_last_history_line_costs_only_itself(tmp_path):
    path = tmp_path / "history.jsonl"
    results.append_history([_record("l1_a", "L1.x.one"), _record("l1_a", "L1.x.two")], path)
    whole = path.read_bytes()
    path.write_bytes(whole[:-25])  # the second line cut mid-way, no final newline
    results.append_history([_record("l1_a", "L1.x.three"), _record("l1_a", "L1.x.four")], path)
    rows = history.read_rows(path)
    assert [row["id"] for row in rows] == ["L1.x.one", "L1.x.three", "L1.x.four"]
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[0] == whole.decode().splitlines()[0]  # earlier lines untouched


def test_a_torn_runs_line_is_skipped_with_a_warning(tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    results.append_run({"run": "a", "wall_s": 1.0}, path)
    path.write_bytes(path.read_bytes() + b'{"run": "b", "wal')
    results.append_run({"run": "c", "wall_s": 2.0}, path)
    assert [row["run"] for row in results.load_runs(path)] == ["a", "c"]
    assert f"{path} line 2" in capsys.readouterr().err


WRITER = textwrap.dedent('''
    import sys
    from pathlib import Path
    from impl.harness import results

    name, root, rounds = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    folder = root / "reports" / "results"
    for i in range(rounds):
        # what a session's end writes, in the plugin's order: lesson files, history, run summary
        records = [{"key": f"L{n}.{name}.c{i}", "id": f"L{n}.{name}.c{i}", "verdict": "holds",
                    "lesson_folder": lesson, "nodeid": f"specs/{lesson}/test_x.py::test_c{i}", "checks": []}
                   for n, lesson in ((1, "l1_a"), (2, "l2_b"))]
        results.merge(records, folder, root=root)
        results.append_history(records, root / "reports" / "history.jsonl")
        results.append_run({"run": f"{name}-{i}"}, root / "reports" / "runs.jsonl")
''')


def test_two_runs_writing_one_reports_folder_at_once_lose_nothing(tree):
    """Two processes, each doing what a session's end does (merge, history, runs) 150 times, interleaved."""
    root, folder = tree
    rounds = 150
    env = {"PYTHONPATH": str(paths.ROOT), "PATH": "/usr/bin:/bin"}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, name, str(root), str(rounds)], env=env,
                                stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err[-2000:]
    expected = {f"L{n}.{name}.c{i}" for n in (1, 2) for name in ("a", "b") for i in range(rounds)}
    assert set(results.load(folder)) == expected  # every lesson file parses and holds every record
    lines = (root / "reports" / "history.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(expected)
    assert sorted(r["run"] for r in results.load_runs(root / "reports" / "runs.jsonl")) == \
        sorted(f"{name}-{i}" for name in ("a", "b") for i in range(rounds))
