"""The layers, checked on the import graph (every `import`, function-local ones included: `closure.imported_modules`).

- No lesson, stage or shared module imports the test harness (`impl.harness`): stage code paths must run
  without the test runner. The exceptions run the specs and read their verdicts (`HARNESS_IMPORTERS`).
- A lesson imports another lesson only along the edges listed in `LESSON_EDGES`, each with its reason; a
  new edge fails here until it is listed (or, better, the shared piece moves to `impl/`).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from impl import paths
from impl.pipeline.closure import imported_modules

HARNESS_IMPORTERS = {"impl/pipeline/verify.py": "the verify stage runs the specs and reads their results",
                     "impl/tools/busy_host.py": "`make test-busy-host` runs specs beside CPU hogs and reads their results"}

# (importer, imported): why. Lessons are the folders impl/<lesson>/ other than the shared layers.
LESSON_EDGES = {
    **{(lesson, "data"): "the datasets' loaders" for lesson in
       ("beyond", "l3_optim", "l4_tuning", "l5_quantization", "l6_bigdata", "l7_capstone", "l8_production")},
    ("l8_production", "l5_quantization"): "the course's Lesson 8 builds on Lesson 5's quantizers (bit widths)",
    ("l7_capstone", "l6_bigdata"): "the capstone's recommender reuses Lesson 6's Spark session and ALS",
    # Lesson 3's MNIST MLP and CNN (`mlp.py`, `cnn.py`) serve four other lessons: owed a move to a shared
    # module (issue "One way to do each thing", outcome 3); listed so that no further edge appears unseen.
    **{(lesson, "l3_optim"): "Lesson 3's MNIST MLP/CNN and pixel normalisation (to move to a shared module)"
       for lesson in ("beyond", "l4_tuning", "l7_capstone", "l8_production")},
}
SHARED = {"harness", "pipeline", "tools"}  # impl/ folders that are layers, not lessons


def _lessons() -> set[str]:
    return {p.name for p in (paths.ROOT / "impl").iterdir()
            if p.is_dir() and p.name not in SHARED and (p / "__init__.py").is_file()}


def _imports() -> list[tuple[Path, set[str]]]:
    return [(path, imported_modules(path, paths.ROOT)) for path in sorted((paths.ROOT / "impl").rglob("*.py"))]


def test_nothing_outside_the_harness_imports_it():
    offenders = {}
    for path, modules in _imports():
        relative = path.relative_to(paths.ROOT).as_posix()
        if relative.startswith("impl/harness/") or relative in HARNESS_IMPORTERS:
            continue
        harness = sorted(m for m in modules if m == "impl.harness" or m.startswith("impl.harness."))
        if harness:
            offenders[relative] = harness
    assert not offenders, f"modules outside impl/harness import the test harness: {offenders}"


def test_lessons_import_each_other_only_along_the_listed_edges():
    lessons = _lessons()
    found: dict[tuple[str, str], list[str]] = {}
    for path, modules in _imports():
        importer = path.relative_to(paths.ROOT).parts[1]
        if importer not in lessons:
            continue
        for module in modules:
            parts = module.split(".")
            if len(parts) > 1 and parts[0] == "impl" and parts[1] in lessons and parts[1] != importer:
                found.setdefault((importer, parts[1]), []).append(path.relative_to(paths.ROOT).as_posix())
    unlisted = {edge: sorted(set(files)) for edge, files in found.items() if edge not in LESSON_EDGES}
    assert not unlisted, f"lesson imports not in LESSON_EDGES (list them with a reason, or move the piece): {unlisted}"
    stale = sorted(set(LESSON_EDGES) - set(found))
    assert not stale, f"LESSON_EDGES lists edges no module uses any more; remove them: {stale}"


@pytest.mark.parametrize("source, expected", [
    ("from impl.harness import bench\n", True),
    ("def f():\n    from impl import harness\n", True),
    ("import impl.harness.results as r\n", True),
    ("from impl import timing\n", False),
])
def test_the_check_sees_every_form_of_import(tmp_path, source, expected):
    """The rule is only as good as its reading of imports: top-level, function-local, `from impl import harness`."""
    module = tmp_path / "impl" / "lesson" / "m.py"
    module.parent.mkdir(parents=True)
    module.write_text(source)
    modules = imported_modules(module, tmp_path)
    assert any(m == "impl.harness" or m.startswith("impl.harness.") for m in modules) is expected
