"""Several machines, one report: merging another checkout's verdicts is commutative, associative and
idempotent; a claim run on two hosts shows both verdicts side by side and counts once; bad inputs are
refused with an error naming the file. No second machine here: two record sets with distinct hardware
panels stand in for a CPU box and a GPU box."""
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl import paths
from impl.harness import results
from impl.harness.report import html, markdown, merge
from impl.harness.report.context import build_context
from impl.harness.report.history import read_points
from impl.harness.report.hosts import Hosts, across_hosts, host_id
from impl.harness.report.model import build, load_history
from impl.harness.verdicts import VERDICTS
from tests.harness.test_report import _record

CPU_BOX = {"cpu_model": "AMD EPYC", "cpu_count": 2, "cpu_flags": ["avx2"], "machine": "x86_64", "memory_gib": 7.8,
           "gpus": None}
GPU_BOX = {"cpu_model": "Intel Xeon Platinum", "cpu_count": 16, "cpu_flags": ["avx2", "avx512f"], "machine": "x86_64",
           "memory_gib": 125.8, "gpus": None}
SAME_CPU_BIGGER = dict(CPU_BOX, cpu_count=16, memory_gib=125.8)  # same CPU model, another machine
RUNS = ["20240101T000000Z-7", "20240102T000000Z-7", "20240103T000000Z-1"]
KEYS = ["L1.x.y", "L1.x.z[cpu]", "L1.x.z[cuda]"]


# -- the merge as a join ----------------------------------------------------------------------------------------------
@st.composite
def record_sets(draw):
    records = []
    for _ in range(draw(st.integers(0, 6))):
        hardware = dict(draw(st.sampled_from([CPU_BOX, GPU_BOX, SAME_CPU_BIGGER])),
                        gpus=draw(st.sampled_from([None, [], ["NVIDIA H100"]])))  # never part of the host's id
        records.append(_record(draw(st.sampled_from(KEYS)), draw(st.sampled_from(VERDICTS)), hardware=hardware,
                               run=draw(st.sampled_from([None, *RUNS])), message=draw(st.sampled_from(["a", "b"])),
                               timestamp=draw(st.sampled_from(["2024-01-01T00:00:00+00:00", "2024-01-02T00:00:00+00:00"]))))
    history = tuple(json.dumps(results.history_line(r), sort_keys=True) for r in records if draw(st.booleans()))
    runs = tuple(json.dumps({"run": r["run"], "hardware": r["hardware"]}, sort_keys=True) for r in records if r["run"])
    return merge.RecordSet(merge.latest(records), tuple(dict.fromkeys(history)), tuple(dict.fromkeys(runs)))


@settings(max_examples=200)
@given(record_sets(), record_sets(), record_sets())
def test_merging_is_commutative_associative_and_idempotent(a, b, c):
    assert merge.merge(a, b).canonical() == merge.merge(b, a).canonical()
    assert merge.merge(merge.merge(a, b), c).canonical() == merge.merge(a, merge.merge(b, c)).canonical()
    assert merge.merge(a, a).canonical() == a.canonical()
    assert merge.merge(merge.merge(a, b), b).canonical() == merge.merge(a, b).canonical()  # re-import: no-op


def _write(reports: Path, recordset: merge.RecordSet) -> Path:
    """A reports folder as a checkout that ran (or imported) these records would hold."""
    store = reports / merge.IMPORTED
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps({"schema": merge.IMPORTED_SCHEMA, "records": {
        f"{key}@{host}": r for (host, key), r in recordset.records.items()}}), encoding="utf-8")
    (reports / "history.jsonl").write_text("".join(line + "\n" for line in recordset.history), encoding="utf-8")
    (reports / "runs.jsonl").write_text("".join(line + "\n" for line in recordset.runs), encoding="utf-8")
    return reports


def _state(reports: Path, root: Path):
    view = merge.load_view({}, reports, root)
    lines = {p.name: frozenset((reports / p.name).read_text().splitlines()) if (reports / p.name).is_file() else
             frozenset() for p in (paths.HISTORY_FILE, paths.RUNS_FILE)}
    return json.dumps(view, sort_keys=True), lines


