"""The index page as a reader gets it: overview first, what changed, filters and stable anchors, evidence
per claim; one self-contained file that asks for nothing over the network, stays light at 1,000 claims x
50 runs, and renders byte for byte the same from the same records."""
import json
import re
import time

from impl.harness import results
from impl.harness.report import html, markdown
from impl.harness.report.context import build_context
from impl.harness.report.figures import render_png
from impl.harness.report.history import read_points
from impl.harness.report.model import build, load_history
from tests.harness.test_report import HOSTILE, _record

RUN = {"run": "20240102T000000Z-2", "started": "2024-01-02T00:00:00+00:00", "wall_s": 61.0, "profile": "quick",
       "args": ["-m", "perf"], "git": {"commit": "bbbb2222", "dirty": False}, "exitstatus": 1, "workers": 0,
       "counts": {"holds": 1, "refuted": 1}, "lessons": ["l1_linalg"],
       "hardware": {"cpu_model": "Run CPU", "cpu_count": 2, "physical_cores": 1, "memory_gib": 3.5, "os": "Linux",
                    "python": "3.11.7", "threads": {"torch_intra_op": 2}}}


def _write_history(path, records_by_run):
    """records_by_run: [(run id, commit, [records])] -> history lines as the plugin appends them."""
    for run, commit, records in records_by_run:
        results.append_history([dict(r, run=run, git={"commit": commit, "dirty": False}) for r in records], path)
    return path


def _render(records, root, history_path, summaries=(), base=None, figures=None):
    lessons = build(records, root, load_history(history_path))
    context = build_context(lessons, records, root, read_points(history_path), list(summaries), base)
    if figures is None:
        figures = {f.file_name: render_png(f.spec) for lesson in lessons for c in lesson.claims for f in c.figures}
    return html.index_page(lessons, figures, [], context), [markdown.lesson_page(lesson) for lesson in lessons]


def _suite(tmp_path):
    spec = tmp_path / "specs" / "l1_linalg" / "test_x.py"
    spec.parent.mkdir(parents=True)
    spec.write_text("\n\ndef test_y():\n    pass\n", encoding="utf-8")
    (spec.parent / "claims.yaml").write_text("L1.x.y:\n  max_x: 2.0  # theory says 2\n"
                                             f"  min_y: 0.2  # {HOSTILE}\n", encoding="utf-8")
    records = {"L1.x.y": _record("L1.x.y", "holds", markers=["cpu", "perf"], flag="F30"),
               "L1.x.z": _record("L1.x.z", "refuted", markers=["gpu"], statement=HOSTILE)}
    old = [_record("L1.x.y", "holds", checks=[dict(c, observed=c["observed"] * 3) for c in records["L1.x.y"]["checks"]]),
           _record("L1.x.z", "holds")]
    history = _write_history(tmp_path / "history.jsonl", [("20240101T000000Z-1", "aaaa1111", old),
                                                          ("20240102T000000Z-2", "bbbb2222", list(records.values()))])
    return records, history


def test_the_page_opens_on_an_overview_then_what_changed_then_filters(tmp_path):
    records, history = _suite(tmp_path)
    page, _ = _render(records, tmp_path, history, [RUN], base=("aaaa1111", "v1.0"))
    overview, changes, filters, first_claim = (page.index(s) for s in (
        'id="overview"', 'id="changes"', 'id="filters"', 'class="lesson"'))
    assert overview < changes < filters < first_claim
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    for fact in ("61 s", "-m perf", "bbbb2222", "no (clean)", "Run CPU", "3.5 GiB", "torch_intra_op=2",
                 "not recorded", "1 holds", "1 refuted", 'style="width:50.0%"'):
        assert fact in page, fact
    assert "What changed since the previous run" in page and "What changed since v1.0" in page
    assert re.search(r'href="#L1.x.z">L1.x.z</a>: holds &rarr; refuted', page)  # newly refuted, linked
    assert "moved beyond the noise rule" in page and "Noise rule: a checked value moved when" in page
    assert "tightest = the first failing check, else the one with the smallest relative margin" in page


def test_each_claim_carries_its_filters_anchor_trend_and_evidence(tmp_path):
    records, history = _suite(tmp_path)
    page, _ = _render(records, tmp_path, history, [RUN])
    section = re.search(r'<section class="claim" id="L1.x.y"[^>]*>', page).group(0)
    for attribute in ('data-lesson="l1_linalg"', 'data-verdict="holds"', 'data-markers="cpu perf"',
                      'data-flag="F30"', 'data-change="moved"'):
        assert attribute in section, attribute
    assert 'data-markers="gpu"' in page and 'data-change="newly refuted"' in page
    assert '<a class="anchor" href="#L1.x.y"' in page and '<svg class="trend"' in page
    assert '<a href="../specs/l1_linalg/test_x.py"><code>specs/l1_linalg/test_x.py:3</code></a>' in page
    assert "<td>max_x</td><td>2</td><td>theory says 2</td>" in page
    assert "<td>data/prepared/mnist.npz</td><td>0123456789</td>" in page  # the artifact and its md5
    for control in ('id="f-lesson"', 'id="f-verdict"', 'id="f-marker"', 'id="f-flag"', 'id="f-change"',
                    'id="f-text"', '<option value="perf">', '<option value="f30">F30</option>'):
        assert control in page, control
    assert "<script>" in page and "&lt;script&gt;alert" in page and "<script>alert" not in page


