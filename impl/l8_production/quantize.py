"""DVC stage `quantize`: the calibration settings `search` chose, applied to the float model once more.

ORT static quantization (QDQ int8) with the chosen method / per_channel / reduce_range, calibrated on
the calibration split, then stamped with ONNX metadata (the Optuna trial number and params of the
choice, the study's name) so the artifact itself says where it came from. Writes
data/models/l8_production/model_int8.onnx (what `make serve` serves) and model_card.json (the choice,
its validation accuracy, the input contract). The model's MD5 is not in the card (the card would
depend on itself only through it); the service reports it from the file, as dvc.lock does.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from impl.atomic import atomic_write_bytes
from impl.l8_production import artifacts, model, ort_quant
from impl.l8_production.stage_io import write_json
from impl.pipeline.stages import stage_main
from impl.scoring import top1_accuracy

__all__ = []  # a DVC stage entry point (run/main), not library API

TINY_KNOBS: dict = {}
STUDY = "l8_production.search.calibration"


def run(knobs: dict, out_dir: Path) -> dict:
    data = artifacts.load_arrays("splits")
    chosen = artifacts.load_json("search")["calibration"]["chosen"]
    int8 = ort_quant.quantize_static(artifacts.path("fp32").read_bytes(), model.to_pixels(data["X_calibration"]),
                                     **chosen["params"])
    int8 = ort_quant.with_metadata(int8, {"optuna_study": STUDY, "optuna_trial_number": str(chosen["number"]),
                                          "optuna_params": json.dumps(chosen["params"], sort_keys=True),
                                          "val_accuracy": repr(chosen["value"])})
    val_logits = ort_quant.predict(int8, model.to_pixels(data["X_val"]))
    val_accuracy = top1_accuracy(val_logits, data["y_val"])
    if val_accuracy != chosen["value"]:  # the same settings on the same data must rebuild the same model
        raise RuntimeError(f"rebuilt model scores {val_accuracy} on validation, the study's trial {chosen['number']} "
                           f"scored {chosen['value']}")
    atomic_write_bytes(Path(out_dir) / artifacts.FILES["int8"], int8)
    card = {"model": "MNIST MLP 784-512-256-10, ORT static int8 (QDQ)", "study": STUDY,
            "trial_number": chosen["number"], "params": chosen["params"], "val_accuracy": chosen["value"],
            "selection": "the 12 calibration settings (method x per_channel x reduce_range) scored by validation "
                         "accuracy; the best, first in trial order on ties",
            "input_contract": {"name": model.INPUT_NAME, "dtype": "float32", "shape": ["N", 1, 28, 28],
                               "range": [0.0, 1.0], "meaning": "MNIST pixels / 255"},
            "output": {"name": model.OUTPUT_NAME, "dtype": "float32", "shape": ["N", 10]}}
    write_json(out_dir, artifacts.FILES["card"], card)
    return {"trial_number": chosen["number"], **chosen["params"], "val_accuracy": val_accuracy,
            "bytes": len(int8)}


main = stage_main(run, "l8_production", None)

if __name__ == "__main__":
    sys.exit(main())