@settings(max_examples=25)
@given(record_sets(), record_sets())
def test_importing_in_either_order_and_again_leaves_the_same_reports(a, b):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spec = tmp / "specs" / "l1_linalg" / "test_x.py"
        spec.parent.mkdir(parents=True)
        spec.write_text("def test_y():\n    pass\n")
        sources = [_write(tmp / name, rs) for name, rs in (("a", a), ("b", b)) if rs.records or rs.history or rs.runs]
        states = []
        for order in (sources, sources[::-1]):
            target = tmp / f"target{len(states)}"
            target.mkdir()
            for source in order:
                merge.import_reports(merge.read_reports(source), target)
            before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file() and p.suffix != ".lock"}
            for source in order:  # a re-import changes nothing, not one byte
                assert set(merge.import_reports(merge.read_reports(source), target).values()) == {0}
            assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file() and p.suffix != ".lock"} == before
            states.append(_state(target, tmp))
        assert states[0] == states[1]


def test_a_later_run_replaces_a_claims_records_on_its_own_host_only():
    old = [_record("L1.x.z[cpu]", "holds", run=RUNS[0], hardware=CPU_BOX),
           _record("L1.x.z[cuda]", "not run", run=RUNS[0], hardware=CPU_BOX),
           _record("L1.x.z[cuda]", "holds", run=RUNS[0], hardware=GPU_BOX)]
    new = [_record("L1.x.z[cpu]", "refuted", run=RUNS[1], hardware=CPU_BOX)]  # `-k cpu` on the CPU box
    kept = merge.latest(old + new)
    assert sorted((host, key, r["verdict"]) for (host, key), r in kept.items()) == sorted([
        (host_id(CPU_BOX), "L1.x.z[cpu]", "refuted"), (host_id(GPU_BOX), "L1.x.z[cuda]", "holds")])
    assert host_id(CPU_BOX) != host_id(SAME_CPU_BIGGER) != host_id(GPU_BOX)
    assert host_id(dict(GPU_BOX, gpus=["NVIDIA H100"], os="other kernel")) == host_id(GPU_BOX)


def test_across_hosts_a_claim_is_its_worst_judged_verdict():
    assert across_hosts(["not run", "holds"]) == "holds"
    assert across_hosts(["holds", "refuted", "not run"]) == "refuted"
    assert across_hosts(["not run", "not run"]) == "not run"
    assert across_hosts(["known refuted", "holds"]) == "known refuted"
    with pytest.raises(ValueError, match="verdicts"):
        across_hosts([])
    with pytest.raises(ValueError, match="verdicts"):
        across_hosts(["passed"])


# -- the round trip: a CPU box and a GPU box ------------------------------------------------------------------------
def _checkout(root: Path, hardware: dict, run: str, verdicts: dict[str, str], gpus=None, extra=None) -> Path:
    """A checkout's reports/ after one pytest run on a machine with `hardware`, written as the plugin writes."""
    spec = root / "specs" / "l1_linalg" / "test_x.py"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text("def test_y():\n    pass\n")
    reports = root / "reports"
    records = [_record(key, verdict, run=run, hardware=dict(hardware, gpus=gpus if "cuda" in key else None),
                       git={"commit": "c0ffee" + run[6:8], "dirty": False}, timestamp=run[:4] + "-01-0" + run[7] +
                       "T00:00:00+00:00", **(extra or {}).get(key, {})) for key, verdict in verdicts.items()]
    results.merge(records, reports / "results", root=root)
    results.append_history(records, reports / paths.HISTORY_FILE.name)
    results.append_run({"run": run, "hardware": dict(hardware, gpus=gpus)}, reports / paths.RUNS_FILE.name)
    return reports


def _page(root: Path) -> tuple[str, str, list]:
    reports = root / "reports"
    records = merge.load_view(results.load(reports / "results"), reports, root)
    summaries = results.load_runs(reports / paths.RUNS_FILE.name)
    lessons = build(records, root, load_history(reports / "history.jsonl"), hosts=Hosts(records.values(), summaries))
    context = build_context(lessons, records, root, read_points(reports / "history.jsonl"), summaries)
    figures = {f.file_name: b"png" for lesson in lessons for c in lesson.claims for f in c.figures}
    return html.index_page(lessons, figures, [], context), markdown.lesson_page(lessons[0]), lessons


def _two_boxes(tmp_path: Path) -> tuple[Path, Path]:
    cpu = tmp_path / "cpu"
    _checkout(cpu, CPU_BOX, RUNS[0], {"L1.x.y": "holds", "L1.x.z[cpu]": "holds", "L1.x.z[cuda]": "holds"})
    _checkout(cpu, CPU_BOX, RUNS[1], {"L1.x.y": "holds", "L1.x.z[cpu]": "holds", "L1.x.z[cuda]": "not run"})
    gpu = tmp_path / "gpu"  # `make test PYTEST_ARGS="-m gpu"` there; then tar czf of its reports/
    _checkout(gpu, GPU_BOX, RUNS[2], {"L1.x.z[cpu]": "refuted", "L1.x.z[cuda]": "holds"}, gpus=["NVIDIA H100"])
    tarball = tmp_path / "gpu-reports.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(gpu / "reports", arcname="reports")
    return cpu, tarball


