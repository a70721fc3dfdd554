"""The report renders every record from one model, shows the same facts in HTML and
Markdown, escapes what it shows, needs no network and shows verdict flips."""
import dataclasses
import json
import re
from html import escape

from impl.harness import results
from impl.harness.report import html, markdown, readme
from impl.harness.report.figures import render_png
from impl.harness.report.model import build, load_history

HOSTILE = '<script>alert("x")</script> | pipe'
MD5 = "0123456789abcdef0123456789abcdef"


def _record(key, verdict, **extra):
    record = {
        "key": key, "id": key.partition("[")[0], "nodeid": "specs/l1_linalg/test_x.py::test_y",
        "lesson": "L1", "lesson_folder": "l1_linalg", "statement": "The claim.\n\nCourse: L1.", "verdict": verdict,
        "message": "AssertionError: x too big", "markers": ["cpu"],
        "observed": {"x": 1.0, "y": 0.25, "steps": 12000, "nested": {"ratio": 2.0, "cv": 0.01}},
        "checks": [{"name": "x", "observed": 1.0, "op": "<=", "limit": 2.0, "limit_name": "max_x", "ok": True},
                   {"name": "y", "observed": 0.25, "op": ">=", "limit": 0.2, "limit_name": "min_y", "ok": True}],
        "thresholds": {"max_x": 2.0, "min_y": 0.2},
        "plots": [{"title": "loss per step", "x": [1, 2], "series": {"s": [1.0, 2.0]}, "xlabel": "", "ylabel": "",
                   "kind": "line", "logx": False, "logy": False, "hline": 1.5}],
        "seeds": [0], "artifacts": {"data/prepared/mnist.npz": MD5}, "profile": "quick", "duration_s": 0.1,
        "hardware": {"cpu_model": "Test CPU", "cpu_count": 2, "cpu_flags": ["avx2"], "gpus": None},
        "git": {"commit": "abcdef0123456", "dirty": False}, "versions": {"numpy": "2.1.0"},
        "timestamp": "2024-01-01T00:00:00+00:00",
    }
    record.update(extra)
    return record


def _pages(records, tmp_path, history=None):
    lessons = build(records, tmp_path, history)
    figures = {f.file_name: render_png(f.spec) for lesson in lessons for c in lesson.claims for f in c.figures}
    return lessons, html.index_page(lessons, figures, []), markdown.lesson_page(lessons[0])


def _shown_texts(view, path=()):
    """Every text a page must show, walking the model (leaves of the dataclasses + display properties)."""
    # Not shown on purpose: the plot spec (rendered as the figure), the full md5 (its prefix
    # is shown), the raw history entries (shown as `history_line`), the detail host's id (shown in
    # the `hosts` rows, which exist only when several hosts ran the claim).
    hidden = {"spec", "md5", "history", "host"}
    if dataclasses.is_dataclass(view):
        for name in ("badge", "history_line", "counts_line", "md5_short", "page"):
            if hasattr(view, name) and getattr(view, name):
                yield path + (name,), getattr(view, name)
        for f in dataclasses.fields(view):
            if f.name not in hidden:
                yield from _shown_texts(getattr(view, f.name), path + (f.name,))
    elif isinstance(view, (list, tuple)):
        for i, item in enumerate(view):
            yield from _shown_texts(item, path + (i,))
    elif isinstance(view, str) and view:
        yield path, view


def test_html_and_markdown_show_the_same_facts_from_one_model(tmp_path):
    records = {"L1.x.y": _record("L1.x.y", "holds"), "L1.x.z": _record("L1.x.z", "refuted", seeds=[3, 4])}
    stage = tmp_path / "data" / "metrics" / "l1_linalg" / "fit_mf.json"  # a stage summary, shown per lesson
    stage.parent.mkdir(parents=True)
    stage.write_text(json.dumps({"error_over_optimum": 1.00002, "profile": "quick"}))
    timing = tmp_path / "data" / "timings" / "l1_linalg" / "fit_mf.json"  # its wall time and CPU kind, per machine
    timing.parent.mkdir(parents=True)
    timing.write_text(json.dumps({"wall_seconds": 1.5, "cpu_model": "Stage CPU", "cpu_flags": "avx2", "profile": "quick"}))
    lessons, page, md = _pages(records, tmp_path)
    assert lessons[0].stages == [["fit_mf", "error_over_optimum = 1", "1.5", "Stage CPU (avx2)"]]
    texts = list(_shown_texts(lessons[0]))
    assert len(texts) > 40
    for where, text in texts:
        if where[-1] == "page":  # the index links the Markdown page; the page is itself
            assert escape(text) in page
            continue
        for line in text.splitlines():
            assert escape(line) in page, (where, line)
            assert markdown.block(line) in md or markdown.cell(line) in md, (where, line)
    for fact in (MD5[:10], "[3, 4]", "max_x", "min_y", "data/prepared/mnist.npz", "12,000", "numpy 2.1.0",
                 "Test CPU", "abcdef0123", "y = 0.25 &gt;= min_y = 0.2 (ok)"):
        assert fact in page and fact in md, fact
    assert "figures/L1_x_y-0-loss-per-step.png" in page and "../figures/L1_x_y-0-loss-per-step.png" in md
    assert MD5 not in page and MD5 not in md


