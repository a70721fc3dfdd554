"""DVC stage `prepare_mnist`: verified IDX files -> data/prepared/mnist.npz (+ .sha256 sidecar)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from impl.data import idx, mnist, prepared
from impl.data.fetch import fetch_bytes
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

TINY_KNOBS: dict = {}  # no knobs: it always prepares the whole verified dataset (seconds)


def run(knobs: dict, out_dir: Path) -> dict:
    arrays = {}
    for split, (images, labels) in tqdm(mnist.FILES.items(), desc="mnist"):
        X = idx.parse_images(fetch_bytes(mnist.REMOTES[images], progress=True), images)
        y = idx.parse_labels(fetch_bytes(mnist.REMOTES[labels], progress=True), labels)
        if X.shape != (y.size, 28, 28):
            raise ValueError(f"mnist {split}: {X.shape[0]} images but {y.size} labels")
        arrays[f"X_{split}"], arrays[f"y_{split}"] = X, y
    digest = prepared.save(Path(out_dir) / mnist.PREPARED.name, arrays)
    return {"train_images": int(arrays["y_train"].size), "test_images": int(arrays["y_test"].size),
            "train_counts": np.bincount(arrays["y_train"]).tolist(), "sha256": digest}


main = stage_main(run, "data", None, out_dir=mnist.PREPARED.parent)

if __name__ == "__main__":
    sys.exit(main())
