"""DVC stage `evaluate`: the one read of the test images, after every choice was made on validation.

Scores the float model, the chosen int8 model, the default-calibration int8 model (MinMax,
per-tensor, no reduce_range: what `quantize_static` does unasked) and the bit-width search's best
feasible configuration, each on the same test images. Writes data/models/l8_production/
evaluation.json (accuracies) and test_logits.npz (fp32 and int8 logits: reruns compare them bitwise).
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl.l8_production import artifacts, bitwidths, model, ort_quant
from impl.l8_production.stage_io import write_arrays, write_json
from impl.pipeline.stages import stage_main
from impl.scoring import top1_accuracy

__all__ = []  # a DVC stage entry point (run/main), not library API

TINY_KNOBS: dict = {}


def run(knobs: dict, out_dir: Path) -> dict:
    data, search = artifacts.load_arrays("splits"), artifacts.load_json("search")
    fp32_bytes = artifacts.path("fp32").read_bytes()
    default = ort_quant.quantize_static(fp32_bytes, model.to_pixels(data["X_calibration"]), **ort_quant.DEFAULT)
    weights, biases = model.load_layers(artifacts.path("weights"))
    int8_path = artifacts.path("int8")
    test = artifacts.load_arrays("test")  # the one read
    pixels, labels = model.to_pixels(test["X_test"]), test["y_test"]
    logits = {name: ort_quant.predict(source, pixels)
              for name, source in (("fp32", fp32_bytes), ("int8", int8_path), ("int8_default", default))}
    accuracy = {name: top1_accuracy(values, labels) for name, values in logits.items()}
    best = search["constrained"]["best"]
    if best is not None:
        bits = [best["params"][f"bits_{i}"] for i in range(len(weights))]
        accuracy["bits_best"] = bitwidths.config_accuracy(weights, biases, bits, pixels, labels)
    accuracy["float_numpy"] = top1_accuracy(model.forward(weights, biases, pixels), labels)
    write_json(out_dir, artifacts.FILES["evaluation"], {"test_accuracy": accuracy, "n_test": int(len(labels)),
                                                         "bits_best": best})
    write_arrays(out_dir, artifacts.FILES["test_logits"], fp32=logits["fp32"], int8=logits["int8"])
    return {f"test_accuracy_{name}": value for name, value in accuracy.items()}


main = stage_main(run, "l8_production", None)

if __name__ == "__main__":
    sys.exit(main())
