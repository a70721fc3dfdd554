"""The catalog's mnist5k is one draw: Lessons 5, 7 and 8 (and beyond's transfer claim) train on the same images,
and a held-out part is the same images whoever asks for it."""
import numpy as np
import pytest

from impl.data import mnist, mnist5k, splits

pytestmark = pytest.mark.lesson("data")  # reads the prepared MNIST, built by the data lesson's stage


def _rows_of(full: mnist.Split):
    """A function giving where each of a part's images sits in `full` (images compared whole); the lookup is
    built once."""
    lookup = {image.tobytes(): i for i, image in enumerate(full.X)}
    return lambda part: np.array([lookup[image.tobytes()] for image in part.X])


def test_train_test_is_the_stratified_subset_each_lesson_drew_before():
    train, test = mnist5k.train_test(0)
    assert (len(train.y), len(test.y)) == (mnist5k.TRAIN_SIZE, mnist5k.TEST_SIZE) == (4000, 1000)
    for part, split, size in ((train, "train", 4000), (test, "test", 1000)):
        expected = mnist.subset(split, size, 0)
        assert np.array_equal(part.X, expected.X) and np.array_equal(part.y, expected.y) and part.y.dtype == np.int64
    assert np.bincount(train.y, minlength=10).tolist() == list(splits.stratified_counts(mnist.load("train").y,
                                                                                          4000).values())


def test_held_out_parts_are_disjoint_from_train_and_each_other_and_do_not_depend_on_what_follows():
    full = mnist.load("train")
    train, _ = mnist5k.train_test(0)
    val, calibration = mnist5k.held_out(0, (1000, 200))
    (alone,) = mnist5k.held_out(0, (1000,))
    rows = _rows_of(full)
    taken = [set(rows(part)) for part in (train, val, calibration)]
    assert [len(t) for t in taken] == [4000, 1000, 200]
    assert not (taken[0] & taken[1]) and not (taken[0] & taken[2]) and not (taken[1] & taken[2])
    assert np.array_equal(alone.X, val.X) and np.array_equal(alone.y, val.y)  # Lesson 5's validation = Lesson 8's
    # Lesson 5 drew its validation images this way before the draw was shared: the same images still
    unused = np.setdiff1d(np.arange(len(full.y)), splits.stratified_indices(full.y, 4000, 0))
    assert np.array_equal(rows(val), unused[splits.stratified_indices(full.y[unused], 1000, 1)])
    assert np.bincount(val.y, minlength=10).min() >= 90  # stratified: ~100 of each digit


def test_the_lessons_ask_for_the_same_images():
    from impl.l5_quantization import models
    from impl.l7_capstone import mnist5k as compression_data

    from impl.l3_optim import mlp

    X5, y5, Xt5, yt5 = models.mnist5k(0)
    X7, y7, Xt7, yt7 = compression_data.tensors(4000, 1000, 0)  # Lesson 7 normalises them as Lesson 3 does
    for ours, theirs in zip((*mlp.to_tensors(X5, y5), *mlp.to_tensors(Xt5, yt5)), (X7, y7, Xt7, yt7)):
        assert np.array_equal(ours.numpy(), theirs.numpy())
    X_val, y_val = models.mnist_validation(0)
    val, _ = mnist5k.held_out(0, (1000, 200))
    assert np.array_equal(X_val, val.X) and np.array_equal(y_val, val.y)


@pytest.mark.parametrize("call, message", [
    (lambda: mnist5k.train_test(0, 5), "train_size"),
    (lambda: mnist5k.train_test(-1), "split_seed"),
    (lambda: mnist5k.held_out(0, ()), "sizes"),
    (lambda: mnist5k.held_out(0, 1000), "sizes"),
    (lambda: mnist5k.held_out(0, (50_000, 7_000)), "at most 60000"),
])
def test_bad_calls_are_refused_by_name(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()
