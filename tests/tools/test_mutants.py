"""`make mutants`: module selection, the seeded sample, equivalent-mutant matching and the tally (no mutant is run)."""
from collections import Counter
from pathlib import Path

import pytest

from impl import paths
from impl.tools import mutants
from impl.tools.mutant_report import (Mutant, Result, equivalents, lesson_modules, markdown, match_equivalent, overview,
                                      sample, summarize)


def _mutants(counts: dict[str, int]) -> list[Mutant]:
    return [Mutant(module, line, 0, "core/NumberReplacer", line) for module, n in counts.items() for line in range(n)]


def test_every_configured_lesson_names_existing_modules_and_no_entry_point():
    for lesson in ("l1_linalg", "l2_stats", "data"):
        modules = lesson_modules(mutants.CONFIG, lesson, paths.ROOT)
        assert modules and not any(m.endswith("__init__.py") or "/prepare_" in m or "/fit_" in m for m in modules)


def test_config_errors_name_the_problem(tmp_path):
    config = tmp_path / "mutants.yaml"
    config.write_text("l1_linalg: [impl/l1_linalg/svd.py]\nbad: [impl/nowhere.py]\n")
    with pytest.raises(ValueError, match="'l9' is not in"):
        lesson_modules(config, "l9", paths.ROOT)
    with pytest.raises(ValueError, match="not a Python file"):
        lesson_modules(config, "bad", paths.ROOT)
    with pytest.raises(FileNotFoundError, match="mutants config"):
        lesson_modules(tmp_path / "absent.yaml", "l1_linalg", paths.ROOT)


def test_sample_is_fixed_by_its_seed_and_spread_in_proportion():
    pool = _mutants({"a.py": 600, "b.py": 300, "c.py": 90, "d.py": 10})
    first = sample(pool, 30, seed=0)
    assert first == sample(list(reversed(pool)), 30, seed=0)  # input order does not matter
    assert first != sample(pool, 30, seed=1)
    assert len(set(first)) == 30
    per_module = Counter(m.module for m in first)
    assert per_module == {"a.py": 17, "b.py": 9, "c.py": 3, "d.py": 1}  # 1 each, then 26 by largest remainder
    assert sample(pool[:5], 30, seed=0) == sorted(pool[:5])  # fewer than N: all of them
    assert Counter(m.module for m in sample(pool, 2, seed=0)).total() == 2  # fewer than modules: no floor


def test_sample_refuses_bad_input():
    with pytest.raises(ValueError, match="n"):
        sample(_mutants({"a.py": 3}), 0, seed=0)
    with pytest.raises(ValueError, match="empty"):
        sample([], 3, seed=0)
    with pytest.raises(ValueError, match="distinct"):
        sample(_mutants({"a.py": 2}) * 2, 3, seed=0)


def _module(tmp_path: Path) -> str:
    (tmp_path / "impl").mkdir()
    (tmp_path / "impl" / "m.py").write_text("def f(x):\n    return x * 2 + 0\n")
    return "impl/m.py"


def test_equivalents_match_by_line_text_and_stale_entries_are_errors(tmp_path):
    module = _module(tmp_path)
    table = tmp_path / "equivalent_mutants.yaml"
    table.write_text(f"- module: {module}\n  operator: core/ReplaceBinaryOperator_Add_Sub\n"
                     "  before: return x * 2 + 0\n  after: return x * 2 - 0\n  reason: adding or subtracting 0\n")
    entries = equivalents(table, [module], tmp_path)
    survivor = Result(Mutant(module, 2, 11, "core/ReplaceBinaryOperator_Add_Sub", 0), "survived", 1.0,
                      "return x * 2 + 0", "return x * 2 - 0")
    assert match_equivalent(survivor, entries) == "adding or subtracting 0"
    other = Result(Mutant(module, 2, 11, "core/ReplaceBinaryOperator_Mul_Add", 0), "survived", 1.0,
                   "return x * 2 + 0", "return x + 2 + 0")
    assert match_equivalent(other, entries) is None
    assert equivalents(tmp_path / "none.yaml", [module], tmp_path) == []
    (tmp_path / module).write_text("def f(x):\n    return 2 * x\n")
    with pytest.raises(ValueError, match="no longer occurs"):
        equivalents(table, [module], tmp_path)
    table.write_text(f"- module: {module}\n  operator: core/X\n  before: return 2 * x\n  after: y\n")
    with pytest.raises(ValueError, match="exactly the keys"):
        equivalents(table, [module], tmp_path)


def test_kill_rate_leaves_out_equivalent_survivors_and_incompetent_runs():
    make = lambda i, outcome, eq=None: Result(Mutant("impl/m.py", i, 0, "core/X", i), outcome, 2.0,  # noqa: E731
                                              "a", "b", "--- diff", eq)
    results = ([make(i, "killed") for i in range(6)] + [make(6, "timed out"), make(7, "incompetent"),
               make(8, "survived"), make(9, "survived", "same value on every input")])
    summary = summarize("l0", results, n_mutants=100, seed=0, baseline_s=10.0, timeout_s=60.0, wall_s=30.0)
    assert (summary["killed"], summary["survived"], summary["timed_out"], summary["incompetent"],
            summary["equivalent"]) == (6, 2, 1, 1, 1)
    assert summary["kill_rate"] == round(7 / 8, 4)  # (6 killed + 1 timed out) / (7 + 1 survivor not equivalent)
    assert [s["line"] for s in summary["survivors"]] == [8]
    page = markdown(summary)
    assert "| 6 | 1 | 1 | 1 | 1 | 87.5% |" in page and "impl/m.py:8" in page and "same value on every input" in page
    with pytest.raises(ValueError, match="outcome"):
        make(0, "zapped")
    other = {**summary, "lesson": "l9", "kill_rate": None, "measured_on": "2026-12-07, abc1234-dirty"}
    table = overview([other, summary])
    rows = [line for line in table.splitlines() if line.startswith("| [")]
    assert rows == ["| [l0](mutants/l0.md) | 10 (100) | 6 | 1 | 1 | 1 | 87.5% | not recorded |",
                    "| [l9](mutants/l9.md) | 10 (100) | 6 | 1 | 1 | 1 | n/a | 2026-12-07, abc1234-dirty |"]
    assert "none measured" in overview([])


def test_timeout_and_command():
    assert mutants.timeout_for(10.0) == 60.0
    with pytest.raises(ValueError, match="baseline_s"):
        mutants.timeout_for(-1.0)
    command = mutants.test_command("l1_linalg")
    assert "specs/l1_linalg" in command and "--no-claim-results" in command and " -x " in command
    assert "'not slow and not perf and not gpu'" in command
