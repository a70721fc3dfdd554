"""MNIST handwritten digits (LeCun, Cortes, Burges): 60,000 train + 10,000 test, 28x28 uint8.

API:  `load(split) -> Split(X uint8 (n, 28, 28), y int64 (n,))`, split "train" | "test";
      `subset(split, n, seed) -> Split`: stratified, size n, fixed by seed, original order.

`load` first brings DVC stage `data_mnist` up to date (`python -m impl.data.prepare_mnist`),
which verifies the decompressed IDX bytes (sha256 below) and writes data/prepared/mnist.npz.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl import paths
from impl.checks import as_int, as_path, as_seed, as_str
from impl.data import prepared, splits
from impl.data.fetch import RemoteFile

__all__ = [
    "PREPARED", "SPLITS", "SIZES", "HOMEPAGE", "LICENCE", "REMOTES", "FILES", "Split", "read_prepared", "load",
    "subset",
]

PREPARED = paths.PREPARED_DIR / "mnist.npz"
SPLITS = ("train", "test")
SIZES = {"train": 60_000, "test": 10_000}
HOMEPAGE = "http://yann.lecun.com/exdb/mnist/"
LICENCE = "CC BY-SA 3.0 (as stated by the dataset authors); Y. LeCun, C. Cortes, C. J. C. Burges"

_COPIES = ("https://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/")
_SHA256 = {  # of the decompressed IDX files (gzip wrappers differ between copies)
    "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
REMOTES = {name: RemoteFile("mnist", name, tuple(base + name for base in _COPIES), sha) for name, sha in _SHA256.items()}
FILES = {  # split -> (images file, labels file)
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class Split(NamedTuple):
    X: np.ndarray  # (n, 28, 28) uint8, 0 = background
    y: np.ndarray  # (n,) int64 digit labels 0..9


def read_prepared(path=PREPARED) -> dict[str, np.ndarray]:
    """The verified arrays of a prepared file (no DVC involved)."""
    return prepared.load(as_path(path, "path"), "MNIST")


def load(split: str) -> Split:
    """The full official `split`, from the DVC-prepared file (built on first use)."""
    return Split(*prepared.load_split(PREPARED, "MNIST", split, SPLITS))


def subset(split: str, n: int, seed: int) -> Split:
    """A stratified subset of `n` images of `split` (class shares kept), fixed by `seed`."""
    split = as_str(split, "split", choices=SPLITS)  # all checked before the data is loaded
    n, seed = as_int(n, "n", minimum=1, maximum=SIZES[split]), as_seed(seed)
    return splits.stratified_subset(load(split), n, seed)

