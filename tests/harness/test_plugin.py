"""The plugin end to end, on a throwaway project built by pytester."""
import json
import os

import pytest

from impl import paths
from impl.harness import timeline
from impl.pipeline import hardware

GPU_VERDICT = "holds" if hardware.gpu_available() else "not run"

SPEC = '''
import pytest

@pytest.mark.cpu
def test_holds(claim):
    """A claim that holds."""
    claim.expect("x", 1.0, "<=", "max_x")

@pytest.mark.cpu
def test_refuted(claim):
    """A claim that is false."""
    claim.expect("x", 3.0, "<=", "max_x")

@pytest.mark.cpu
def test_broken(claim):
    """A claim whose code is broken."""
    raise RuntimeError("bug")

@pytest.mark.cpu
def test_skipped(claim):
    """A claim that cannot run here."""
    pytest.skip("optional data absent")

@pytest.mark.cpu
@pytest.mark.flag("F30")
@pytest.mark.known_refuted("x", source="the source says x stays small")
def test_known(claim):
    """A claim known to be false at one named check; its other check holds."""
    claim.expect("x", 3.0, "<=", "max_x")
    claim.expect("y", 1.0, "<=", "max_x")

@pytest.mark.gpu
def test_on_gpu(claim):
    """A claim that needs a GPU."""
    claim.expect("x", 1.0, "<=", "max_x")

@pytest.mark.cpu
@pytest.mark.perf
def test_timed(claim):
    """A timing claim."""

@pytest.mark.cpu
def test_seeded(claim, seed):
    """A statistical claim."""
    claim.record(seed_seen=seed)
    claim.expect("seed", seed, "<=", "max_seed")

@pytest.mark.cpu
def test_no_raise(claim):
    """A claim that a bad input is refused, where the code accepts it."""
    with pytest.raises(ValueError):
        pass
'''


