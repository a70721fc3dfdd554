"""`specs/renamed.yaml`: every old id is gone from the specs, every new id is a claim, and the history recorded
under an old id reads as the claim's own (`impl.harness.renames`)."""
import json

import pytest

from impl import paths
from impl.harness import ids, renames
from impl.harness.report.history import read_points
from impl.harness.report.model import load_history
from impl.harness.spec_claims import claims_in


def _live_ids() -> set[str]:
    return {ids.claim_id(path.relative_to(paths.ROOT).as_posix(), claim.name)
            for path in paths.SPECS_DIR.glob("*/test_*.py") for claim in claims_in(path)}


def test_every_rename_leads_to_a_claim_and_no_old_id_is_left():
    renamed, live = renames.load(paths.ROOT), _live_ids()
    assert renamed, "specs/renamed.yaml lists the renames of issue 20"
    assert sorted(set(renamed.values()) - live) == []
    assert sorted(set(renamed) & live) == []


def _write(tmp_path, text: str):
    (tmp_path / "specs").mkdir(exist_ok=True)
    (tmp_path / renames.FILE).write_text(text)
    return tmp_path


def test_chains_are_followed_and_case_keys_keep_their_case(tmp_path):
    renamed = renames.load(_write(tmp_path, "L8.q.pareto: L8.quant.pareto\nL8.quant.pareto: L8.quantization.pareto\n"))
    assert renamed == {"L8.q.pareto": "L8.quantization.pareto", "L8.quant.pareto": "L8.quantization.pareto"}
    assert renames.current("L8.q.pareto[seed=3]", renamed) == "L8.quantization.pareto[seed=3]"
    assert renames.current("L8.serve.load", renamed) == "L8.serve.load"
    assert renames.load(tmp_path / "elsewhere") == {}


@pytest.mark.parametrize("text, message", [
    ("L8.a.b: L8.c.d\nL8.c.d: L8.a.b\n", "in a circle"),
    ("L8.a.b: L7.a.b\n", "another lesson"),
    ("L8.a: L8.b.c\n", "is not a claim id"),
    ("L8.a.b: 3\n", "is not a claim id"),
    ("- L8.a.b\n", "must be a mapping"),
])
def test_a_broken_rename_file_is_refused(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        renames.load(_write(tmp_path, text))


def test_history_under_an_old_id_counts_for_the_claim_now(tmp_path):
    lines = [{"id": "L8.q.pareto", "key": "L8.q.pareto", "verdict": "refuted", "run": "20261201T000000Z-1",
              "commit": "a"},
             {"id": "L8.quantization.pareto", "key": "L8.quantization.pareto", "verdict": "holds",
              "run": "20261202T000000Z-2", "commit": "b"}]
    history = tmp_path / "history.jsonl"
    history.write_text("".join(json.dumps(line) + "\n" for line in lines))
    renamed = {"L8.q.pareto": "L8.quantization.pareto"}
    assert [e.verdict for e in load_history(history, renamed)["L8.quantization.pareto"]] == ["refuted", "holds"]
    assert {p.id for p in read_points(history, renamed)} == {"L8.quantization.pareto"}
    assert {p.key for p in read_points(history)} == {"L8.q.pareto", "L8.quantization.pareto"}  # without the map


def test_current_rejects_what_is_not_a_key_or_a_map():
    with pytest.raises(TypeError):
        renames.current(3, {})
    with pytest.raises(TypeError):
        renames.current("L8.a.b", [("L8.a.b", "L8.c.d")])