def test_worst_verdict_wins_and_runs_are_listed(tmp_path):
    records = {k: _record(k, v, seeds=[i]) for i, (k, v) in enumerate([("L1.x.y[0]", "holds"),
                                                                       ("L1.x.y[1]", "refuted")])}
    lessons, page, md = _pages(records, tmp_path)
    claim = lessons[0].claims[0]
    assert claim.verdict == "refuted" and (claim.held, claim.ran) == (1, 2) and claim.seeds == "[0, 1]"
    assert "1/2 hold" in page and "1/2 hold" in md and "L1.x.y[1]" in page and "L1.x.y[1]" in md
    assert "| measured | ratio | cv |" in md and "| nested | 2 | 0.01 |" in md  # nested summaries as a table


def test_every_string_is_escaped(tmp_path):
    hostile_check = {"name": HOSTILE, "observed": HOSTILE, "op": "==", "limit": HOSTILE, "ok": False}
    record = _record("L1.x.y", "refuted", statement=HOSTILE, message=HOSTILE,
                     nodeid=f"specs/l1_linalg/t.py::t[{HOSTILE}]",
                     checks=[hostile_check], observed={HOSTILE: HOSTILE, "n": {HOSTILE: 1.0}},
                     artifacts={HOSTILE: HOSTILE}, profile=HOSTILE, timestamp=HOSTILE, versions={HOSTILE: HOSTILE},
                     hardware={"cpu_model": HOSTILE, "cpu_count": 2, "cpu_flags": [HOSTILE], "gpus": [HOSTILE]},
                     git={"commit": HOSTILE}, plots=[dict(_record("a", "holds")["plots"][0], title=HOSTILE)])
    history = {"L1.x.y": load_history(_history_file(tmp_path, ["holds", "refuted"], commit=HOSTILE))["L1.x.y"]}
    lessons, page, md = _pages({"L1.x.y": record}, tmp_path, history)
    assert "history:" in page and "history:" in md
    for text in (page, md):
        assert "<script>" not in text and "&lt;script&gt;" in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the page must not fetch anything"
    assert "data:image/png;base64," in page
    for line in md.splitlines():  # a pipe inside a cell must not add a column
        if line.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", line)) in (4 + 1, 3 + 1, 2 + 1), line


def _history_file(tmp_path, verdicts, commit="abc", key="L1.x.y", profile="quick"):
    """History lines as the results writer appends them, one run per verdict."""
    path = tmp_path / "history.jsonl"
    results.append_history([_record(key, verdict, git={"commit": f"{commit}{i:04d}", "dirty": False},
                                    profile=profile, timestamp=f"2024-01-01T00:00:{i:02d}")
                            for i, verdict in enumerate(verdicts)], path)
    return path


def test_a_verdict_flip_is_shown_in_both_pages(tmp_path):
    path = _history_file(tmp_path, ["holds"] * 12 + ["refuted", "holds"])
    with path.open("a", encoding="utf-8") as out:
        out.write('{"id": "L1.x.y", "verd')  # a writer killed mid-line must not break the report
    history = load_history(path)
    assert len(history["L1.x.y"]) == 10  # only recent runs
    lessons, page, md = _pages({"L1.x.y": _record("L1.x.y", "holds")}, tmp_path, history)
    line = "holds ×8 -&gt; refuted @ abc0012 -&gt; holds @ abc0013"
    assert lessons[0].claims[0].history_line.startswith("holds ×8 -> refuted")
    assert line in page and line in md


def test_no_history_or_a_steady_one_shows_no_flip(tmp_path):
    assert load_history(tmp_path / "absent.jsonl") == {}
    steady = load_history(_history_file(tmp_path, ["holds", "holds"]))
    lessons, page, md = _pages({"L1.x.y": _record("L1.x.y", "holds")}, tmp_path, steady)
    assert lessons[0].claims[0].history_line == "" and "history:" not in page and "history:" not in md


def test_a_flip_names_a_profile_change(tmp_path):
    _history_file(tmp_path, ["holds"], profile="quick")
    history = load_history(_history_file(tmp_path, ["refuted"], profile="full"))
    lessons, _, _ = _pages({"L1.x.y": _record("L1.x.y", "refuted")}, tmp_path, history)
    assert lessons[0].claims[0].history_line == "holds -> refuted @ abc0000, profile full"


