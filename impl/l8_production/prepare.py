"""DVC stage `prepare`: the MNIST splits of the lesson (the catalog's mnist5k plus validation and calibration).

`impl.data.mnist5k`, the draw Lessons 5 and 7 use: its training and test subsets, and from the official
training images outside that training subset two disjoint stratified parts: validation (the searches
choose on it; the same images as Lesson 5's validation) and calibration (ORT reads activation ranges
from it). The test images are read only by `evaluate`, once, after every choice is made.
Writes data/models/l8_production/splits.npz and test.npz (uint8 images, int64 labels).
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl.l8_production.artifacts import FILES
from impl.l8_production.stage_io import write_arrays
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

TINY_KNOBS = {"train_size": 200, "val_size": 100, "calibration_size": 50, "test_size": 100}
PARTS = ("train", "val", "calibration")


def run(knobs: dict, out_dir: Path) -> dict:
    from impl.data import mnist5k

    train, test = mnist5k.train_test(knobs["split_seed"], knobs["train_size"], knobs["test_size"])
    val, calibration = mnist5k.held_out(knobs["split_seed"], (knobs["val_size"], knobs["calibration_size"]),
                                        knobs["train_size"])
    arrays = {}
    for name, part in zip(PARTS, (train, val, calibration)):
        arrays[f"X_{name}"], arrays[f"y_{name}"] = part.X, part.y
    write_arrays(out_dir, FILES["splits"], **arrays)
    write_arrays(out_dir, FILES["test"], X_test=test.X, y_test=test.y)
    return {f"{name}_size": int(len(part.y)) for name, part in zip((*PARTS, "test"), (train, val, calibration, test))}


main = stage_main(run, "l8_production", "prepare")

if __name__ == "__main__":
    sys.exit(main())