def test_the_round_trip_shows_both_hosts_side_by_side_and_counts_each_claim_once(tmp_path):
    cpu, tarball = _two_boxes(tmp_path)
    _, _, alone = _page(cpu)
    assert [(c.id, c.verdict, c.hosts) for c in alone[0].claims] == [("L1.x.y", "holds", []), ("L1.x.z", "not run", [])]
    counts = merge.import_reports(merge.read_reports(tarball), cpu / "reports")
    assert counts == {"records": 2, "history lines": 2, "runs": 1}
    page, md, lessons = _page(cpu)
    y, z = lessons[0].claims
    assert (y.verdict, y.hosts) == ("holds", [])  # ran on one host only: no side-by-side rows
    assert z.verdict == "refuted"  # its cpu case refuted on the GPU box: the worst judged verdict across hosts
    assert [(v.host, v.verdict) for v in z.hosts] == [(host_id(GPU_BOX), "refuted"), (host_id(CPU_BOX), "not run")]
    assert z.hosts[0].label == "Intel Xeon Platinum, 16 cores, 125.8 GiB; GPU: NVIDIA H100"
    assert z.hosts[1].label == "AMD EPYC, 2 cores, 7.8 GiB"
    for text in (page, md):
        assert "On 2 hosts" in text and "Intel Xeon Platinum, 16 cores, 125.8 GiB; GPU: NVIDIA H100" in text
        assert f"AMD EPYC, 2 cores, 7.8 GiB ({host_id(CPU_BOX)})" in text
    assert lessons[0].counts() == {"error": 0, "refuted": 1, "known refuted": 0, "not run": 0, "holds": 1}
    assert "2 hosts ran claims" in page and f"host {host_id(GPU_BOX)}" in page
    # "since the previous run" stays on the latest run's host: the GPU box ran once, so nothing to compare
    assert "no earlier run of these claims in the history" in page
    # the card's history is its detail host's: the CPU box's holds -> not run flip is not the GPU box's
    assert z.history_line == ""
    reports = cpu / "reports"
    records = merge.load_view(results.load(reports / "results"), reports, cpu)
    since = build_context(lessons, records, cpu, read_points(reports / "history.jsonl"), [], ("c0ffee01", "v1")).changes[1]
    cuda = f"L1.x.z[cuda] @ {host_id(CPU_BOX)}"  # each host's records against that host's runs at the commit
    assert [(c.key, c.old, c.new) for c in since.flipped] == [(cuda, "holds", "not run")]
    assert sorted(since.new_keys) == sorted(f"{k} @ {host_id(GPU_BOX)}" for k in ("L1.x.z[cpu]", "L1.x.z[cuda]"))
    again = merge.import_reports(merge.read_reports(tarball), cpu / "reports")
    assert again == {"records": 0, "history lines": 0, "runs": 0}
    assert _page(cpu)[:2] == (page, md)  # same records -> byte-identical pages


def test_a_gpu_claim_not_run_on_the_cpu_box_and_held_on_the_gpu_box_counts_as_held(tmp_path):
    cpu = tmp_path / "cpu"
    skipped = {"checks": [], "message": "no GPU found (torch.cuda and jax report none)"}
    _checkout(cpu, CPU_BOX, RUNS[0], {"L1.x.z[cuda]": "not run", "L1.x.z[cpu]": "holds"}, extra={"L1.x.z[cuda]": skipped})
    gpu = tmp_path / "gpu"
    failing = [{"name": "speedup", "observed": 0.5, "op": ">=", "limit": 1.0, "limit_name": "min_speedup", "ok": False}]
    _checkout(gpu, GPU_BOX, RUNS[1], {"L1.x.z[cuda]": "holds"}, gpus=["NVIDIA H100"])
    merge.import_reports(merge.read_reports(gpu), cpu / "reports")  # a checkout folder works as well as reports/
    _, _, lessons = _page(cpu)
    (claim,) = lessons[0].claims
    assert claim.verdict == "holds" and [v.verdict for v in claim.hosts] == ["holds", "not run"]
    assert claim.runs == [] and claim.message == "AssertionError: x too big"  # the GPU box's single record in detail
    assert claim.hosts[1].summary == skipped["message"]  # the row of a host that skipped it says why
    _checkout(gpu, GPU_BOX, RUNS[2], {"L1.x.z[cuda]": "refuted"}, gpus=["NVIDIA H100"], extra={
        "L1.x.z[cuda]": {"checks": failing}})
    merge.import_reports(merge.read_reports(gpu), cpu / "reports")
    (claim,) = _page(cpu)[2][0].claims
    assert claim.verdict == "refuted" and claim.hosts[0].verdict == "refuted"
    assert claim.hosts[0].summary == "speedup = 0.5 >= min_speedup = 1 (FAILED)"  # what refuted it there


