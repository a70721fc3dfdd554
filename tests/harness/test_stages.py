"""Every stage is a function: `run(tiny knobs, tmp_path)` does the real work in seconds and
writes exactly the files its dvc.yaml declares (as flax's examples test `train_and_evaluate`)."""
import importlib
import json
from pathlib import Path

import pytest

from impl import paths
from impl.pipeline import params, stages

RUNNABLE = [s for s in stages.all_stages() if s.module and hasattr(importlib.import_module(s.module), "main")
            and hasattr(importlib.import_module(s.module).main, "run")]


def test_every_stage_but_verify_and_report_is_a_run_function():
    plain = {s.address for s in stages.all_stages()} - {s.address for s in RUNNABLE}
    assert all(address.endswith(("verify", "report")) for address in plain), plain


def _with_its_lesson(stage):
    """A lesson's stage runs in that lesson's --lesson-dist unit: its tiny run may need the lesson's real upstream
    outputs (Lesson 5's QAT starts from the trained float model), built once by the worker that owns the lesson."""
    lesson = importlib.import_module(stage.module).main.lesson
    return pytest.param(stage, marks=[pytest.mark.lesson(lesson)], id=stage.address)


@pytest.mark.parametrize("stage", [_with_its_lesson(s) for s in RUNNABLE])
def test_stage_runs_tiny(stage, tmp_path):
    module = importlib.import_module(stage.module)
    main = module.main
    knobs = params.knobs(main.lesson, main.section) if main.section is not None else {}
    knobs.update(module.TINY_KNOBS)
    summary = module.run(knobs, tmp_path)
    json.dumps(summary)  # a summary is plain data: it becomes the stage's metrics file
    written = {p.name for p in Path(tmp_path).iterdir()}
    target = paths.relative(main.out_dir) if main.out_dir is not None else f"data/models/{main.lesson}"
    declared = {Path(out).name for out in stage.outs if Path(out).parent.as_posix() == target}
    assert written == declared, f"{stage.address} wrote {sorted(written)}, dvc.yaml declares {sorted(declared)}"
    metrics = f"data/metrics/{main.lesson}/{stage.module.rsplit('.', 1)[-1]}.json"
    assert metrics in stage.outs, f"{stage.address}: declare its summary {metrics} under `metrics:`"
