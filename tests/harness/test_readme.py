"""The README's generated sections are current: a new lesson, stage or claim that `make readme` has not
written into them fails here (house rule 5: results are generated, never typed, and checked)."""
import re

from impl import paths
from impl.harness import ids
from impl.harness.report import readme
from impl.harness.report.markdown import cell
from impl.harness.spec_claims import claims_in

README = paths.ROOT / "README.md"


def _section(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- BEGIN GENERATED: {name} -->\n(.*?)\n<!-- END GENERATED: {name} -->", text, re.S)
    assert match, f"README has no generated `{name}` section"
    return match.group(1)


def _claims_in_specs() -> set[tuple[str, str, str]]:
    """(claim id, first paragraph of its docstring, spec) for every claim function under specs/."""
    rows = set()
    for path in sorted(paths.SPECS_DIR.glob("*/test_*.py")):
        relpath = path.relative_to(paths.ROOT).as_posix()
        for claim in claims_in(path):
            sentence = " ".join(claim.statement.split("\n\n")[0].split())
            rows.add((ids.claim_id(relpath, claim.name), cell(sentence), f"`{relpath}::{claim.name}`"))
    return rows


def _claims_in_readme() -> set[tuple[str, str, str]]:
    rows = set()
    for line in _section("claims").splitlines()[2:]:
        columns = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert len(columns) == 4, line
        rows.add((columns[0], columns[1], columns[3]))  # the verdict column is from the last run, per machine
    return rows


def test_readme_map_lists_every_lesson_and_stage():
    assert _section("map") == readme.lesson_map(paths.ROOT), "the lesson map is stale: run `make readme`"


def test_readme_claims_table_lists_every_claim_as_written():
    in_readme, in_specs = _claims_in_readme(), _claims_in_specs()
    missing = sorted(row[0] for row in in_specs - in_readme)
    stale = sorted(row[0] for row in in_readme - in_specs)
    assert (missing, stale) == ([], []), "the claims table is stale: run `make readme` after a full `make test`"
