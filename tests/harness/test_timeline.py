"""The run timeline: rows measured per item, and a summary that says where the time went."""
import json

import pytest

from impl.harness import timeline


def _row(nodeid, worker, start, end, cpu, perf=False):
    return {"nodeid": nodeid, "worker": worker, "start": start, "end": end, "cpu_s": cpu, "perf": perf}


ROWS = [_row("a", "gw0", 100.0, 150.0, 49.0), _row("b", "gw1", 100.0, 130.0, 2.0),  # b waited 28 s
        _row("c", "gw1", 140.0, 160.0, 20.0), _row("p", "gw0", 160.0, 200.0, 38.0, perf=True)]


def test_the_summary_names_the_phases_the_workers_and_the_waiters():
    text = timeline.summarize(ROWS, cores=2, top=2)
    assert "run: 100 s over 2 worker(s), 4 items, 109 CPU-s" in text
    assert "before the perf phase: 60 s, 71 CPU-s (59% of the cores)" in text
    assert "perf phase: 40 s, 1 items" in text
    assert "gw1: 2 items, busy 50 s, CPU 22 s, gaps between items 10 s, from +0 s to +60 s" in text
    waited = text.split("waited longest")[1].splitlines()[1]
    assert waited.split()[0] == "28.0" and waited.endswith(" b")


def test_read_round_trips_and_names_a_bad_line(tmp_path):
    path = tmp_path / timeline.FILE_NAME
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    assert timeline.read(path) == ROWS
    path.write_text(json.dumps(ROWS[0]) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"timeline.jsonl:2: not JSON"):
        timeline.read(path)
    path.write_text(json.dumps(_row("x", "gw0", 5.0, 4.0, 0.0)) + "\n")
    with pytest.raises(ValueError, match=r":1: ends before it starts"):
        timeline.read(path)
    with pytest.raises(ValueError, match="does not exist"):
        timeline.read(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("rows, cores, message", [([], 2, "empty"), (ROWS, 0, "cores"), (ROWS, True, "cores")])
def test_summarize_rejects_bad_input(rows, cores, message):
    with pytest.raises(ValueError, match=message):
        timeline.summarize(rows, cores=cores)

