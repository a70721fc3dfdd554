"""The generated bad-input claim: a test function pytest collects like a hand-written one."""
import inspect

import pytest

from impl.harness.input_claim import STATEMENT, bad_input_claim
from impl.harness.kinds import Count
from impl.harness.sweep import Case


def _square(n: int) -> int:
    return n * n


CASES = [Case(_square, Count(2, 0, 100))]


def test_the_claim_requests_its_fixtures_and_states_the_lesson():
    dropped = []
    test = bad_input_claim("impl.checks", CASES, subject="Lesson 9", course="Lesson 9", fixtures=("spark",),
                           after=lambda: dropped.append(True))
    assert list(inspect.signature(test).parameters) == ["claim", "spark"]
    assert inspect.getdoc(test) == inspect.cleandoc(STATEMENT.format(subject="Lesson 9", course="Lesson 9"))
    assert [mark.name for mark in test.pytestmark] == ["cpu"]
    with pytest.raises(AssertionError, match="cases_failing"):  # impl.checks's functions have no case: a failure ...
        test(claim=_RecordingClaim(), spark=None)
    assert dropped == [True]        # ... and `after` still ran


class _RecordingClaim:
    def record(self, **fields):
        self.fields = fields

    def expect(self, name, observed, op, limit):
        assert observed == limit, f"{name} = {observed}"


@pytest.mark.parametrize("kwargs, error", [
    ({"cases": []}, TypeError), ({"subject": " "}, ValueError), ({"fixtures": ("claim",)}, ValueError),
    ({"fixtures": "spark"}, ValueError), ({"after": 3}, TypeError),
])
def test_bad_declarations_are_refused(kwargs, error):
    arguments = {"packages": "impl.checks", "cases": CASES, "subject": "Lesson 9", "course": "Lesson 9", **kwargs}
    with pytest.raises(error):
        bad_input_claim(arguments.pop("packages"), arguments.pop("cases"), **arguments)


def test_a_generated_claim_is_read_from_the_source_with_its_statement(tmp_path):
    from impl.harness.spec_claims import claims_in

    spec = tmp_path / "test_inputs.py"
    spec.write_text('CASES = []\n\n\ndef test_a():\n    """A holds."""\n\n\n'
                    'test_rejects_bad_input = bad_input_claim("impl.x", CASES, subject="Lesson 9", course="Lesson 9")\n'
                    'test_other = something_else()\n', encoding="utf-8")
    claims = claims_in(spec)
    assert [(c.name, c.line) for c in claims] == [("test_a", 4), ("test_rejects_bad_input", 8)]
    assert claims[0].statement == "A holds."
    generated = bad_input_claim("impl.checks", CASES, subject="Lesson 9", course="Lesson 9")
    assert claims[1].statement == inspect.getdoc(generated)