def test_the_page_does_not_depend_on_the_order_machines_were_imported(tmp_path):
    cpu, tarball = _two_boxes(tmp_path)
    third = tmp_path / "third"
    _checkout(third, SAME_CPU_BIGGER, RUNS[1], {"L1.x.y": "refuted"})
    pages = []
    for name, order in (("one", [tarball, third]), ("two", [third, tarball, third])):
        target = tmp_path / name
        shutil.copytree(cpu, target)
        for source in order:
            merge.import_reports(merge.read_reports(source), target / "reports")
        pages.append(_page(target)[:2])
    assert pages[0] == pages[1]
    assert "On 2 hosts" in pages[0][0] and "L1.x.y" in pages[0][0]


# -- bad input ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, text, message", [
    ("results/l1_linalg.json", "{not json", "results/l1_linalg.json: not JSON"),
    ("results/l1_linalg.json", json.dumps({"schema": 1, "claims": {}}), "not a results file of schema 2"),
    ("results/l1_linalg.json", json.dumps({"schema": 2, "claims": {"k": {"key": "k"}}}), "has no str field 'id'"),
    ("results/l1_linalg.json", json.dumps({"schema": 2, "claims": {"k": _record("L1.x.y", "passed")}}),
     "unknown verdict 'passed'"),
    ("history.jsonl", '{"id": "L1.x.y", "verdict": "holds"}\n[1, 2]\n', "history.jsonl:2: a line must be"),
    ("runs.jsonl", '{"started": "today"}\n', "runs.jsonl:1: a line must be a JSON object with run"),
])
def test_a_corrupt_or_foreign_input_is_refused_naming_the_file(tmp_path, name, text, message):
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text)
    with pytest.raises(merge.BadReports, match=message) as raised:
        merge.read_reports(tmp_path)
    assert str(tmp_path) in str(raised.value)


def test_what_is_not_a_reports_folder_is_refused(tmp_path, capsys):
    with pytest.raises(merge.BadReports, match="no such folder or tarball"):
        merge.read_reports(tmp_path / "absent")
    with pytest.raises(merge.BadReports, match="not a reports folder"):
        merge.read_reports(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(merge.BadReports, match="notes.txt: not a readable tarball"):
        merge.read_reports(tmp_path / "notes.txt")
    two = tmp_path / "two.tar"
    with tarfile.open(two, "w") as tar:
        for folder in ("a", "b"):
            (tmp_path / folder).mkdir()
            (tmp_path / folder / "runs.jsonl").write_text('{"run": "r"}\n')
            tar.add(tmp_path / folder / "runs.jsonl", arcname=f"{folder}/runs.jsonl")
    with pytest.raises(merge.BadReports, match="holds 2 reports folders"):
        merge.read_reports(two)
    assert merge.main([str(tmp_path / "notes.txt")]) == 2
    assert "import: " in capsys.readouterr().err
    with pytest.raises(TypeError):
        merge.merge(merge.RecordSet({}), {})
    with pytest.raises(TypeError):
        merge.import_reports({}, tmp_path)
    with pytest.raises(TypeError):
        merge.load_view([], tmp_path)


def test_the_command_imports_a_tarball_and_says_what_changed(tmp_path, monkeypatch, capsys):
    cpu, tarball = _two_boxes(tmp_path)
    monkeypatch.setattr(paths, "REPORTS_DIR", cpu / "reports")
    assert merge.main([str(tarball)]) == 0
    assert "import: 2 record(s) shown anew (added or replacing older ones), 2 history line(s) and 1 run line(s)" in capsys.readouterr().out
    assert merge.main([str(tarball)]) == 0
    assert "import: 0 record(s) shown anew (added or replacing older ones), 0 history line(s) and 0 run line(s)" in capsys.readouterr().out