def test_flips_of_a_parametrized_claim_are_shown_per_case_and_id_only_lines_are_read(tmp_path):
    _history_file(tmp_path, ["holds", "holds"], key="L1.x.y[0]")
    history = load_history(_history_file(tmp_path, ["holds", "refuted"], key="L1.x.y[1]"))
    records = {k: _record(k, v) for k, v in [("L1.x.y[0]", "holds"), ("L1.x.y[1]", "refuted")]}
    lessons, _, _ = _pages(records, tmp_path, history)
    assert lessons[0].claims[0].history_line == "L1.x.y[1]: holds -> refuted @ abc0001"
    path = tmp_path / "by_id.jsonl"  # lines that name only the claim id
    path.write_text("".join(json.dumps({"id": "L1.x.z", "verdict": v, "commit": c, "profile": "quick",
                                        "hardware": "h", "time": "t"}) + "\n"
                            for v, c in [("refuted", "1111111"), ("holds", "2222222")]), encoding="utf-8")
    lessons, _, _ = _pages({"L1.x.z": _record("L1.x.z", "holds")}, tmp_path, load_history(path))
    assert lessons[0].claims[0].history_line == "refuted -> holds @ 2222222"


def test_the_report_stage_writes_the_layout(tmp_path, monkeypatch):
    from impl import paths
    from impl.harness.report import __main__ as stage

    records = {"L1.x.y": _record("L1.x.y", "holds")}
    monkeypatch.setattr(stage.results, "load", lambda: records)
    monkeypatch.setattr(paths, "REPORTS_DIR", tmp_path)
    monkeypatch.setattr(paths, "HISTORY_FILE", _history_file(tmp_path, ["refuted", "holds"]))
    (tmp_path / "l1_linalg.md").write_text("old layout")
    (tmp_path / "datasets.md").write_text("cards")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "stale.png").write_bytes(b"")
    assert stage.main([]) == 0
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["L1_x_y-0-loss-per-step.png"]
    assert not (tmp_path / "l1_linalg.md").exists()
    md = (tmp_path / "lessons" / "l1_linalg.md").read_text(encoding="utf-8")
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "refuted -&gt; holds" in md and "refuted -&gt; holds" in page
    assert 'href="datasets.md"' in page and 'href="lessons/l1_linalg.md"' in page
    monkeypatch.setattr(stage.results, "load", lambda: {})
    assert stage.main([]) == 1


def test_readme_claims_table_and_section_replacement(tmp_path):
    lessons = build({"L1.x.y": _record("L1.x.y", "refuted", statement=HOSTILE)}, tmp_path)
    table = readme.claims_table(lessons)
    assert "REFUTED" in table and "<script>" not in table and "`specs/l1_linalg/test_x.py::test_y`" in table
    text = "a\n<!-- BEGIN GENERATED: claims -->\nold\n<!-- END GENERATED: claims -->\nb"
    assert "new" in readme.replace_section(text, "claims", "new")
    assert "old" not in readme.replace_section(text, "claims", "new")


def test_flagged_claims_are_paired_side_by_side_with_the_lesson_introduction(tmp_path):
    init = tmp_path / "specs" / "l1_linalg" / "__init__.py"
    init.parent.mkdir(parents=True)
    init.write_text('"""Lesson 1: a title.\n\nThe question this lesson answers.\n"""\n')
    records = {
        "L1.x.as_noted": _record("L1.x.as_noted", "known refuted", flag="F30", expected_refuted=True,
                                 statement="One update per epoch.\n\nCourse: notes."),
        "L1.x.per_batch": _record("L1.x.per_batch", "holds", flag="F30", expected_refuted=False,
                                  statement="One update per batch."),
        "L1.x.other": _record("L1.x.other", "holds"),
    }
    lessons, page, md = _pages(records, tmp_path)
    (pair,) = lessons[0].corrections
    assert (pair.flag, [c.id for c in pair.as_stated], [c.id for c in pair.measured]) == \
        ("F30", ["L1.x.as_noted"], ["L1.x.per_batch"])
    assert lessons[0].title == "Lesson 1: a title." and lessons[0].introduction == "The question this lesson answers."
    row = [line for line in md.splitlines() if line.startswith("| F30 |")]
    assert len(row) == 1 and row[0].index("L1.x.as_noted") < row[0].index("L1.x.per_batch")
    assert "Course: notes" not in row[0]  # the gist is the statement's first paragraph
    assert "<td>F30</td>" in page and "The question this lesson answers." in page and "The question" in md
