"""`python -m impl.harness.cli`: list, show and explain read the fixture project's records as the page does;
filters narrow the list exactly, an unknown id or filter value fails with close matches and a non-zero exit."""
import re

import pytest
from typer.testing import CliRunner

from impl.harness.cli.app import app
from impl.harness.cli.catalogue import UnknownFilter, close_matches, load_catalogue, normal_verdict
from impl.harness.cli.explain import expect_line, next_steps, shortfall
from tests.harness.report_suite import SPECS, write_suite

ALL = {"L1.x.y", "L1.x.z", "L1.x.p", "L2.s.gpu", "L2.s.err", "L2.s.known", "L2.s.fixed"}


@pytest.fixture
def project(tmp_path):
    write_suite(tmp_path)
    return tmp_path


def run(project, *args):
    result = CliRunner().invoke(app, ["--reports", str(project / "reports"), "--root", str(project), *args],
                                env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result


def listed(result) -> set[str]:
    """The claim ids in the first column of `list`'s table."""
    return {match.group(1) for match in re.finditer(r"^(L\d\.\S+)\s", result.stdout, re.M)}


def spec_line(file: str, text: str) -> int:
    return SPECS[file].splitlines().index(text) + 1


def test_list_shows_every_claim_with_its_worst_verdict_in_course_order(project):
    result = run(project, "list")
    assert result.exit_code == 0, result.output
    assert listed(result) == ALL and "7 of 7 claims" in result.stdout
    rows = [line.split()[:2] for line in result.stdout.splitlines() if re.match(r"L\d\.", line)]
    assert [row[0] for row in rows] == ["L1.x.p", "L1.x.y", "L1.x.z", "L2.s.err", "L2.s.fixed", "L2.s.gpu",
                                        "L2.s.known"]  # the page's order: lessons in course order, ids sorted
    assert re.search(r"^L1\.x\.p\s+refuted", result.stdout, re.M), "one refuted case refutes the claim"
    assert "x = 3 <= max_x = 2 (FAILED)" in result.stdout  # the tightest check, as the page shows it


@pytest.mark.parametrize("args, expected", [
    (["--verdict", "refuted"], {"L1.x.z", "L1.x.p"}),
    (["-v", "not-run"], {"L2.s.gpu"}),
    (["-v", "Known_Refuted", "-v", "error"], {"L2.s.known", "L2.s.err"}),
    (["--lesson", "L2"], {"L2.s.gpu", "L2.s.err", "L2.s.known", "L2.s.fixed"}),
    (["-l", "l1_linalg", "-v", "holds"], {"L1.x.y"}),
    (["--marker", "gpu"], {"L2.s.gpu"}),
    (["-m", "perf", "-m", "slow"], {"L1.x.y", "L2.s.err"}),
    (["EIGENVALUE"], {"L1.x.z"}),  # in the statement, any case
    (["boom"], {"L2.s.err"}),  # in the message
    (["-l", "L1", "-v", "error"], set()),
])
def test_list_filters_narrow_to_exactly_the_matching_claims(project, args, expected):
    result = run(project, "list", *args)
    assert result.exit_code == 0, result.output
    assert listed(result) == expected
    assert f"{len(expected)} of 7 claims" in result.stdout


@pytest.mark.parametrize("args, says", [
    (["-v", "broken"], "no verdict 'broken'; verdicts: error, refuted, known refuted, not run, holds"),
    (["-l", "L9"], "no lesson 'L9' has verdicts; lessons: l1_linalg, l2_stats"),
    (["-m", "tpu"], "no claim is marked 'tpu'; markers: cpu, gpu, perf, slow"),
])
def test_list_refuses_a_filter_value_no_claim_can_have(project, args, says):
    result = run(project, "list", *args)
    assert result.exit_code == 2 and says in result.stderr


def test_show_gives_checks_reasons_and_history_across_runs(project):
    result = run(project, "show", "L1.x.z")
    assert result.exit_code == 0, result.output
    out = result.stdout
    line = spec_line("l1_linalg/test_x.py", "def test_z(claim):")
    for fact in ("Lesson 1: linear algebra", f"spec specs/l1_linalg/test_x.py:{line}", "markers cpu",
                 "The eigenvalue bound holds.", "refuted: AssertionError: L1.x.z: x = 3.0 is not <= max_x"):
        assert fact in out, fact
    assert re.search(r"x\s+3\s+<=\s+2 \(max_x\)\s+NO", out) and re.search(r"y\s+0\.25\s+>=\s+0\.2 \(min_y\)\s+yes", out)
    assert re.search(r"max_x\s+2\s+the eigenvalue bound of the course", out)
    assert re.search(r"min_y\s+0\.2\s+no reason given in claims.yaml", out)
    assert re.search(r"20240101T000000Z-1\s+aaaa111\s+holds\s+2", out)  # the older run, and its x
    assert re.search(r"20240102T000000Z-2\s+bbbb222\s+refuted\s+3", out)
    assert "Flips: holds -> refuted @ bbbb222" in out


def test_show_accepts_a_record_key_and_lists_the_cases(project):
    result = run(project, "show", "L1.x.p[b]")
    assert result.exit_code == 0, result.output
    assert "L1.x.p  refuted" in result.stdout and "Cases: 1/2 hold" in result.stdout
    assert re.search(r"L1\.x\.p\[a\]\s+holds\s+\[1\]", result.stdout)
    assert re.search(r"L1\.x\.p\[b\]\s+refuted\s+\[2\]\s+AssertionError", result.stdout)
    assert '<script>alert("x")</script>' in result.stdout  # a terminal shows text as it is


def test_explain_a_refutation_names_the_check_the_miss_the_reason_the_line_and_what_next(project):
    result = run(project, "explain", "L1.x.z")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.replace("│", " ").split())  # the panel's lines, joined
    line = spec_line("l1_linalg/test_x.py", '    claim.expect("x", x, "<=", "max_x")')
    for fact in ("L1.x.z refuted The eigenvalue bound holds.",
                 "failed check: x = 3, needs <= 2 (max_x): 1 above the limit (+50.0% of it)",
                 "why max_x: the eigenvalue bound of the course",
                 f'spec: specs/l1_linalg/test_x.py:{line} claim.expect("x", x, "<=", "max_x")',
                 "recent runs: holds -> refuted @ bbbb222",
                 "1. Rerun it alone: python -m pytest 'specs/l1_linalg/test_x.py::test_z'",
                 "specs/l1_linalg/claims.yaml", '@pytest.mark.known_refuted("x", source="...")'):
        assert fact in out, fact


