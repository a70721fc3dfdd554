"""DVC stage `prepare_cifar10`: verified binary batches -> data/prepared/cifar10.npz (+ .sha256 sidecar)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from impl.data import cifar10, prepared
from impl.data.fetch import fetch_bytes
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

TINY_KNOBS: dict = {}  # no knobs: it always prepares the whole verified dataset (seconds)


def run(knobs: dict, out_dir: Path) -> dict:
    arrays = {}
    for split, names in cifar10.FILES.items():
        parts = [cifar10.parse_records(fetch_bytes(cifar10.REMOTES[name], progress=True), name)
                 for name in tqdm(names, desc=f"cifar10 {split}")]
        arrays[f"X_{split}"] = np.concatenate([part.X for part in parts])
        arrays[f"y_{split}"] = np.concatenate([part.y for part in parts])
    digest = prepared.save(Path(out_dir) / cifar10.PREPARED.name, arrays)
    return {"train_images": int(arrays["y_train"].size), "test_images": int(arrays["y_test"].size),
            "train_counts": np.bincount(arrays["y_train"]).tolist(), "sha256": digest}


main = stage_main(run, "data", None, out_dir=cifar10.PREPARED.parent)

if __name__ == "__main__":
    sys.exit(main())
