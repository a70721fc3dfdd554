"""Stages build side by side, each once (impl/pipeline/artifacts.py), in a throw-away DVC project.

Its lesson has three stages: `base`, and `left` and `right`, which both read base's output. Two processes
ask at once for left's and right's outputs, as two xdist workers do for two lessons."""
import json
import subprocess
import sys
import textwrap

from tests.reliability.dvc_project import make_project

STEP = '''
    """DVC stage: note its start beside the outputs' folder, sleep, write its output, note when it ran."""
    import json
    import os
    import sys
    import time
    from pathlib import Path


    def main() -> int:
        name, seconds = sys.argv[1], float(sys.argv[2])
        journal = Path(os.environ["STEP_JOURNAL"])
        (journal.parent / f"{name}.started").touch()
        begin = time.time()
        time.sleep(seconds)
        out = Path("data/models/l9_pair")
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.txt").write_text(name)
        with open(journal, "a") as handle:
            handle.write(json.dumps({"stage": name, "begin": begin, "end": time.time()}) + "\\n")
        return 0


    if __name__ == "__main__":
        sys.exit(main())
'''

PAIR_DVC = '''
    stages:
      base:
        cmd: python -m impl.l9_pair.step base 1
        wdir: ../..
        deps: [impl/l9_pair/step.py]
        outs: [data/models/l9_pair/base.txt]
      left:
        cmd: python -m impl.l9_pair.step left 4
        wdir: ../..
        deps: [impl/l9_pair/step.py, data/models/l9_pair/base.txt]
        outs: [data/models/l9_pair/left.txt]
      right:
        cmd: python -m impl.l9_pair.step right 4
        wdir: ../..
        deps: [impl/l9_pair/step.py, data/models/l9_pair/base.txt]
        outs: [data/models/l9_pair/right.txt]
'''

REQUIRE = "import sys; from impl.pipeline import artifacts; artifacts.require(sys.argv[1])"
SETTLE = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from impl.pipeline import artifacts
    started = Path(sys.argv[1])
    while not started.exists():
        time.sleep(0.02)
    with artifacts.builds_settled():
        print(time.time())
''')


def test_two_processes_build_independent_stages_at_once_and_a_shared_one_once(tmp_path):
    """Asked at once for left's and right's outputs, two processes build `base` once (the second waits for
    it, then finds it up to date), then left and right at the same time; `builds_settled` waits until no
    build is half-way; both outputs are recorded in dvc.lock."""
    root = tmp_path / "project"
    env = make_project(root)
    for rel, text in {"impl/l9_pair/__init__.py": '"""Lesson 9: two stages on one."""\n',
                      "impl/l9_pair/step.py": STEP, "impl/l9_pair/dvc.yaml": PAIR_DVC}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    journal = tmp_path / "journal" / "runs.jsonl"
    journal.parent.mkdir()
    env = dict(env, STEP_JOURNAL=str(journal))
    workers = [subprocess.Popen([sys.executable, "-c", REQUIRE, f"data/models/l9_pair/{side}.txt"], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for side in ("left", "right")]
    settle = subprocess.Popen([sys.executable, "-c", SETTLE, str(journal.parent / "left.started")], cwd=root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed = []
    try:
        for process in (*workers, settle):
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, out + err
            printed.append(out)
    finally:  # a hung or failed run leaves no process behind
        for process in (*workers, settle):
            if process.poll() is None:
                process.kill()
                process.wait()
    runs = {}
    for line in journal.read_text().splitlines():
        run = json.loads(line)
        assert run["stage"] not in runs, f"{run['stage']} was built twice"
        runs[run["stage"]] = run
    assert set(runs) == {"base", "left", "right"}
    left, right, base = runs["left"], runs["right"], runs["base"]
    assert min(left["begin"], right["begin"]) >= base["end"], "a stage started before the stage it reads was built"
    overlap = min(left["end"], right["end"]) - max(left["begin"], right["begin"])
    assert overlap > 2.0, f"left and right overlapped {overlap:.2f} s of their 4 s: they were built one after the other"
    settled_at = float(printed[-1].strip().splitlines()[-1])
    assert settled_at >= left["end"], "builds_settled() let a check in while left was half-built"
    lock = (root / "impl/l9_pair/dvc.lock").read_text()
    assert all(f"data/models/l9_pair/{name}.txt" in lock for name in ("base", "left", "right")), lock
