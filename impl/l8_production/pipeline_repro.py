"""The lesson's DVC pipeline in a throw-away project: reproducibility checked from the outside.

A spec cannot run `dvc repro` on this project from inside it (a `verify` stage holds DVC's repo
lock), and should not rebuild the real artifacts to test a property of the pipeline. `build_project`
copies what the lesson's five stages import (the shared `impl` modules, the data loaders, Lessons 3, 5
and 8) plus the prepared MNIST file into an empty folder, with the lesson's dvc.yaml (its `verify`
stage dropped), a one-stage data dvc.yaml and lock for the MNIST file, and smaller knobs; then
`dvc init --no-scm`. `dvc` runs the DVC CLI there, and `stages_run` reads which stages ran.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from impl.checks import as_bool, as_instance, as_path, as_str
from impl.pipeline import provenance

__all__ = ["LESSON_DVC", "build_project", "dvc", "stages_run"]

LESSON_DVC = "impl/l8_production/dvc.yaml"
# Besides these, every shared module at impl/'s top level (impl/*.py): a list of them by hand went stale each time
# one was added (impl/onnx_tools.py, which the stages now import).
COPIED = ["impl/pipeline", "impl/data", "impl/l3_optim", "impl/l5_quantization", "impl/l8_production", "params.yaml",
          "requirements.lock", ".dvcignore", "data/prepared/mnist.npz", "data/prepared/mnist.npz.sha256"]
_RAN = re.compile(r"Running stage '([^']+)'")


def _clean_env() -> dict[str, str]:
    """The environment without an outer `dvc repro`'s DVC_* variables (the copy is its own repo)."""
    from impl import paths

    env = {key: value for key, value in os.environ.items() if not key.startswith("DVC_")}
    env["DVC_NO_ANALYTICS"] = "1"
    mirror = paths.data_mirror()
    if mirror is not None:  # the copy runs elsewhere: a relative mirror path would point nowhere
        env[paths.MIRROR_ENV] = str(Path(mirror).resolve())
    return env


def dvc(root, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`python -m dvc <args>` in `root`; raises with DVC's output when it fails and `check`."""
    root = as_path(root, "root")
    for i, arg in enumerate(args):
        as_str(arg, f"args[{i}]")
    check = as_bool(check, "check")
    if not root.is_dir():
        raise ValueError(f"root {root} is not a folder")
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=_clean_env(), capture_output=True,
                          text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"`dvc {' '.join(args)}` failed ({done.returncode}):\n{done.stdout[-3000:]}"
                           f"{done.stderr[-3000:]}")
    return done


def stages_run(done) -> list[str]:
    """The stages a `dvc repro` ran, in order, from its output."""
    as_instance(done, "done", subprocess.CompletedProcess)
    return _RAN.findall((done.stdout or "") + (done.stderr or ""))


def build_project(dest, knobs: dict) -> Path:
    """The throw-away project in the empty folder `dest`; `knobs` replace sections of the lesson's params.yaml."""
    from impl import paths

    dest = as_path(dest, "dest")
    as_instance(knobs, "knobs", dict)
    if dest.exists() and any(dest.iterdir()):
        raise ValueError(f"dest {dest} must be an empty folder")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "dvc.lock")
    shared = sorted(path.relative_to(paths.ROOT).as_posix() for path in (paths.ROOT / "impl").glob("*.py"))
    for rel in [*shared, *COPIED]:
        source, target = paths.ROOT / rel, dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copyfile(source, target)
    for extra in (dest / "impl").glob("*/dvc.yaml"):
        extra.unlink()
    lesson = yaml.safe_load((paths.ROOT / LESSON_DVC).read_text(encoding="utf-8"))
    lesson["stages"].pop("verify", None)
    (dest / LESSON_DVC).write_text(yaml.safe_dump(lesson, sort_keys=False), encoding="utf-8")
    # The MNIST file's producer, declared and locked as in this project: up to date when this project's lock is,
    # else rebuilt from the data mirror (deterministic).
    data = yaml.safe_load((paths.ROOT / "impl/data/dvc.yaml").read_text(encoding="utf-8"))
    lock = provenance.read_dvc_lock(paths.ROOT / "impl/data/dvc.lock")
    keep = "prepare_mnist"
    (dest / "impl/data/dvc.yaml").write_text(yaml.safe_dump({"stages": {keep: data["stages"][keep]}}, sort_keys=False),
                                             encoding="utf-8")
    (dest / "impl/data/dvc.lock").write_text(yaml.safe_dump({"schema": lock["schema"],
                                                             "stages": {keep: lock["stages"][keep]}}, sort_keys=False),
                                             encoding="utf-8")
    params_file = dest / "impl/l8_production/params.yaml"
    params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    for section, values in knobs.items():
        if section not in params or not isinstance(values, dict):
            raise ValueError(f"knobs: {section!r} is not a section of the lesson's params.yaml (a mapping)")
        params[section].update(values)
    params_file.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    dvc(dest, "init", "--no-scm", "-q")
    return dest