def test_the_page_asks_for_nothing_over_the_network(tmp_path):
    records, history = _suite(tmp_path)
    page, _ = _render(records, tmp_path, history, [RUN])
    assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", page)
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', page))
    assert "Content-Security-Policy" in page and "default-src &#x27;none&#x27;" in page
    assert "@import" not in page and "url(" not in page and "fetch(" not in page and "XMLHttpRequest" not in page


def test_the_same_records_render_the_same_bytes(tmp_path):
    records, history = _suite(tmp_path)
    first = _render(records, tmp_path, history, [RUN], base=("aaaa1111", "v1.0"))
    reordered = dict(reversed(list(records.items())))  # dict order of the input must not matter
    time.sleep(1.1)  # nor the time of rendering
    second = _render(reordered, tmp_path, history, [RUN], base=("aaaa1111", "v1.0"))
    assert first[0].encode() == second[0].encode() and first[1] == second[1]
    assert "2024-01-02T00:00:00+00:00" in first[0]  # the run's own start is shown; the render time is not


def _synthetic(tmp_path, claims=1000, runs=50):
    """`claims` records over ten lessons, each with three checks, and `runs` full runs in the history."""
    records = {}
    for i in range(claims):
        key = f"L{i % 10}.topic{i // 100}.claim{i}"
        records[key] = _record(key, ("holds", "refuted", "not run")[i % 3], lesson_folder=f"l{i % 10}_lesson",
                               nodeid=f"specs/l{i % 10}_lesson/test_t.py::test_{i}", plots=[],
                               statement=f"Claim {i} holds within its band.\n\nCourse: lesson {i % 10}.",
                               checks=[{"name": f"c{j}", "observed": 1.0 + j, "op": "<=", "limit": 2.0 + j,
                                        "limit_name": f"max_c{j}", "ok": True} for j in range(3)])
    path = tmp_path / "history.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for run in range(runs):
            for key, record in records.items():
                line = results.history_line(dict(record, run=f"202401{run // 24 + 1:02d}T{run % 24:02d}0000Z-1"))
                line["observed"] = {name: value * (1 + (run % 7) / 50) for name, value in line["observed"].items()}
                out.write(json.dumps(line) + "\n")
    return records, path


def test_a_thousand_claims_with_fifty_runs_render_under_ten_megabytes_in_seconds(tmp_path):
    records, history = _synthetic(tmp_path)
    png = bytes(range(256)) * 36  # ~9 kB: today's average figure (93 palette PNGs, 844 kB)
    for i, record in enumerate(records.values()):
        if i % 9 < 4:  # today's suite: 93 figures for 206 claims
            record["plots"] = [dict(_record("a", "holds")["plots"][0], title=f"plot {i}")]
    lessons = build(records, tmp_path, load_history(history))
    figures = {f.file_name: png for lesson in lessons for c in lesson.claims for f in c.figures}
    started = time.perf_counter()
    page, pages = _render(records, tmp_path, history, [RUN], figures=figures)
    seconds = time.perf_counter() - started
    size = len(page.encode())
    assert page.count('<section class="claim"') == 1000 and page.count('<svg class="trend"') == 1000
    assert size < 10 * 2**20, f"{size / 2**20:.1f} MiB"
    assert seconds < 20, f"{seconds:.1f} s"
    print(f"synthetic 1000 claims x 50 runs: {size / 2**20:.2f} MiB in {seconds:.2f} s")


def test_the_report_command_compares_with_a_base_revision_and_refuses_an_unknown_one(tmp_path, monkeypatch, capsys):
    from impl import paths
    from impl.harness.report import __main__ as stage

    records, history = _suite(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    results.append_run(RUN, reports / paths.RUNS_FILE.name)
    monkeypatch.setattr(stage.results, "load", lambda: records)
    monkeypatch.setattr(paths, "REPORTS_DIR", reports)
    monkeypatch.setattr(paths, "HISTORY_FILE", history)
    assert stage.main(["--base", "aaaa1111"]) == 0  # not a commit of this clone: taken as a hash prefix
    page = (reports / "index.html").read_text(encoding="utf-8")
    assert "What changed since aaaa1111" in page and "-m perf" in page and 'id="f-text"' in page
    assert stage.main(["--base", "ffff9999"]) == 2
    assert "no run in" in capsys.readouterr().err
    assert stage.resolve_commit("HEAD", paths.ROOT) != "HEAD"  # a name git knows becomes its full hash


def test_hostile_strings_in_runs_history_markers_and_reasons_are_escaped(tmp_path):
    records, history = _suite(tmp_path)
    records["L1.x.y"].update(markers=[HOSTILE], flag=HOSTILE, versions={"torch": HOSTILE})
    hostile_run = dict(RUN, args=[HOSTILE], profile=HOSTILE, git={"commit": HOSTILE, "dirty": None},
                       hardware={"cpu_model": HOSTILE, "threads": {HOSTILE: HOSTILE}})
    with history.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"key": "L1.x.z", "id": "L1.x.z", "verdict": "holds", "run": HOSTILE, "commit": HOSTILE,
                              "observed": {"x": HOSTILE}, "time": HOSTILE}) + "\n")
    page, _ = _render(records, tmp_path, history, [hostile_run], base=(HOSTILE, HOSTILE))
    assert "<script>alert" not in page and page.count("<script>") == 1
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
