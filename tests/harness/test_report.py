"""The report renders every record, escapes what it shows and needs no network."""
import re

from impl.harness.report import html, markdown, readme
from impl.harness.report.figures import render_png
from impl.harness.report.model import group

HOSTILE = '<script>alert("x")</script> | pipe'


def _record(key, verdict, **extra):
    record = {
        "key": key, "id": key.partition("[")[0], "nodeid": "specs/l1_linalg/test_x.py::test_y",
        "lesson": "L1", "lesson_folder": "l1_linalg", "statement": HOSTILE, "verdict": verdict,
        "message": HOSTILE, "markers": ["cpu"], "observed": {"x": 1.0, "nested": {"ratio": 2.0}},
        "checks": [{"name": "x", "observed": 1.0, "op": "<=", "limit": 2.0, "limit_name": "max_x", "ok": True}],
        "thresholds": {"max_x": 2.0},
        "plots": [{"title": "t", "x": [1, 2], "series": {"s": [1.0, 2.0]}, "xlabel": "", "ylabel": "",
                   "kind": "line", "logx": False, "logy": False, "hline": 1.5}],
        "seeds": [0], "artifacts": {}, "profile": "quick", "duration_s": 0.1,
        "hardware": {"cpu_model": "cpu", "cpu_count": 2, "cpu_flags": [], "gpus": None},
        "git": {"commit": "abc", "dirty": False}, "versions": {"numpy": "2"}, "timestamp": "t",
    }
    record.update(extra)
    return record


def test_worst_verdict_wins_and_pages_escape(tmp_path):
    records = {k: _record(k, v) for k, v in [("L1.x.y[0]", "holds"), ("L1.x.y[1]", "refuted")]}
    lessons = group(records, tmp_path)
    assert lessons[0].claims[0].verdict == "refuted" and lessons[0].claims[0].pass_fraction == (1, 2)
    figures = {("L1.x.y", 0): render_png(records["L1.x.y[0]"]["plots"][0])}
    page = html.index_page(lessons, figures, [])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the page must not fetch anything"
    assert "data:image/png;base64," in page
    md = markdown.lesson_page(lessons[0])
    assert "<script>" not in md and "L1.x.y" in md
    assert "| measured | ratio |" in md and "| nested | 2 |" in md  # nested summaries become a table


def test_readme_section_replacement():
    text = "a\n<!-- BEGIN GENERATED: claims -->\nold\n<!-- END GENERATED: claims -->\nb"
    assert "new" in readme.replace_section(text, "claims", "new")
    assert "old" not in readme.replace_section(text, "claims", "new")
