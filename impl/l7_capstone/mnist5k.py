"""The compression track's data and networks: the catalog's mnist5k and three torch models.

Data: `impl.data.mnist5k`, the draw Lessons 5 and 8 use (4,000 training images drawn stratified from
the official training set and 1,000 test images from the official test set, fixed by seed),
normalised as Lesson 3 does. Networks (Lesson 3's code): the MLP 784-256-10 that is compressed,
the small CNN teacher, and the 784-32-10 student.
"""
from __future__ import annotations

from impl.checks import MAX_DIM, as_int

__all__ = ["tensors", "make_mlp", "make_teacher", "make_student"]


def tensors(train_size: int, test_size: int, split_seed: int):
    """(X_train, y_train, X_test, y_test): `impl.data.mnist5k.train_test` (the draw Lessons 5 and 8 train on too)
    as normalised float32 (n, 784) / int64 tensors."""
    from impl.data import mnist5k
    from impl.l3_optim import mlp

    train, test = mnist5k.train_test(split_seed, train_size, test_size)
    return (*mlp.to_tensors(train.X, train.y), *mlp.to_tensors(test.X, test.y))


def make_mlp(seed: int, hidden: int = 256):
    """Linear(784, hidden) -> ReLU -> Linear(hidden, 10) (Lesson 3's network, wider)."""
    from impl.l3_optim import mlp

    return mlp.make_mlp(seed, as_int(hidden, "hidden", minimum=1, maximum=MAX_DIM))


def make_teacher(seed: int):
    """Lesson 3's small CNN: two 3x3 convs (32, 64), max-pool, 128 dense units, 10 outputs."""
    from impl.l3_optim import cnn

    return cnn.make_cnn(seed)


def make_student(seed: int, hidden: int = 32):
    """The 784-32-10 student."""
    return make_mlp(seed, hidden)
