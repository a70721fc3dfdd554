"""Adding a lesson touches its two folders only: a tiny lesson, built in a temp copy of the
project's shared parts, goes through `dvc repro` and the report render to its own report page."""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from impl import paths
from impl.pipeline import closure, stages

SHARED = [*sorted(path.relative_to(paths.ROOT).as_posix() for path in (paths.ROOT / "impl").glob("*.py")),
          "impl/harness", "impl/pipeline", "conftest.py", "pyproject.toml", "params.yaml", "dvc.yaml", "requirements.lock",
          "specs/__init__.py", "specs/renamed.yaml", ".dvcignore"]

LESSON = {  # everything a new lesson adds, in its two folders
    "impl/l9_tiny/__init__.py": '"""Lesson 9: a tiny lesson."""\n',
    "impl/l9_tiny/params.yaml": "square:\n  x: 3\n",
    "impl/l9_tiny/arithmetic.py": '''
        """What the lesson teaches."""
        from impl.checks import as_float

        __all__ = ["square"]


        def square(x: float) -> float:
            """x times x."""
            return as_float(x, "x") ** 2
    ''',
    "impl/l9_tiny/fit.py": '''
        """DVC stage `fit`: writes data/models/l9_tiny/square.json."""
        import json
        import sys
        from pathlib import Path

        from impl.atomic import atomic_write_text
        from impl.l9_tiny import arithmetic
        from impl.pipeline.stages import stage_main

        __all__ = []
        TINY_KNOBS = {}


        def run(knobs, out_dir):
            value = arithmetic.square(knobs["x"])
            atomic_write_text(Path(out_dir) / "square.json", json.dumps({"x": knobs["x"], "square": value}))
            return {"square": value}


        main = stage_main(run, "l9_tiny", "square")

        if __name__ == "__main__":
            sys.exit(main())
    ''',
    # Only what is the lesson's own: `python -m impl.pipeline.closure --write` adds every shared file its code
    # imports (the test below runs it, as a newcomer would), one line per file.
    "impl/l9_tiny/dvc.yaml": '''
        stages:
          fit:
            cmd: python -m impl.l9_tiny.fit
            wdir: ../..
            deps:
              - impl/l9_tiny/fit.py
            params:
              - impl/l9_tiny/params.yaml: [square]
            outs: [data/models/l9_tiny/square.json]
            metrics:
              - data/metrics/l9_tiny/fit.json:
                  cache: false
          verify:
            cmd: python -m impl.pipeline.verify l9_tiny
            wdir: ../..
            deps:
              - conftest.py
              - data/models/l9_tiny/square.json
              - pyproject.toml
              - requirements.lock
              - specs/l9_tiny
            params:
              - params.yaml: [profile, seed]
            outs:
              - reports/verified/l9_tiny.json:
                  cache: false
    ''',
    "specs/l9_tiny/__init__.py": '"""Lesson 9: a tiny lesson."""\n',
    "specs/l9_tiny/claims.yaml": "L9.arithmetic.square:\n  tol: 0.0  # exact in float64\n",
    "specs/l9_tiny/test_arithmetic.py": '''
        import json

        import pytest

        from impl.l9_tiny import arithmetic
        from impl.pipeline import artifacts


        @pytest.mark.cpu
        def test_square(claim):
            """The fitted square of 3 is 9, and the stage wrote what the function computes."""
            fitted = json.loads(artifacts.require("data/models/l9_tiny/square.json").read_text())
            claim.expect("error", abs(fitted["square"] - 9.0), "<=", "tol")
            claim.expect("stage_vs_function", fitted["square"], "==", arithmetic.square(fitted["x"]))
    ''',
}


@pytest.fixture
def project(tmp_path):
    for rel in SHARED:
        source, target = paths.ROOT / rel, tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target)
    for rel, text in LESSON.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text).lstrip())
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    env.pop("DVC_STAGE", None)
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=tmp_path, check=True, env=env)
    return tmp_path, env


def test_a_new_lesson_reaches_its_report_page(project):
    root, env = project
    written = subprocess.run([sys.executable, "-m", "impl.pipeline.closure", "--write"], cwd=root, env=env,
                             capture_output=True, text=True)
    assert written.returncode == 0, written.stdout[-3000:] + written.stderr[-3000:]
    assert "impl/l9_tiny/dvc.yaml:verify: added" in written.stdout and "impl/harness/plugin.py" in written.stdout
    for stage in stages.all_stages(root):
        assert closure.uncovered(stage, root) == [], stage.address
    done = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    page = (root / "reports" / "lessons" / "l9_tiny.md").read_text()
    assert "L9.arithmetic.square" in page and "holds" in page
    assert "data/models/l9_tiny/square.json" in page  # the artifact and its hash are on the page
    again = subprocess.run([sys.executable, "-m", "dvc", "status"], cwd=root, env=env, capture_output=True, text=True)
    assert "up to date" in again.stdout, again.stdout  # a second `dvc repro` would do nothing
