"""DVC stage `data_mnist`: verified IDX files -> data/prepared/mnist.npz (+ .sha256 sidecar)."""
from __future__ import annotations

import numpy as np
from tqdm import tqdm

from impl import paths
from impl.data import idx, mnist, prepared
from impl.data.fetch import fetch_bytes


def main() -> None:
    arrays = {}
    for split, (images, labels) in tqdm(mnist.FILES.items(), desc="mnist"):
        X = idx.parse_images(fetch_bytes(mnist.REMOTES[images], progress=True), images)
        y = idx.parse_labels(fetch_bytes(mnist.REMOTES[labels], progress=True), labels)
        if X.shape != (y.size, 28, 28):
            raise ValueError(f"mnist {split}: {X.shape[0]} images but {y.size} labels")
        arrays[f"X_{split}"], arrays[f"y_{split}"] = X, y
    digest = prepared.save(mnist.PREPARED, arrays)
    sizes = {k: v.shape[0] for k, v in arrays.items() if k.startswith("y_")}
    print(f"{mnist.PREPARED.relative_to(paths.ROOT)}: {sizes}, sha256 {digest[:16]}..., "
          f"train counts {np.bincount(arrays['y_train']).tolist()}")


if __name__ == "__main__":
    main()
