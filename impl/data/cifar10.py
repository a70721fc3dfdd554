"""CIFAR-10 (A. Krizhevsky, 2009) in the canonical binary format: 32x32 RGB images, 10 classes.

API:  `load(split) -> Split(X uint8 (n, 3, 32, 32), y int64 (n,))`, split "train" | "test";
      `subset(split, n, seed)`: stratified, fixed by seed;
      `train_val(n_train, n_val, seed)`: disjoint stratified train / val drawn from the 50,000.

Test set: the first 1,000 official test images (only they exist losslessly offline; online the
same 1,000 are cut from the official test_batch.bin and verified by the same sha256), so test
numbers are from 1,000 images. Images are channels-first, as the binary records store them.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl import paths
from impl.checks import as_bytes, as_int, as_path, as_seed, as_str
from impl.data import prepared, splits
from impl.data.fetch import RemoteFile

__all__ = [
    "PREPARED", "SPLITS", "CLASSES", "HOMEPAGE", "LICENCE", "ARCHIVE_URL", "RECORD_BYTES", "TEST_RECORDS", "SIZES",
    "REMOTES", "FILES", "Split", "parse_records", "read_prepared", "load", "subset", "train_val",
]

PREPARED = paths.PREPARED_DIR / "cifar10.npz"
SPLITS = ("train", "test")
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
HOMEPAGE = "https://www.cs.toronto.edu/~kriz/cifar.html"
LICENCE = "no licence stated by the authors; cite Krizhevsky (2009), Learning Multiple Layers of Features from Tiny Images"
ARCHIVE_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
RECORD_BYTES = 1 + 3 * 32 * 32
TEST_RECORDS = 1000
SIZES = {"train": 50_000, "test": TEST_RECORDS}

_SHA256 = {  # of the decompressed batch bytes (train: whole batches; test: its first 1,000 records)
    "data_batch_1.bin.gz": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
    "data_batch_2.bin.gz": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
    "data_batch_3.bin.gz": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
    "data_batch_4.bin.gz": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
    "data_batch_5.bin.gz": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
    "test_batch_first1000.bin.gz": "8314c96d7cd65618193bab23acdd5d4c4af15bf6dd00a1781d55beedf3be1ef5",
}
_MEMBER = {name: "cifar-10-batches-bin/" + name.replace("_first1000", "").removesuffix(".gz") for name in _SHA256}
REMOTES = {
    name: RemoteFile("cifar10", name, (ARCHIVE_URL,), sha, member=_MEMBER[name],
                     length=TEST_RECORDS * RECORD_BYTES if name.startswith("test") else None)
    for name, sha in _SHA256.items()
}
FILES = {"train": tuple(f"data_batch_{i}.bin.gz" for i in range(1, 6)), "test": ("test_batch_first1000.bin.gz",)}


class Split(NamedTuple):
    X: np.ndarray  # (n, 3, 32, 32) uint8, channels R, G, B
    y: np.ndarray  # (n,) int64 class index into CLASSES


def parse_records(content: bytes, what: str = "cifar10") -> Split:
    """Binary records (1 label byte + 3,072 pixel bytes each) -> Split."""
    content, what = as_bytes(content, "content"), as_str(what, "what")
    if len(content) == 0 or len(content) % RECORD_BYTES:
        raise ValueError(f"{what}: content of {len(content)} bytes is not a whole number of "
                         f"{RECORD_BYTES}-byte records")
    records = np.frombuffer(content, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    y = records[:, 0].astype(np.int64)
    if y.max() >= len(CLASSES):
        raise ValueError(f"{what}: label {int(y.max())} out of range 0..9")
    return Split(records[:, 1:].reshape(-1, 3, 32, 32).copy(), y)


def read_prepared(path=PREPARED) -> dict[str, np.ndarray]:
    """The verified arrays of a prepared file (no DVC involved)."""
    return prepared.load(as_path(path, "path"), "CIFAR-10")


def load(split: str) -> Split:
    """All of `split` (50,000 train or the 1,000 test images), from the DVC-prepared file."""
    return Split(*prepared.load_split(PREPARED, "CIFAR-10", split, SPLITS))


def subset(split: str, n: int, seed: int) -> Split:
    """A stratified subset of `n` images of `split` (class shares kept), fixed by `seed`."""
    split = as_str(split, "split", choices=SPLITS)  # all checked before the data is loaded
    n, seed = as_int(n, "n", minimum=1, maximum=SIZES[split]), as_seed(seed)
    return splits.stratified_subset(load(split), n, seed)


def train_val(n_train: int, n_val: int, seed: int) -> tuple[Split, Split]:
    """Disjoint, stratified train and validation sets drawn from the 50,000 training images."""
    n_train = as_int(n_train, "n_train", minimum=1, maximum=SIZES["train"] - 1)  # checked before loading
    n_val = as_int(n_val, "n_val", minimum=1, maximum=SIZES["train"] - n_train)
    seed = as_seed(seed)
    full = load("train")
    train_index, val_index = splits.stratified_disjoint(full.y, (n_train, n_val), seed)
    return Split(full.X[train_index], full.y[train_index]), Split(full.X[val_index], full.y[val_index])

