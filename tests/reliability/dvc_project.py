"""A throw-away DVC project for the fault specs: the project's shared code plus one tiny lesson whose
`train` stage writes a log line by line (not atomically) and a model atomically at the end, pausing
`SLOW_STAGE_DELAY_S` seconds after each step and touching `SLOW_STAGE_MARKER` once it is under way."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.harness.test_new_lesson import LESSON, SHARED

SLOW_LESSON = {
    "impl/l9_slow/__init__.py": '"""Lesson 9: a slow stage."""\n',
    "impl/l9_slow/train.py": '''
        """DVC stage `train`: 8 steps, a log line per step, the model written atomically at the end."""
        import json
        import os
        import sys
        import time
        from pathlib import Path

        from impl.atomic import atomic_write_text

        STEPS = 8


        def main() -> int:
            out = Path("data/models/l9_slow")
            out.mkdir(parents=True, exist_ok=True)
            delay = float(os.environ.get("SLOW_STAGE_DELAY_S", "0"))
            weights = []
            with open(out / "log.txt", "w") as log:
                for step in range(STEPS):
                    weights.append((step * 7919) % 101 / 101)
                    log.write(f"step {step} weight {weights[-1]:.6f}\\n")
                    log.flush()
                    if step == 2 and os.environ.get("SLOW_STAGE_MARKER"):
                        Path(os.environ["SLOW_STAGE_MARKER"]).write_text(str(os.getpid()))
                    time.sleep(delay)
            atomic_write_text(out / "model.json", json.dumps({"weights": weights}, sort_keys=True))
            return 0


        if __name__ == "__main__":
            sys.exit(main())
    ''',
    "impl/l9_slow/dvc.yaml": '''
        stages:
          train:
            cmd: python -m impl.l9_slow.train
            wdir: ../..
            deps: [impl/__init__.py, impl/atomic.py, impl/l9_slow/__init__.py, impl/l9_slow/train.py]
            outs: [data/models/l9_slow/model.json, data/models/l9_slow/log.txt]
    ''',
}


def make_project(root: Path, *, with_tiny_lesson: bool = False) -> dict:
    """Copy the shared parts and the slow lesson (and test_new_lesson's tiny lesson) into `root`,
    `dvc init` it; returns the environment to run DVC in (its own local cache under root/.dvc/cache)."""
    import shutil

    from impl import paths

    for rel in SHARED:
        source, target = paths.ROOT / rel, root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target)
    files = {**SLOW_LESSON, **(LESSON if with_tiny_lesson else {})}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    for name in ("DVC_STAGE", "SLOW_STAGE_DELAY_S", "SLOW_STAGE_MARKER"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=root, check=True, env=env)
    return env


def dvc(root: Path, env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout)
