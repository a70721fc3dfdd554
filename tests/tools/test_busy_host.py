"""`make test-busy-host`: which items it chooses, what it counts as left behind, and one real run."""
import os
import subprocess
import sys
import time

import pytest

import impl.l6_bigdata.ddp as ddp  # a launcher module reached through a global name (the first case below)
from impl import processes
from impl.tools import busy_host


def _names_ddp():
    return ddp


def _local_import():
    from impl.l8_production import client
    return client


def _dotted_import():
    import impl.l4_tuning.postgres
    return impl.l4_tuning.postgres


def _through_a_helper():
    return _names_ddp()


def _nested():
    def inner():
        from impl.l6_bigdata import cluster
        return cluster
    return inner


def _none():
    from impl.l6_bigdata import frames
    return frames, sys


@pytest.mark.parametrize("function, expected", [
    (_names_ddp, {"torchrun"}),
    (_local_import, {"HTTP server"}),
    (_dotted_import, {"PostgreSQL"}),
    (_through_a_helper, {"torchrun"}),
    (_nested, {"Spark standalone cluster"}),
    (_none, set()),
])
def test_a_launcher_is_found_however_the_code_names_it(function, expected):
    assert busy_host.launchers_named(function) == expected


def test_launchers_named_refuses_what_is_not_a_function():
    for bad in (None, len, "ddp", busy_host):
        with pytest.raises(TypeError, match="needs a Python function"):
            busy_host.launchers_named(bad)


def test_a_marked_process_started_after_the_snapshot_is_left_behind_until_it_is_gone():
    before = busy_host.live_pids()
    marker = "CLAIMS_BUSY_HOST_RUN=test-1"
    env = dict(os.environ, CLAIMS_BUSY_HOST_RUN="test-1")
    stray = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "stray-marker"], env=env,
                             start_new_session=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # not the run's: not counted
    try:
        found = busy_host.left_behind(before, marker, settle_s=0.0)
        assert list(found) == [stray.pid] and "stray-marker" in found[stray.pid]
        assert busy_host.left_behind(before, "CLAIMS_BUSY_HOST_RUN=another", settle_s=0.0) == {}
    finally:
        processes.stop_trees([stray, other], grace_s=1.0)
    assert busy_host.left_behind(before, marker, settle_s=1.0) == {}
    with pytest.raises(TypeError, match="set of pids"):
        busy_host.left_behind([1, 2], marker)
    for bad in ("", "NAME", "=value", "A=b\0c", None):
        with pytest.raises(ValueError, match="NAME=value"):
            busy_host.left_behind(set(), bad)
    with pytest.raises(ValueError):
        busy_host.left_behind(set(), marker, settle_s=-1)


def test_hogs_spin_and_stop():
    hogs = busy_host.start_hogs(1)
    try:
        time.sleep(0.5)
        ticks = int(open(f"/proc/{hogs[0].pid}/stat").read().rsplit(")", 1)[1].split()[11])
        assert ticks > 0  # user CPU ticks: it spins
    finally:
        processes.stop_trees(hogs, grace_s=2.0)
    assert hogs[0].poll() is not None
    with pytest.raises(ValueError):
        busy_host.start_hogs(-1)


def test_the_report_is_clean_only_without_failures_leftovers_or_a_timeout():
    rows = [{"nodeid": "a::x", "outcome": "passed", "seconds": 1.0, "launchers": ["torchrun"], "message": ""},
            {"nodeid": "a::y", "outcome": "skipped", "seconds": 0.0, "launchers": ["PostgreSQL"], "message": "no pg"}]
    text, clean = busy_host.table(rows, {"a::x": "holds"}, {}, hogs=2, wall_s=3.0, timed_out=False)
    assert clean and "| `a::x` | torchrun | passed | 1.0 | holds |" in text and "left behind: 0; clean" in text
    assert not busy_host.table(rows, {}, {42: "java -jar x"}, hogs=2, wall_s=3.0, timed_out=False)[1]
    assert not busy_host.table(rows, {}, {}, hogs=2, wall_s=3.0, timed_out=True)[1]
    failed = [dict(rows[0], outcome="failed", message="TimeoutError: worker not seen | in 300 s")]
    text, clean = busy_host.table(failed, {}, {}, hogs=2, wall_s=3.0, timed_out=False)
    assert not clean and "worker not seen \\| in 300 s" in text


def test_one_real_run_beside_a_hog_chooses_only_launcher_items_and_reports_them(tmp_path):
    out = tmp_path / "busy-host.md"
    status = busy_host.main(["--hogs", "1", "--timeout-min", "5", "--out", str(out), "--",
                             "tests/tools/test_tune.py::test_unknown_knobs_and_too_many_workers_are_refused",
                             "tests/tools/test_busy_host.py::test_launchers_named_refuses_what_is_not_a_function"])
    text = out.read_text()
    assert status == 0, text
    assert "test_unknown_knobs_and_too_many_workers_are_refused` | make tune's workers | passed" in text
    assert "test_launchers_named_refuses" not in text  # names no launcher: not chosen
    assert "outcomes: passed 1; left behind: 0; clean" in text
