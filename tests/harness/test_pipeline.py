"""The DVC pipeline cannot go stale: every stage's deps cover what its code reads, lesson by lesson."""
from pathlib import Path

import pytest

from impl import paths
from impl.harness import ids, thresholds
from impl.harness.spec_claims import claims_in
from impl.pipeline import closure, params, stages

STAGES = stages.all_stages()
LESSONS = sorted(p.name for p in paths.SPECS_DIR.iterdir() if (p / "__init__.py").is_file())


def _section(data: dict, keys: tuple[str, ...]) -> dict:
    return {key: data[key] for key in keys} if keys else data


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.address)
def test_stage_deps_cover_its_import_closure(stage):
    assert stage.module, f"{stage.address}: a stage runs one `python -m impl....` entry point, not {stage.cmd!r}"
    assert closure.uncovered(stage) == [], f"{stage.address}: add these to its deps (`python -m impl.pipeline.closure`)"


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.address)
def test_no_dep_is_a_folder_holding_a_dvc_file(stage):
    # DVC rewrites dvc.lock beside each dvc.yaml after a run: a folder dep holding one would
    # change on every run and make the stage rerun forever.
    folders = [dep for dep in stage.deps if (paths.ROOT / dep).is_dir() and any((paths.ROOT / dep).rglob("dvc.yaml"))]
    assert folders == []


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.address)
def test_profile_dependent_knobs_list_the_profile(stage):
    differs = []
    for file, keys in stage.params.items():
        if file == "params.yaml":
            continue
        data = _section(params.load_yaml(paths.ROOT / file), keys)
        if params.resolve_profile(data, "quick") != params.resolve_profile(data, "full"):
            differs.append(file)
    if differs:
        assert "profile" in stage.params.get("params.yaml", ()), f"{stage.address}: {differs} differ by profile"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_its_verify_stage(lesson):
    verify = stages.verify_stage(lesson)
    assert verify.address == f"impl/{lesson}/dvc.yaml:verify"
    assert verify.outs == (f"reports/verified/{lesson}.json",), ("its DVC output is the freshness marker alone: "
                                                                "its lock entry is then the same on every machine")
    assert {"profile", "seed"} <= set(verify.params.get("params.yaml", ()))


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_threshold_belongs_to_a_spec(lesson):
    """A threshold whose claim was renamed or deleted would linger unseen."""
    claim_ids = {ids.claim_id(path.relative_to(paths.ROOT).as_posix(), name)
                 for path in (paths.SPECS_DIR / lesson).glob("test_*.py")
                 for name in _test_functions(path)}
    orphans = set(thresholds.lesson_thresholds(lesson, paths.ROOT)) - claim_ids
    assert orphans == set()


def _test_functions(path: Path) -> list[str]:
    return [claim.name for claim in claims_in(path)]


def test_closure_follows_local_and_relative_imports(tmp_path):
    (tmp_path / "impl" / "pkg").mkdir(parents=True)
    (tmp_path / "impl" / "__init__.py").write_text("")
    (tmp_path / "impl" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "impl" / "pkg" / "a.py").write_text("def f():\n    from . import b\n    import numpy\n")
    (tmp_path / "impl" / "pkg" / "b.py").write_text("from impl.pkg.c import g\n")
    (tmp_path / "impl" / "pkg" / "c.py").write_text("x = knobs('pkg', 'section')\n")
    (tmp_path / "impl" / "pkg" / "params.yaml").write_text("section: {}\n")
    (tmp_path / "impl" / "pkg" / "unused.py").write_text("")
    found = {p.relative_to(tmp_path).as_posix() for p in closure.closure([tmp_path / "impl/pkg/a.py"], tmp_path)}
    assert found == {"impl/__init__.py", "impl/pkg/__init__.py", "impl/pkg/a.py", "impl/pkg/b.py",
                     "impl/pkg/c.py", "impl/pkg/params.yaml"}


def test_a_package_run_with_python_m_needs_what_its_main_imports(tmp_path):
    """`python -m impl.pkg` runs impl/pkg/__main__.py: its imports are the stage's deps (the report stage's
    were missed while the closure started from __init__.py alone)."""
    (tmp_path / "impl" / "pkg").mkdir(parents=True)
    (tmp_path / "impl" / "__init__.py").write_text("")
    (tmp_path / "impl" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "impl" / "pkg" / "__main__.py").write_text("from impl import helper\n")
    (tmp_path / "impl" / "helper.py").write_text("")
    stage = stages.Stage(name="s", dvcfile="dvc.yaml", cmd="python -m impl.pkg", deps=("impl/pkg",), outs=(), params={})
    assert closure.stage_needs(stage, tmp_path) == {"impl/__init__.py", "impl/pkg/__init__.py",
                                                    "impl/pkg/__main__.py", "impl/helper.py"}
    assert closure.uncovered(stage, tmp_path) == ["impl/__init__.py", "impl/helper.py"]


def test_stage_metrics_hold_no_timings(tmp_path):
    """A stage's committed metrics keep its deterministic figures only; wall time, `*_seconds` figures and the
    CPU kind go to its per-machine timings file, so a rerun on one machine leaves `git status` clean."""
    import json

    merged = stages.write_metrics(tmp_path / "metrics.json", tmp_path / "timings.json",
                                  {"accuracy": 0.97, "train_seconds": 12.5}, wall_seconds=14.25)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    timings = json.loads((tmp_path / "timings.json").read_text())
    assert set(metrics) == {"accuracy", "profile"}
    assert {"train_seconds", "wall_seconds", "cpu_model", "cpu_flags", "profile"} == set(timings)
    assert merged["accuracy"] == 0.97 and merged["wall_seconds"] == 14.25
