"""The MNIST tensors Lesson 3 trains on: a stratified training subset (or all 60k) and the 10k test set."""
from __future__ import annotations

from impl.checks import as_int, as_seed
from impl.l3_optim import mlp

__all__ = ["train_test_tensors", "test_tensors"]


def train_test_tensors(train_size: int, split_seed: int = 0):
    """(X_train, y_train, X_test, y_test) as normalised tensors; the test set is always the full official 10k."""
    train_size = as_int(train_size, "train_size", minimum=10, maximum=60_000)
    split_seed = as_seed(split_seed, "split_seed")  # checked before any data is loaded
    from impl.data import mnist

    train = mnist.load("train") if train_size == 60_000 else mnist.subset("train", train_size, split_seed)
    return (*mlp.to_tensors(train.X, train.y), *test_tensors())


def test_tensors():
    """The official 10,000 test images and labels as normalised tensors."""
    from impl.data import mnist

    test = mnist.load("test")
    return mlp.to_tensors(test.X, test.y)
