"""Multi-process work on a busy machine: past its budget it is stopped with everything it started and
says what it saw; no process is left behind. Tiny fake workers stand in for the real ones (they ignore
SIGTERM and leave a grandchild in a session of its own, as torchrun's workers and a JVM's children do)."""
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from impl import processes

FAKE_WORKER = textwrap.dedent('''
    import os, signal, subprocess, sys, time
    pids, log = sys.argv[1], sys.argv[2]
    stubborn = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    detached = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    with open(pids, "w") as fh:
        fh.write(f"{os.getpid()} {stubborn.pid} {detached.pid}")
    with open(log, "a") as fh:
        fh.write("loading data\\nstep 1 of 1000\\nwaiting for a peer that never comes\\n")
    sys.stdout.write("")
    time.sleep(600)
''')


def _start_fake(tmp_path: Path, name: str, *, stdout=None) -> tuple[subprocess.Popen, Path, Path]:
    pids, log = tmp_path / f"{name}.pids", tmp_path / f"{name}.log"
    process = subprocess.Popen([sys.executable, "-c", FAKE_WORKER, str(pids), str(log)], stdout=stdout, text=True)
    deadline = time.monotonic() + 30
    while not (pids.exists() and len(pids.read_text().split()) == 3):
        assert time.monotonic() < deadline and process.poll() is None, "the fake worker did not start"
        time.sleep(0.05)
    time.sleep(0.2)  # let the stubborn child install its SIGTERM handler
    return process, pids, log


def _pids(pids: Path) -> list[int]:
    return [int(pid) for pid in pids.read_text().split()]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_stop_tree_stops_a_stubborn_and_a_detached_descendant(tmp_path):
    process, pids, _ = _start_fake(tmp_path, "w")
    worker, stubborn, detached = _pids(pids)
    assert {stubborn, detached} <= set(processes.descendants(worker))
    began = time.monotonic()
    killed = processes.stop_tree(process, grace_s=1.0)
    assert killed == [stubborn]  # the others went on SIGTERM; the one ignoring it needed SIGKILL
    assert not any(_alive(pid) for pid in (worker, stubborn, detached))
    assert time.monotonic() - began < 10
    assert processes.stop_tree(process) == []  # stopping an exited process is a no-op


def test_naming_finds_a_process_by_its_arguments_until_it_is_gone(tmp_path):
    marker = str(tmp_path / "run-folder")
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", f"--out={marker}", "extra"])
    try:
        deadline = time.monotonic() + 10
        while process.pid not in processes.naming(marker, "extra") and time.monotonic() < deadline:
            time.sleep(0.05)  # its command line is the interpreter's until exec
        assert processes.naming(marker, "extra") == [process.pid]
        assert processes.naming(marker, "absent-argument") == []
    finally:
        processes.stop_tree(process, grace_s=1.0)
    assert processes.naming(marker) == []
    for bad in ((), ("",), ("a\0b",), (7,)):
        with pytest.raises(ValueError, match="naming needs"):
            processes.naming(*bad)


def test_stop_tree_rejects_what_is_not_a_process():
    with pytest.raises(TypeError, match="subprocess.Popen"):
        processes.stop_tree(1234)
    with pytest.raises(TypeError, match="subprocess.Popen"):
        processes.stop_trees("not a list")
    with pytest.raises(ValueError, match="grace_s"):
        processes.stop_tree(subprocess.Popen([sys.executable, "-c", "pass"]), grace_s=-1.0)


def test_make_tune_past_its_budget_stops_every_worker_and_shows_their_logs(tmp_path):
    """`make tune`'s coordinator (`tune._collect`) with two hung workers and a 1 s budget: BudgetExceeded
    within the budget plus the SIGTERM grace, naming both workers and their last log lines; every process of
    both workers, the detached grandchildren included, is gone."""
    from impl.l4_tuning import tune

    started = [_start_fake(tmp_path, f"w{k}", stdout=subprocess.PIPE) for k in range(2)]
    procs, logs = [p for p, _, _ in started], [log for _, _, log in started]
    everyone = [pid for _, pids, _ in started for pid in _pids(pids)]
    began = time.monotonic()
    with pytest.raises(processes.BudgetExceeded) as caught:
        tune._collect(procs, logs, timeout_s=1.0)
    elapsed = time.monotonic() - began
    message = str(caught.value)
    assert "within 1 s" in message and "workers [0, 1]" in message
    assert message.count("waiting for a peer that never comes") == 2 and str(logs[1]) in message
    assert not [pid for pid in everyone if _alive(pid)]
    assert elapsed < 1.0 + 5.0 + 5.0  # budget, one shared 5 s SIGTERM grace, margin


def test_make_tune_with_a_failed_worker_stops_the_others(tmp_path):
    from impl.l4_tuning import tune

    failed_log = tmp_path / "failed.log"
    failed_log.write_text("Traceback ...\nRuntimeError: CUDA out of memory\n")
    failed = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"], stdout=subprocess.PIPE, text=True)
    hung, pids, log = _start_fake(tmp_path, "hung", stdout=subprocess.PIPE)
    with pytest.raises(RuntimeError, match="worker 0 exited 3") as caught:
        tune._collect([failed, hung], [failed_log, log], timeout_s=None)
    assert "CUDA out of memory" in str(caught.value)
    assert not [pid for pid in _pids(pids) if _alive(pid)]


@pytest.mark.slow  # starts torchrun and two torch workers (~20 s of both cores); runs the real kill path
def test_torchrun_past_its_budget_is_stopped_with_a_diagnosis_and_leaves_nothing(tmp_path):
    """L6's `ddp.launch` with a budget far too short for its steps: RuntimeError naming the budget and the
    node log, within the budget plus the stack-dump wait and the kill; no launcher or worker survives."""
    from impl.l6_bigdata import ddp

    out = tmp_path / "ddp"
    began = time.monotonic()
    with pytest.raises(RuntimeError, match="did not finish within 8 s") as caught:
        ddp.launch(out, nproc=2, steps=100_000, timeout_s=8.0)
    assert time.monotonic() - began < 8.0 + 30.0
    assert "node 0 log (tail)" in str(caught.value)
    assert processes.naming(str(out)) == []