def test_explain_a_parametrized_claim_names_the_failing_case(project):
    out = " ".join(run(project, "explain", "L1.x.p").stdout.replace("│", " ").split())
    assert "1 of 2 cases refuted: L1.x.p[b]" in out
    assert "failed check [L1.x.p[b]]: x = 2.5, needs <= 2 (max_x): 0.5 above the limit (+25.0% of it)" in out
    assert "python -m pytest 'specs/l1_linalg/test_x.py::test_p[b]' (over more seeds: add --claim-seeds 0-9)" in out


@pytest.mark.parametrize("claim_id, facts", [
    ("L2.s.gpu", ["not run", "reason: no GPU found", "1. Run it on a machine with a GPU: make test-gpu"]),
    ("L2.s.err", ["error", "message: RuntimeError: boom", "Not a refutation",
                  "python -m pytest 'specs/l2_stats/test_s.py::test_err' -x", "reports/logs/pytest.log"]),
    ("L2.s.known", ["known refuted", "failed check: bias = 0.4, needs <= 0.1 (max_bias): 0.3 above the limit "
                    "(+300.0% of it)", "why max_bias: what the source states", "Nothing to fix",
                    "The statement that holds instead: L2.s.fixed."]),
    ("L1.x.y", ["holds", "tightest check: y = 0.25 >= min_y = 0.2 (ok)", "Nothing to do: the claim holds."]),
])
def test_explain_says_why_for_every_verdict(project, claim_id, facts):
    result = run(project, "explain", claim_id)
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.replace("│", " ").split())
    for fact in facts:
        assert fact in out, fact


@pytest.mark.parametrize("command, claim_id, suggestion", [
    ("show", "L1.x.zz", "did you mean: L1.x.z, "),  # closest first
    ("explain", "l2.s.ERR", "did you mean: L2.s.err, "),
    ("explain", "L1.x", "did you mean: L1.x.p, L1.x.y, L1.x.z?"),
])
def test_an_unknown_claim_id_fails_with_close_matches(project, command, claim_id, suggestion):
    result = run(project, command, claim_id)
    assert result.exit_code == 2
    assert f"no claim '{claim_id}' among the 7 claims with verdicts; {suggestion}" in result.stderr


def test_without_verdicts_every_command_says_to_run_the_tests_first(tmp_path):
    for args in (["list"], ["show", "L1.x.y"], ["explain", "L1.x.y"]):
        result = run(tmp_path, *args)
        assert result.exit_code == 1 and "no verdicts under" in result.stderr and "make test" in result.stderr


def test_help_names_each_command_and_its_filters():
    top = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert top.exit_code == 0
    for line in ("list     Claims with their last verdicts", "show     One claim: checks, thresholds' reasons",
                 "explain  Why a claim is refuted, not run or an error"):
        assert line in top.stdout, line
    listing = CliRunner().invoke(app, ["list", "--help"], env={"COLUMNS": "120"})
    for option in ("-l, --lesson LESSON", "-v, --verdict VERDICT", "-m, --marker MARKER", "[TEXT]", "Examples:"):
        assert option in listing.stdout, option


def test_the_helpers_refuse_bad_input_and_measure_misses(project):
    assert shortfall({"observed": 0.1, "op": ">=", "limit": 0.2}) == "0.1 below the limit (-50.0% of it)"
    assert shortfall({"observed": 5, "op": "==", "limit": 4}) == "off by 1 (+25.0% of it)"
    assert shortfall({"observed": "a", "op": "==", "limit": "b"}) == "a is not == b"
    assert shortfall({"observed": 1.0, "op": "<=", "limit": 2.0}) == "1 under it (passes)"
    with pytest.raises(ValueError, match="observed, op and limit"):
        shortfall({"observed": 1})
    with pytest.raises(ValueError, match="unknown verdict"):
        next_steps("maybe", "specs/a/test_b.py::test_c", [], "a")
    with pytest.raises(ValueError, match="nodeid must look like"):
        expect_line(project, "no-colons")
    assert expect_line(project, "specs/l1_linalg/test_x.py::test_gone", "x") == ("specs/l1_linalg/test_x.py", None, "")
    catalogue = load_catalogue(project / "reports", project)
    with pytest.raises(ValueError, match="claim_id must be"):
        catalogue.find(" ")
    with pytest.raises(UnknownFilter, match="non-empty"):
        catalogue.select(verdicts=[""])
    with pytest.raises(TypeError, match="text must be a string"):
        catalogue.select(text=3)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_catalogue(project / "reports", project / "missing")
    assert normal_verdict(" NOT-run ") == "not run"
    assert close_matches("x.p", ["L1.x.p", "L2.s.err"]) == ["L1.x.p"]