@pytest.fixture
def project(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(paths.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    pytester.makeconftest('pytest_plugins = ["impl.harness.plugin"]')
    pytester.makefile(".yaml", params="profile: quick\nseed: 0\n")
    pytester.makeini("[pytest]\nxfail_strict = true\naddopts = -p no:randomly\n")
    pytester.mkpydir("specs")
    pytester.mkpydir("specs/l9_demo")
    (pytester.path / "specs/l9_demo/test_demo.py").write_text(SPEC)
    (pytester.path / "specs/l9_demo/claims.yaml").write_text(THRESHOLDS)
    return pytester


THRESHOLDS = """
L9.demo.holds: {max_x: 2.0}
L9.demo.refuted: {max_x: 2.0}
L9.demo.known: {max_x: 2.0}
L9.demo.on_gpu: {max_x: 2.0}
L9.demo.seeded: {max_seed: 1}
"""


def _records(pytester):
    return json.loads((pytester.path / "reports/results/l9_demo.json").read_text())["claims"]


def _history(pytester):
    return [json.loads(line) for line in (pytester.path / "reports/history.jsonl").read_text().splitlines()]


def test_verdicts_are_mapped_and_written(project):
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=3, skipped=2, xfailed=1) if GPU_VERDICT == "not run" else None
    records = _records(project)
    verdicts = {key: record["verdict"] for key, record in records.items()}
    assert verdicts == {
        "L9.demo.holds": "holds", "L9.demo.refuted": "refuted", "L9.demo.broken": "error",
        "L9.demo.skipped": "not run", "L9.demo.known": "known refuted", "L9.demo.on_gpu": GPU_VERDICT,
        "L9.demo.seeded": "holds", "L9.demo.timed": "holds", "L9.demo.no_raise": "refuted",
    }
    assert "DID NOT RAISE" in records["L9.demo.no_raise"]["message"]
    refuted = records["L9.demo.refuted"]
    assert "x = 3.0 is not <= max_x = 2.0" in refuted["message"]
    assert refuted["checks"][0]["ok"] is False and refuted["thresholds"] == {"max_x": 2.0}
    assert records["L9.demo.seeded"]["seeds"] == [0]
    assert (records["L9.demo.known"]["flag"], records["L9.demo.known"]["expected_refuted"]) == ("F30", True)
    assert (records["L9.demo.holds"]["flag"], records["L9.demo.holds"]["expected_refuted"]) == (None, False)
    assert GPU_VERDICT == "holds" or "no GPU" in records["L9.demo.on_gpu"]["message"]
    for record in records.values():
        assert record["profile"] == "quick" and record["hardware"]["cpu_count"] >= 1


KNOWN_REFUTED_CASES = '''
import pytest

@pytest.mark.cpu
@pytest.mark.known_refuted("x", source="the source says x stays small")
def test_other_check_fails(claim):
    """The named check fails as expected, but another check fails too."""
    claim.expect("x", 3.0, "<=", 2.0)
    claim.expect("y", 5.0, "<=", 2.0)

@pytest.mark.cpu
@pytest.mark.known_refuted("x", source="the source says x stays small")
def test_plain_assert_fails(claim):
    """The named check fails as expected, and a plain assertion after it fails too."""
    claim.expect("x", 3.0, "<=", 2.0)
    assert 1 + 1 == 3

@pytest.mark.cpu
@pytest.mark.known_refuted("x", source="the source says x stays small")
def test_named_check_holds(claim):
    """The named check holds: the marker is stale."""
    claim.expect("x", 1.0, "<=", 2.0)

@pytest.mark.cpu
@pytest.mark.known_refuted("x", source="the source says x stays small")
def test_named_check_never_runs(claim):
    """No check by that name runs."""
    claim.expect("z", 1.0, "<=", 2.0)

@pytest.mark.cpu
@pytest.mark.known_refuted("x", source="the source says x stays small")
def test_broken_after(claim):
    """The named check fails as expected, then the code breaks."""
    claim.expect("x", 3.0, "<=", 2.0)
    raise RuntimeError("bug")
'''


def test_known_refuted_belongs_to_one_named_check(project):
    """Only the named check may fail: any other failing check refutes, a stale marker or a crash is an error."""
    (project.path / "specs/l9_demo/test_demo.py").write_text(KNOWN_REFUTED_CASES)
    project.runpytest_subprocess("-p", "no:cacheprovider")
    records = _records(project)
    verdicts = {key: record["verdict"] for key, record in records.items()}
    assert verdicts == {
        "L9.demo.other_check_fails": "refuted", "L9.demo.plain_assert_fails": "refuted",
        "L9.demo.named_check_holds": "error", "L9.demo.named_check_never_runs": "error",
        "L9.demo.broken_after": "error",
    }
    assert "y = 5.0 is not <= 2.0" in records["L9.demo.other_check_fails"]["message"]
    assert "check held" in records["L9.demo.named_check_holds"]["message"]
    assert "no claim.expect named 'x' ran" in records["L9.demo.named_check_never_runs"]["message"]


def test_known_refuted_message_names_check_and_source(project):
    project.runpytest_subprocess("-p", "no:cacheprovider", "-k", "known")
    record = _records(project)["L9.demo.known"]
    assert record["verdict"] == "known refuted"
    assert record["message"].startswith("the source says x stays small -- refuted at check x: 3.0 is not <= max_x 2.0")
    assert [c["name"] for c in record["checks"] if not c["ok"]] == ["x"]


@pytest.mark.parametrize("marker", [
    '@pytest.mark.xfail(strict=True, reason="false")',
    '@pytest.mark.known_refuted("x")',
    '@pytest.mark.known_refuted("x", source="")',
    '@pytest.mark.known_refuted(source="s")',
])
def test_xfail_or_malformed_known_refuted_is_a_usage_error(project, marker):
    (project.path / "specs/l9_demo/test_bad.py").write_text(
        f'import pytest\n@pytest.mark.cpu\n{marker}\ndef test_marked(claim):\n    """Marked."""\n')
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_marked*"])


LEAKY = '''
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

@pytest.mark.cpu
def test_env(claim):
    """Leaves an environment variable and the cwd changed."""
    os.environ["L9_LEAK"] = "1"
    os.chdir("/")

@pytest.mark.cpu
def test_logger(claim):
    """Leaves a logger's level changed."""
    logging.getLogger("l9.quiet").setLevel(logging.ERROR)

@pytest.mark.cpu
def test_child(claim):
    """Leaves a child process running."""
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

@pytest.mark.cpu
def test_child_stopping(claim):
    """Leaves a child process that exits by itself a second later (a framework's asynchronous stop): no leak."""
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])

@pytest.mark.cpu
def test_draws(claim):
    """Draws from NumPy's global generator: no leak (seeded per claim), and the draw is the same in any order."""
    claim.record(draw=float(np.random.rand()))

@pytest.mark.cpu
def test_clean(claim):
    """Changes and restores an environment variable."""
    os.environ["L9_TMP"] = "1"
    del os.environ["L9_TMP"]
'''


def test_leaked_state_is_an_error_naming_it(project):
    (project.path / "specs/l9_demo/test_demo.py").write_text(LEAKY)
    logging_setup = 'import logging\nlogging.getLogger("l9.quiet").setLevel(logging.WARNING)\npytest_plugins = ["impl.harness.plugin"]'
    project.makeconftest(logging_setup)
    project.runpytest_subprocess("-p", "no:cacheprovider")
    records = _records(project)
    assert {k: r["verdict"] for k, r in records.items()} == {
        "L9.demo.env": "error", "L9.demo.logger": "error", "L9.demo.child": "error",
        "L9.demo.child_stopping": "holds", "L9.demo.draws": "holds", "L9.demo.clean": "holds"}
    assert "L9_LEAK" in records["L9.demo.env"]["message"] and "working directory" in records["L9.demo.env"]["message"]
    assert "l9.quiet: 30 -> 40" in records["L9.demo.logger"]["message"]
    assert "left running" in records["L9.demo.child"]["message"]
    first = records["L9.demo.draws"]["observed"]["draw"]
    project.runpytest_subprocess("-p", "no:cacheprovider", "-k", "draws")
    assert _records(project)["L9.demo.draws"]["observed"]["draw"] == first


INCONCLUSIVE = '''
import pytest
from impl.timing import Inconclusive

@pytest.mark.cpu
@pytest.mark.perf
def test_timed(claim):
    """A timing claim whose interval straddles its bar."""
    raise Inconclusive("ratio interval [1.8, 2.3] straddles 2.0")
'''


def test_inconclusive_measurement_is_not_run(project):
    (project.path / "specs/l9_demo/test_demo.py").write_text(INCONCLUSIVE)
    project.runpytest_subprocess("-p", "no:cacheprovider")
    record = _records(project)["L9.demo.timed"]
    assert record["verdict"] == "not run"
    assert record["message"] == "inconclusive: ratio interval [1.8, 2.3] straddles 2.0"


def test_xdist_loses_and_duplicates_nothing(project):
    project.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    records = _records(project)
    assert len(records) == 9
    assert {r["xdist_worker"] for r in records.values()} <= {"gw0", "gw1"}
    assert records["L9.demo.timed"]["verdict"] == "not run" and "timed serially" in records["L9.demo.timed"]["message"]


def test_lesson_dist_times_the_perf_claims_alone_after_everything_else(project):
    """`make test`'s layout (-n 2 --lesson-dist): nothing lost, and the timing claim is judged, not skipped.
    The run's timeline (impl.harness.timeline) holds one row per item from the workers, and shows the perf
    claim starting after every other item ended: the demo lesson's worker runs dry first and is handed the
    perf claim at once, while the other worker still runs a 3-second test; the claim waits for it to exit."""
    (project.path / "test_slow_neighbour.py").write_text("import time\n\ndef test_busy():\n    time.sleep(3)\n")
    project.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--lesson-dist")
    records = _records(project)
    assert len(records) == 9
    timed = records["L9.demo.timed"]
    assert "timed serially" not in timed["message"] and timed["verdict"] != "error"
    assert all(timed["timestamp"] >= r["timestamp"] for r in records.values())
    rows = timeline.read(project.path / "reports/logs" / timeline.FILE_NAME)
    assert len(rows) == 10 and {row["worker"] for row in rows} == {"gw0", "gw1"}
    perf = [row for row in rows if row["perf"]]
    assert [row["nodeid"].rsplit("::", 1)[1] for row in perf] == ["test_timed"]
    assert all(perf[0]["start"] >= row["end"] for row in rows if not row["perf"])


def test_partial_run_merges(project):
    project.runpytest_subprocess("-p", "no:cacheprovider")
    before = _records(project)
    project.runpytest_subprocess("-p", "no:cacheprovider", "-k", "holds")
    after = _records(project)
    assert set(after) == set(before)
    assert after["L9.demo.holds"]["timestamp"] >= before["L9.demo.holds"]["timestamp"]
    assert after["L9.demo.refuted"] == before["L9.demo.refuted"]


def test_claim_seeds_reruns_over_seeds(project):
    project.runpytest_subprocess("-p", "no:cacheprovider", "-k", "seeded", "--claim-seeds", "0-2")
    records = _records(project)
    assert {k for k in records if k.startswith("L9.demo.seeded[")} == {f"L9.demo.seeded[{s}]" for s in range(3)}
    assert records["L9.demo.seeded[2]"]["observed"]["seed_seen"] == 2
    assert records["L9.demo.seeded[2]"]["verdict"] == "refuted" and records["L9.demo.seeded[2]"]["seeds"] == [2]


def test_a_fixed_claim_leaves_no_stale_verdict(project):
    """A seed sweep with one seed refuted, then a plain run after the fix: only the new verdict remains."""
    project.runpytest_subprocess("-p", "no:cacheprovider", "-k", "seeded", "--claim-seeds", "0-2")
    assert _records(project)["L9.demo.seeded[2]"]["verdict"] == "refuted"
    project.runpytest_subprocess("-p", "no:cacheprovider", "-k", "seeded")
    seeded = {k: r["verdict"] for k, r in _records(project).items() if r["id"] == "L9.demo.seeded"}
    assert seeded == {"L9.demo.seeded": "holds"}
    flips = [line["verdict"] for line in _history(project) if line["id"] == "L9.demo.seeded"]
    assert flips == ["holds", "holds", "refuted", "holds"]  # the history keeps every run


def test_gpu_only_run_exits_zero_without_gpu(project):
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-m", "gpu")
    assert result.ret == pytest.ExitCode.OK
    assert _records(project)["L9.demo.on_gpu"]["verdict"] == GPU_VERDICT


def test_missing_hardware_marker_is_a_usage_error(project):
    (project.path / "specs/l9_demo/test_bad.py").write_text(
        'def test_unmarked(claim):\n    """No marker."""\n')
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_unmarked*exactly one of*"])


def test_missing_docstring_is_a_usage_error(project):
    (project.path / "specs/l9_demo/test_bad.py").write_text(
        'import pytest\n@pytest.mark.cpu\ndef test_silent(claim):\n    pass\n')
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_silent*docstring*"])


def test_malformed_flag_is_a_usage_error(project):
    (project.path / "specs/l9_demo/test_bad.py").write_text(
        'import pytest\n@pytest.mark.cpu\n@pytest.mark.flag(30)\ndef test_flagged(claim):\n    """Flagged."""\n')
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_flagged*flag(\"F<number>\")*"])


