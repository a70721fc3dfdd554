"""DVC stage `prepare`: the MNIST splits of the lesson (the catalog's mnist5k plus a calibration set).

From the official training images, disjoint stratified draws (seeded): train, validation (the
searches choose on it) and calibration (ORT reads activation ranges from it). From the official
test images, a stratified subset that only `evaluate` reads, once, after every choice is made.
Writes data/models/l8_production/splits.npz and test.npz (uint8 images, int64 labels).
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl.l8_production.artifacts import FILES
from impl.l8_production.stage_io import write_arrays
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

TINY_KNOBS = {"n_train": 200, "n_val": 100, "n_calibration": 50, "n_test": 100}


def run(knobs: dict, out_dir: Path) -> dict:
    from impl.data import mnist, splits

    train = mnist.load("train")
    parts = splits.stratified_disjoint(train.y, (knobs["n_train"], knobs["n_val"], knobs["n_calibration"]),
                                       knobs["split_seed"])
    arrays = {}
    for name, index in zip(("train", "val", "calibration"), parts):
        arrays[f"X_{name}"], arrays[f"y_{name}"] = train.X[index], train.y[index].astype("int64")
    write_arrays(out_dir, FILES["splits"], **arrays)
    test = mnist.subset("test", knobs["n_test"], knobs["split_seed"])
    write_arrays(out_dir, FILES["test"], X_test=test.X, y_test=test.y.astype("int64"))
    return {f"n_{name}": int(len(index)) for name, index in zip(("train", "val", "calibration"), parts)} | \
        {"n_test": int(len(test.y))}


main = stage_main(run, "l8_production", "prepare")

if __name__ == "__main__":
    sys.exit(main())
