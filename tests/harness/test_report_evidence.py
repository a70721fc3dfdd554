"""Evidence per claim: the spec's line found by parsing the spec, each threshold's reason read from the
comment after its key in claims.yaml, and the environment panel built only from what was recorded."""
import pytest

from impl.harness.report.evidence import parse_reasons, spec_location, threshold_reasons
from impl.harness.report.model import build
from impl.harness.report.overview import NOT_RECORDED, build_overview, environment
from tests.harness.test_report import _record

CLAIMS_YAML = """\
# Thresholds of the claims, by claim id.
L1.x.y:
  max_x: 2.0            # theory: x <= 2
                        # (and a second line of the reason)
  min_y: {quick: 0.2, full: 0.3}  # sampling error: 5 SE under the mean
  n: 100
  knobs:                # the stage's knobs
    steps: 10           # few steps
  url: "http://a#b"     # a hash inside a value is not a comment
L1.x.z:
  tol: 1.0e-12  # float64 round-off
"""


def test_threshold_reasons_are_the_comments_after_each_key():
    reasons = parse_reasons(CLAIMS_YAML)
    assert reasons["L1.x.y"] == {"max_x": "theory: x <= 2 (and a second line of the reason)",
                                 "min_y": "sampling error: 5 SE under the mean",
                                 "knobs": "the stage's knobs few steps", "url": "a hash inside a value is not a comment"}
    assert reasons["L1.x.z"] == {"tol": "float64 round-off"}
    assert parse_reasons("") == {} and parse_reasons("not: [yaml\n  - ?") == {}
    with pytest.raises(TypeError):
        parse_reasons(None)


def test_the_spec_line_is_found_by_parsing_the_spec(tmp_path):
    spec = tmp_path / "specs" / "l1_linalg" / "test_x.py"
    spec.parent.mkdir(parents=True)
    spec.write_text('"""doc"""\n\n\ndef helper():\n    pass\n\n\ndef test_y():\n    pass\n\n\n'
                    "class TestGroup:\n    def test_z(self):\n        pass\n\n\ntest_made = make_claim()\n", encoding="utf-8")
    assert spec_location(tmp_path, "specs/l1_linalg/test_x.py::test_y[seed-3]") == ("specs/l1_linalg/test_x.py", 8)
    assert spec_location(tmp_path, "specs/l1_linalg/test_x.py::TestGroup::test_z") == ("specs/l1_linalg/test_x.py", 13)
    assert spec_location(tmp_path, "specs/l1_linalg/test_x.py::test_made") == ("specs/l1_linalg/test_x.py", 17)
    assert spec_location(tmp_path, "specs/l1_linalg/test_x.py::test_gone") == ("specs/l1_linalg/test_x.py", None)
    assert spec_location(tmp_path, "specs/absent.py::test_y") == ("specs/absent.py", None)
    with pytest.raises(ValueError):
        spec_location(tmp_path, "no separator")
    (tmp_path / "specs" / "l1_linalg" / "claims.yaml").write_text(CLAIMS_YAML, encoding="utf-8")
    assert threshold_reasons(tmp_path, "l1_linalg", "L1.x.z") == {"tol": "float64 round-off"}
    assert threshold_reasons(tmp_path, "l9_absent", "L9.x.y") == {}


def test_the_environment_panel_has_twelve_fields_and_says_what_was_not_recorded(tmp_path):
    records = {"L1.x.y": _record("L1.x.y", "holds", versions={"numpy": "2.1.0", "torch": "2.5.0"})}
    run = {"run": "20240101T000000Z-1", "wall_s": 12.5, "profile": "quick", "args": ["-m", "gpu"],
           "git": {"commit": "abc", "dirty": True}, "exitstatus": 0, "workers": 2,
           "counts": {"holds": 1}, "lessons": ["l1_linalg"],
           "hardware": {"cpu_model": "Run CPU", "cpu_count": 8, "physical_cores": 4, "memory_gib": 31.2,
                        "os": "Linux 6", "python": "3.11.7", "threads": {"torch_intra_op": 4}}}
    rows = {field: (value, source) for field, value, source in environment(run, records)}
    assert len(rows) >= 12 and all(value for value, _ in rows.values())
    assert rows["CPU model"] == ("Run CPU", "runs.jsonl (20240101T000000Z-1)")
    assert rows["CPU flags (speed-relevant)"][0] == "avx2"  # absent from the run: taken from the record
    assert rows["physical cores"][0] == "4" and rows["memory"][0] == "31.2 GiB"
    assert rows["GPUs"][0] == NOT_RECORDED + " (no gpu claim ran)" and rows["GPU driver"][0] == NOT_RECORDED
    assert rows["torch version"][0] == "2.5.0" and rows["jax version"][0] == NOT_RECORDED
    lessons = build(records, tmp_path)
    overview = build_overview(lessons, records, [run, {"run": "20230101T000000Z-9"}])
    facts = dict(overview.run)
    assert facts["wall time"] == "12.5 s" and facts["pytest arguments"] == "-m gpu"
    assert facts["uncommitted changes"] == "yes (dirty)" and overview.run_id == "20240101T000000Z-1"
    assert dict(overview.totals)["holds"] == 1 and overview.bars[0].segments[0].percent == "100.0"
    bare = build_overview(lessons, records, [])
    assert set(dict(bare.run).values()) == {NOT_RECORDED} and bare.notes
    assert dict((f, v) for f, v, _ in bare.environment)["memory"] == NOT_RECORDED  # never guessed
    with pytest.raises(TypeError):
        build_overview(lessons, records, None)