VERIFY_STAGE = """stages:
  verify:
    cmd: python -m impl.pipeline.verify l9_demo
    wdir: ../..
    deps:
      - specs/l9_demo
    params:
      - params.yaml: [profile, seed]
    outs:
      - reports/verified/l9_demo.json:
          cache: false
"""


@pytest.fixture
def verifiable(project):
    """The demo project with the lesson's verify stage, so runs can leave freshness markers."""
    (project.path / "impl/l9_demo").mkdir(parents=True)
    (project.path / "impl/l9_demo/dvc.yaml").write_text(VERIFY_STAGE)
    return project


def _fresh(pytester) -> bool:
    from impl.pipeline import verified

    return verified.is_fresh("l9_demo", pytester.path, pytester.path / "reports")


def test_a_whole_lesson_run_leaves_a_freshness_marker(verifiable):
    """Refuted claims still make a complete run; the marker names every dep file and the params."""
    result = verifiable.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 1 and _fresh(verifiable)
    marker = json.loads((verifiable.path / "reports/verified/l9_demo.json").read_text())
    assert set(marker["deps"]) == {"specs/l9_demo/__init__.py", "specs/l9_demo/claims.yaml", "specs/l9_demo/test_demo.py"}
    assert marker["params"] == {"params.yaml": {"profile": "quick", "seed": 0}}
    result.stdout.fnmatch_lines(["*verified whole*l9_demo*"])


