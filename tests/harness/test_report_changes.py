"""What changed: runs are told apart (legacy lines grouped), verdict flips and moved values are found
against the previous run and against a git revision, and each claim's trend follows its tightest check."""
import json

import pytest

from impl.harness.report.changes import NOISE_RULE, moved, since_commit, since_previous_run
from impl.harness.report.history import by_key, points_from_rows, read_points, run_order, runs_at_commit
from impl.harness.report.trend import Trend, claim_trend, sparkline
from tests.harness.test_report import _record


def _line(key, verdict, run=None, commit="c1", time="2024-01-01T00:00:00+00:00", **observed):
    row = {"key": key, "id": key.partition("[")[0], "verdict": verdict, "commit": commit, "dirty": False,
           "profile": "quick", "time": time, "observed": observed or {"y": 0.25}}
    if run:
        row["run"] = run
    return row


def test_legacy_lines_are_grouped_into_runs_by_commit_gap_and_repeated_key():
    rows = [_line("A", "holds", time="2024-01-01T00:00:00+00:00"), _line("B", "holds", time="2024-01-01T00:05:00+00:00"),
            _line("A", "holds", time="2024-01-01T00:06:00+00:00"),  # A again: a new session
            _line("B", "holds", time="2024-01-01T00:07:00+00:00", commit="c2"),  # another commit
            _line("C", "holds", time="2024-01-01T01:00:00+00:00", commit="c2"),  # 53 minutes later
            _line("A", "holds", run="20240102T000000Z-7")]
    runs = [p.run for p in points_from_rows(rows)]
    assert runs[:2] == ["20240101T000000Z-legacy"] * 2
    assert runs[2:] == ["20240101T000600Z-legacy", "20240101T000700Z-legacy", "20240101T010000Z-legacy",
                        "20240102T000000Z-7"]
    assert run_order(points_from_rows(rows), [{"run": "20231231T000000Z-1"}])[0] == "20231231T000000Z-1"


def test_a_torn_or_foreign_history_line_is_skipped(tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_text(json.dumps(_line("A", "holds")) + "\n[1, 2]\n" + '{"id": "A", "verd', encoding="utf-8")
    assert [p.key for p in read_points(path)] == ["A"] and read_points(tmp_path / "absent.jsonl") == []
    with pytest.raises(TypeError):
        points_from_rows([["not", "a", "mapping"]])
    with pytest.raises(ValueError):
        runs_at_commit([], "ab")


def test_the_noise_rule_is_relative_to_the_larger_of_old_and_limit():
    assert moved(1.0, 1.05) == "" and moved(1.0, 1.2) == "+20%"
    assert moved(1e-16, 3e-16, limit=1e-10) == ""  # round-off far under its tolerance is not news
    assert moved(0.0, 0.5, limit=0.2) == "+0.5"
    assert moved(10.0, 14.0, perf=True) == "" and moved(10.0, 16.0, perf=True) == "+60%"
    assert moved("a", "a") == "" and moved("a", "b") == "changed" and moved(True, False) == "changed"
    assert "10%" in NOISE_RULE and "50%" in NOISE_RULE


def _history(rows):
    points = points_from_rows(rows)
    order = run_order(points)
    return by_key(points, order), order


def test_changes_since_the_previous_run_sort_flips_and_moves():
    old, new = "20240101T000000Z-1", "20240102T000000Z-2"
    rows = [_line("A", "holds", old), _line("B", "refuted", old), _line("C", "holds", old, y=1.0),
            _line("D", "not run", old), _line("E", "holds", old),
            _line("A", "refuted", new), _line("B", "holds", new), _line("C", "holds", new, y=2.0),
            _line("D", "error", new), _line("E", "not run", new), _line("F", "holds", new)]
    history, order = _history(rows)
    records = {k: _record(k, "holds") for k in "ABCDEF"}
    changes = since_previous_run(history, order, new, records)
    assert [c.key for c in changes.newly_refuted] == ["A", "D"]  # an error no longer holds either
    assert [c.key for c in changes.newly_holding] == ["B"] and [c.key for c in changes.flipped] == ["E"]
    assert [(m.key, m.check, m.old, m.new, m.change) for m in changes.moved] == [("C", "y", "1", "2", "+100%")]
    assert changes.new_keys == ["F"] and changes.compared == 5
    assert changes.marks() == {"A": "newly refuted", "B": "newly holding", "C": "moved", "D": "newly refuted",
                               "E": "flipped"}
    first = since_previous_run(*_history(rows[:5]), old, records)
    assert first.note == "no earlier run of these claims in the history" and first.empty


def test_a_partial_latest_run_compares_only_its_claims_with_their_own_last_run():
    rows = [_line("A", "holds", "20240101T000000Z-1"), _line("B", "holds", "20240102T000000Z-2"),
            _line("A", "refuted", "20240103T000000Z-3")]
    changes = since_previous_run(*_history(rows), "20240103T000000Z-3", {})
    assert [c.key for c in changes.newly_refuted] == ["A"] and changes.compared == 1


def test_changes_since_a_commit_compare_todays_records_with_the_latest_verdicts_there():
    rows = [_line("L1.x.y", "refuted", "20240101T000000Z-1", commit="aaaa1111"),
            _line("L1.x.y", "holds", "20240102T000000Z-2", commit="bbbb2222", y=0.25),
            _line("L1.x.y", "holds", "20240103T000000Z-3", commit="cccc3333")]
    history, _ = _history(rows)
    records = {"L1.x.y": _record("L1.x.y", "holds")}
    since_a = since_commit(history, "aaaa1111", "v1", records)
    assert [c.key for c in since_a.newly_holding] == ["L1.x.y"] and since_a.title == "since v1"
    assert since_commit(history, "bbbb2222", "v2", records).empty
    missing = since_commit(history, "dddd4444", "v3", records)
    assert "no run in the history" in missing.note


def test_the_trend_follows_the_tightest_check_and_draws_the_same_bytes():
    record = _record("L1.x.y", "holds")  # y = 0.25 >= 0.2 is 25% from its limit, x = 1 <= 2 is 50%
    rows = [_line("L1.x.y", "holds", f"2024010{i}T000000Z-1", y=(20 + i) / 100, x=1.0) for i in range(1, 6)]
    points = by_key(points_from_rows(rows), run_order(points_from_rows(rows)))["L1.x.y"]
    trend = claim_trend(record, points)
    assert trend.check == "y" and trend.values == [0.21, 0.22, 0.23, 0.24, 0.25] and trend.limit == 0.2
    svg = sparkline(trend)
    assert svg == sparkline(claim_trend(record, points)) and svg.startswith("<svg") and 'class="limit"' in svg
    assert "y over 5 run(s): 0.21 -&gt; 0.25" in svg
    assert sparkline(Trend("y", [], [], None)) == ""
    assert claim_trend(_record("L1.x.y", "holds", checks=[]), points) is None
    with pytest.raises(TypeError):
        sparkline("not a trend")
