"""DVC stage `data_cifar10`: verified binary batches -> data/prepared/cifar10.npz (+ .sha256 sidecar)."""
from __future__ import annotations

import numpy as np
from tqdm import tqdm

from impl import paths
from impl.data import cifar10, prepared
from impl.data.fetch import fetch_bytes


def main() -> None:
    arrays = {}
    for split, names in cifar10.FILES.items():
        parts = [cifar10.parse_records(fetch_bytes(cifar10.REMOTES[name], progress=True), name)
                 for name in tqdm(names, desc=f"cifar10 {split}")]
        arrays[f"X_{split}"] = np.concatenate([part.X for part in parts])
        arrays[f"y_{split}"] = np.concatenate([part.y for part in parts])
    digest = prepared.save(cifar10.PREPARED, arrays)
    print(f"{cifar10.PREPARED.relative_to(paths.ROOT)}: train {arrays['y_train'].size}, test {arrays['y_test'].size}, "
          f"sha256 {digest[:16]}..., train counts {np.bincount(arrays['y_train']).tolist()}")


if __name__ == "__main__":
    main()
