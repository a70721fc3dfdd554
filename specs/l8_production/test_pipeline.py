import pytest
import yaml

from impl.digests import file_md5
from impl.l8_production import pipeline_repro

TARGET = f"{pipeline_repro.LESSON_DVC}:evaluate"
LESSON_STAGES = [f"{pipeline_repro.LESSON_DVC}:{name}" for name in ("prepare", "train", "search", "quantize", "evaluate")]
OUT = "data/models/l8_production"




def _outputs(root) -> dict[str, str]:
    return {p.name: file_md5(p) for p in sorted((root / OUT).iterdir())}


@pytest.mark.cpu
@pytest.mark.slow
@pytest.mark.flag("F55")
def test_dvc(claim, tmp_path):
    """The lesson's DVC pipeline prepare -> train -> search -> quantize -> evaluate, built in a throw-away
    project (smaller knobs: 1,000 / 300 / 100 / 300 images, a 784-128-64-10 MLP, 3 epochs, 10 + 10
    trials, the 12 calibration settings), is reproducible: the first `dvc repro` runs the five stages in
    order; a second runs none; after the quantized model is deleted, `dvc checkout` restores it with the
    MD5 that dvc.lock records; and removing every output and reproducing from scratch with the same seeds
    gives the same best parameters (search.json byte for byte) and bitwise-identical test logits (every
    other output's bytes are compared and reported).

    Course: Lesson 8, pipeline construction.
    """
    root = pipeline_repro.build_project(tmp_path / "project", claim.t["knobs"])
    first = pipeline_repro.stages_run(pipeline_repro.dvc(root, "repro", TARGET))
    second = pipeline_repro.stages_run(pipeline_repro.dvc(root, "repro", TARGET))
    outputs = _outputs(root)
    lock = yaml.safe_load((root / "impl/l8_production/dvc.lock").read_text())
    locked = {out["path"].rsplit("/", 1)[-1]: out["md5"] for stage in lock["stages"].values()
              for out in stage.get("outs", [])}
    model = root / OUT / "model_int8.onnx"
    model.unlink()
    pipeline_repro.dvc(root, "checkout", f"{pipeline_repro.LESSON_DVC}:quantize")
    restored = file_md5(model) if model.exists() else None
    for path in (root / OUT).iterdir():
        path.unlink()
    scratch = pipeline_repro.stages_run(pipeline_repro.dvc(root, "repro", "--force", TARGET))
    again = _outputs(root)
    claim.record(first_run=first, second_run=second, scratch_run=scratch, outputs_md5=outputs,
                 identical_after_scratch={name: again.get(name) == md5 for name, md5 in outputs.items()})
    claim.expect("first_run_lesson_stages", [s for s in first if s in LESSON_STAGES], "==", LESSON_STAGES)
    claim.expect("second_run_stages", len(second), "==", 0)
    claim.expect("restored_md5_matches_lock", restored == locked["model_int8.onnx"] == outputs["model_int8.onnx"],
                 "==", True)
    claim.expect("search_identical", again["search.json"] == outputs["search.json"], "==", True)
    claim.expect("test_logits_identical", again["test_logits.npz"] == outputs["test_logits.npz"], "==", True)
