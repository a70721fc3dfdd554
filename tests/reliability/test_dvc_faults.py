"""Faults in the pipeline: `dvc repro` killed in the middle of a stage, and a damaged DVC cache file.

Both run in throw-away DVC projects (tests/reliability/dvc_project.py), a few seconds each."""
import os
import signal
import subprocess
import sys
import time

import yaml

from impl.digests import file_md5
from tests.reliability.dvc_project import dvc, make_project

TRAIN = "impl/l9_slow/dvc.yaml:train"
OUTS = ["data/models/l9_slow/model.json", "data/models/l9_slow/log.txt"]


def _locked_outs(root) -> dict:
    lock = yaml.safe_load((root / "impl/l9_slow/dvc.lock").read_text())
    return {out["path"]: out["md5"] for out in lock["stages"]["train"]["outs"]}


def _clean_run(root) -> tuple[dict, dict]:
    env = make_project(root)
    done = dvc(root, env, "repro", TRAIN)
    assert done.returncode == 0, done.stdout + done.stderr
    return {rel: file_md5(root / rel) for rel in OUTS}, _locked_outs(root)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead too
        return fh.read().split(") ", 1)[1][0] != "Z"


def test_a_repro_killed_mid_stage_recovers_to_a_clean_runs_outputs(tmp_path):
    """SIGKILL to `dvc repro`'s process group while the stage is at step 3 of 8 (its log half written, its
    model not yet): no DVC process survives, the lock of the killed run does not block the next `dvc repro`,
    which re-runs the stage (DVC 3.67 drops the dead process from its rwlock by itself), and every output and dvc.lock hash equals a clean run's."""
    clean_files, clean_lock = _clean_run(tmp_path / "clean")
    root = tmp_path / "killed"
    env = make_project(root)
    marker = tmp_path / "under-way"
    started = subprocess.Popen([sys.executable, "-m", "dvc", "repro", TRAIN], cwd=root,
                               env=dict(env, SLOW_STAGE_DELAY_S="2", SLOW_STAGE_MARKER=str(marker)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert started.poll() is None and time.monotonic() < deadline, "the stage never got under way"
        time.sleep(0.05)
    stage_pid = int(marker.read_text())
    os.killpg(started.pid, signal.SIGKILL)  # what a CI timeout, a closed terminal or `kill -9 -PGID` does
    assert started.wait(timeout=30) == -signal.SIGKILL
    for _ in range(100):
        if not _alive(stage_pid):
            break
        time.sleep(0.05)
    assert not _alive(stage_pid), "the stage outlived its killed group"
    log = (root / OUTS[1]).read_text()
    assert 0 < log.count("\n") < 8 and not (root / OUTS[0]).exists()  # killed mid-way, as intended
    assert not (root / "impl/l9_slow/dvc.lock").exists()  # nothing half-done was recorded

    began = time.monotonic()
    again = dvc(root, env, "repro", TRAIN, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Running stage '{TRAIN}'" in again.stdout
    assert "had been killed. Auto removed it from the lock file" in again.stderr  # DVC 3.67 clears the stale rwlock
    assert time.monotonic() - began < 60  # no wait on a stale lock
    assert {rel: file_md5(root / rel) for rel in OUTS} == clean_files
    assert _locked_outs(root) == clean_lock
    assert "up to date" in dvc(root, env, "status", TRAIN).stdout


def _damage(path) -> None:
    """Flip one byte in place, keeping size and mtime: bit rot, which DVC's mtime/size state cannot see."""
    st = path.stat()
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.chmod(path, st.st_mode)


def test_dvc_itself_serves_a_damaged_cache_file(tmp_path):
    """Why the project checks outputs itself: with one cache object damaged, `dvc checkout` restores the
    damaged bytes and exits 0, and `dvc status` then says up to date."""
    clean_files, clean_lock = _clean_run(tmp_path)
    from impl.pipeline import integrity

    assert clean_lock[OUTS[0]] == clean_files[OUTS[0]]
    _damage(integrity.object_path(tmp_path / ".dvc" / "cache", clean_files[OUTS[0]]))
    (tmp_path / OUTS[0]).unlink()
    done = dvc(tmp_path, os.environ | {"DVC_NO_ANALYTICS": "1"}, "checkout", TRAIN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert file_md5(tmp_path / OUTS[0]) != clean_files[OUTS[0]]  # served, damaged
    assert "up to date" in dvc(tmp_path, os.environ | {"DVC_NO_ANALYTICS": "1"}, "status", TRAIN).stdout


REQUIRE = ("import json, sys; from impl.pipeline import artifacts; "
           "path = artifacts.require(sys.argv[1]); print(json.dumps(sorted(artifacts._INTACT)))")


def test_a_damaged_cache_file_is_detected_and_rebuilt_never_served(tmp_path):
    """`artifacts.require`, as a spec calls it, after one cache object is damaged (size and mtime kept) and
    the workspace copy deleted (a fresh checkout): it finds the damaged copy DVC restored, discards it and
    the damaged object, rebuilds the stage and hands over a file with the clean run's bytes; the cache then
    holds a sound object. Inside a DVC stage (DVC holds the repo lock) a damaged copy is refused instead."""
    clean_files, _ = _clean_run(tmp_path)
    from impl.pipeline import integrity

    cache = tmp_path / ".dvc" / "cache"
    rel = OUTS[0]
    md5 = clean_files[rel]
    _damage(integrity.object_path(cache, md5))
    (tmp_path / rel).unlink()
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    env.pop("DVC_STAGE", None)
    done = subprocess.run([sys.executable, "-c", REQUIRE, rel], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{rel} differs from dvc.lock" in done.stderr and "rebuilding" in done.stderr
    assert file_md5(tmp_path / rel) == md5
    assert file_md5(integrity.object_path(cache, md5)) == md5  # the cache holds a sound object again
    assert integrity.check_all(tmp_path) == {}

    inside = subprocess.run([sys.executable, "-c", REQUIRE, rel], cwd=tmp_path, env=dict(env, DVC_STAGE="x"),
                            capture_output=True, text=True, timeout=60)
    assert inside.returncode == 0  # intact now: also accepted inside a stage
    _damage(tmp_path / rel)  # a damaged workspace copy inside a stage is refused, not rebuilt (DVC holds the lock)
    inside = subprocess.run([sys.executable, "-c", REQUIRE, rel], cwd=tmp_path, env=dict(env, DVC_STAGE="x"),
                            capture_output=True, text=True, timeout=60)
    assert inside.returncode != 0 and "python -m impl.pipeline.integrity --discard" in inside.stderr


def test_the_integrity_command_finds_and_discards_a_damaged_folder_output(tmp_path):
    root = tmp_path
    env = make_project(root)
    (root / "impl/l9_slow/dvc.yaml").write_text(
        (root / "impl/l9_slow/dvc.yaml").read_text().replace(
            "outs: [data/models/l9_slow/model.json, data/models/l9_slow/log.txt]", "outs: [data/models/l9_slow]"))
    done = dvc(root, env, "repro", TRAIN)
    assert done.returncode == 0, done.stdout + done.stderr
    from impl.pipeline import integrity

    clean = file_md5(root / OUTS[1])
    _damage(integrity.object_path(root / ".dvc" / "cache", clean))
    (root / OUTS[1]).unlink()
    assert dvc(root, env, "checkout", TRAIN).returncode == 0  # DVC restores the damaged bytes
    found = integrity.check_all(root)
    assert list(found) == ["data/models/l9_slow"] and found["data/models/l9_slow"][0].path == root / OUTS[1]
    command = subprocess.run([sys.executable, "-m", "impl.pipeline.integrity", "--discard"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=60)
    assert command.returncode == 1 and "log.txt" in command.stderr and "removed" in command.stderr
    assert not (root / "data/models/l9_slow").exists()
    again = dvc(root, env, "repro", TRAIN)
    assert again.returncode == 0 and f"Running stage '{TRAIN}'" in again.stdout, again.stdout + again.stderr
    assert file_md5(root / OUTS[1]) == clean and integrity.check_all(root) == {}
