"""The lesson's stage outputs by name, and how a stage or spec reads them.

Every stage writes into data/models/l8_production/ and reads its upstream outputs through
`impl.pipeline.artifacts.require`, which inside `dvc repro` only checks the file exists and
elsewhere (a spec, the tiny-knob stage test) brings the producing stage up to date first.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from impl.checks import as_str

__all__ = ["LESSON", "FILES", "path", "load_json", "load_arrays"]

LESSON = "l8_production"
FILES = {
    "splits": "splits.npz",            # prepare: train / validation / calibration images and labels
    "test": "test.npz",                # prepare: the test images, read once by `evaluate`
    "weights": "mlp.pt",               # train: the float MLP's state_dict
    "fp32": "model_fp32.onnx",         # train: its ONNX export, the float baseline
    "search": "search.json",           # search: the three studies, every trial
    "int8": "model_int8.onnx",         # quantize: the chosen model, served by `make serve`
    "card": "model_card.json",         # quantize: trial number, params, contract, hash
    "evaluation": "evaluation.json",   # evaluate: the one test read
    "test_logits": "test_logits.npz",  # evaluate: fp32 and int8 logits on the test images
}


def path(name: str) -> Path:
    """The up-to-date output `name` (a key of FILES), root-relative path resolved."""
    from impl.pipeline import artifacts

    name = as_str(name, "name", choices=tuple(FILES))
    return artifacts.require(f"data/models/{LESSON}/{FILES[name]}")


def load_json(name: str) -> Any:
    return json.loads(path(name).read_text(encoding="utf-8"))


def load_arrays(name: str) -> dict[str, np.ndarray]:
    with np.load(path(name), allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}