@pytest.mark.parametrize("args", [("-n", "2"), ("-n", "2", "--lesson-dist")], ids=["xdist", "lesson-dist"])
def test_a_whole_lesson_run_over_workers_leaves_a_freshness_marker(verifiable, args):
    """The controller counts what the workers collected and finished, so `make test`'s parallel run counts."""
    verifiable.runpytest_subprocess("-p", "no:cacheprovider", *args)
    assert _fresh(verifiable)


@pytest.mark.parametrize("args", [("-k", "holds"), ("-m", "perf"), ("--claim-seeds", "0-1"),
                                  ("specs/l9_demo/test_demo.py",), ("-x",), ("--no-claim-results",),
                                  ("--deselect", "specs/l9_demo/test_demo.py::test_holds"),
                                  ("-n", "2", "-k", "holds")],
                         ids=["keyword", "marker", "seeds", "one-file", "exitfirst", "no-results", "deselect",
                              "xdist-keyword"])
def test_a_partial_run_leaves_no_marker(verifiable, args):
    verifiable.runpytest_subprocess("-p", "no:cacheprovider", *args)
    assert not _fresh(verifiable)


def test_an_edit_after_the_run_makes_the_lesson_stale(verifiable):
    verifiable.runpytest_subprocess("-p", "no:cacheprovider")
    assert _fresh(verifiable)
    (verifiable.path / "specs/l9_demo/claims.yaml").write_text(THRESHOLDS + "# edited\n")
    assert not _fresh(verifiable)
    (verifiable.path / "specs/l9_demo/claims.yaml").write_text(THRESHOLDS)
    assert _fresh(verifiable)
    (verifiable.path / "params.yaml").write_text("profile: quick\nseed: 1\n")
    assert not _fresh(verifiable)


def test_a_run_leaves_one_summary_line_and_tags_its_records(project):
    project.runpytest_subprocess("-p", "no:cacheprovider")
    project.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    runs = [json.loads(line) for line in (project.path / "reports/runs.jsonl").read_text().splitlines()]
    assert len(runs) == 2 and runs[0]["run"] != runs[1]["run"]
    assert runs[1]["workers"] == 2 and runs[1]["counts"]["holds"] >= 2 and runs[1]["wall_s"] > 0
    assert {"cpu_model", "cpu_flags", "physical_cores", "memory_gib", "os", "python", "threads"} <= set(runs[0]["hardware"])
    assert {r["run"] for r in _records(project).values()} == {runs[1]["run"]}  # xdist workers report the controller's id
    assert {line["run"] for line in _history(project)} == {runs[0]["run"], runs[1]["run"]}
