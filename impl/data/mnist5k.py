"""The catalog's mnist5k: one draw of MNIST for every lesson that trains on it (Lessons 5, 7 and 8, and
beyond's transfer claim).

API:  `train_test(split_seed, train_size=4000, test_size=1000) -> (Split, Split)`: a stratified subset of
      the official training images and one of the official test images (`mnist.subset`, fixed by
      `split_seed`), uint8 images and int64 labels;
      `held_out(split_seed, sizes, train_size=4000) -> tuple[Split, ...]`: disjoint stratified draws of
      official training images outside that training subset, for choosing (validation) and calibrating.

A held-out part depends only on `split_seed`, `train_size`, its own size and the parts before it: part i is
drawn from the images left after the training subset and parts 0..i-1, with seed `split_seed + 1 + i`. So
Lesson 5's 1,000 validation images and Lesson 8's (followed by 200 calibration images) are the same images.
"""
from __future__ import annotations

import numpy as np

from impl.checks import as_int, as_seed
from impl.data import mnist, splits

__all__ = ["TRAIN_SIZE", "TEST_SIZE", "train_test", "held_out"]

TRAIN_SIZE, TEST_SIZE = 4000, 1000  # the catalog's mnist5k: 4k / 1k


def train_test(split_seed: int = 0, train_size: int = TRAIN_SIZE, test_size: int = TEST_SIZE):
    """(train, test) Splits: stratified subsets of the official training and test images, fixed by `split_seed`."""
    split_seed = as_seed(split_seed, "split_seed")
    train_size = as_int(train_size, "train_size", minimum=10, maximum=mnist.SIZES["train"])
    test_size = as_int(test_size, "test_size", minimum=10, maximum=mnist.SIZES["test"])
    return mnist.subset("train", train_size, split_seed), mnist.subset("test", test_size, split_seed)


def held_out(split_seed: int, sizes, train_size: int = TRAIN_SIZE) -> tuple[mnist.Split, ...]:
    """Disjoint stratified Splits of the given `sizes`, from the official training images not in
    `train_test(split_seed, train_size)`'s training subset (part i seeded `split_seed + 1 + i`)."""
    split_seed = as_seed(split_seed, "split_seed")
    train_size = as_int(train_size, "train_size", minimum=10, maximum=mnist.SIZES["train"])
    if not isinstance(sizes, (tuple, list)) or not sizes:
        raise TypeError(f"sizes must be a non-empty tuple of sample sizes, got {sizes!r:.80}")
    sizes = [as_int(size, "sizes", minimum=1, maximum=mnist.SIZES["train"]) for size in sizes]
    if train_size + sum(sizes) > mnist.SIZES["train"]:
        raise ValueError(f"train_size + sizes must be at most {mnist.SIZES['train']} images, got "
                         f"{train_size} + {sizes}")
    full = mnist.load("train")
    rest = np.setdiff1d(np.arange(len(full.y)), splits.stratified_indices(full.y, train_size, split_seed))
    parts = []
    for i, size in enumerate(sizes):
        part = rest[splits.stratified_indices(full.y[rest], size, split_seed + 1 + i)]
        parts.append(mnist.Split(full.X[part], full.y[part]))
        rest = np.setdiff1d(rest, part, assume_unique=True)
    return tuple(parts)
