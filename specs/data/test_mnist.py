import time

import numpy as np
import pytest

from impl.data import mnist


@pytest.mark.cpu
def test_class_counts(claim):
    """The prepared MNIST has 60,000 training and 10,000 test images of 28 x 28 uint8 pixels, and
    its per-digit label counts equal the published ones exactly (train 5923/6742/.../5949,
    test 980/1135/.../1009).

    Course: Lesson 3, Adam on MNIST (the data every MNIST claim trains and tests on).
    """
    for split in mnist.SPLITS:
        data = mnist.load(split)
        claim.expect(f"{split}_shape", list(data.X.shape), "==", [claim.t[f"{split}_size"], 28, 28])
        claim.expect(f"{split}_is_uint8", data.X.dtype == np.uint8 and data.y.dtype == np.int64, "==", True)
        claim.expect(f"{split}_counts", np.bincount(data.y, minlength=10).tolist(), "==", claim.t[f"{split}_counts"])


@pytest.mark.cpu
def test_first_labels(claim):
    """The first five training labels are 5, 0, 4, 1, 9: the files keep the official order.

    Course: Lesson 3, Adam on MNIST.
    """
    claim.expect("first_train_labels", mnist.load("train").y[:5].tolist(), "==", claim.t["first_train_labels"])


@pytest.mark.cpu
def test_pixel_stats(claim):
    """Scaled to [0, 1], the training pixels have mean 0.1307 and standard deviation 0.3081
    (the normalisation constants every MNIST tutorial uses), to the 4 decimals published.

    Course: Lesson 3, Adam on MNIST (input normalisation).
    """
    X = mnist.load("train").X.astype(np.float64) / 255.0
    mean, std = float(X.mean()), float(X.std())
    claim.record(mean=mean, std=std)
    claim.expect("mean_abs_err", abs(mean - claim.t["mean"]), "<=", "rounding_tol")
    claim.expect("std_abs_err", abs(std - claim.t["std"]), "<=", "rounding_tol")


@pytest.mark.cpu
@pytest.mark.perf
def test_load_time(claim):
    """Loading the prepared full MNIST (70,000 images, checksum verified) from the DVC output
    takes under one second (median of 7 loads after a warm-up).

    Course: Lesson 3, Adam on MNIST (data loading must not dominate a quick run).
    """
    path = mnist.load("test") and mnist.PREPARED  # brings the DVC stage up to date first
    mnist.read_prepared(path)  # warm-up: page cache, imports
    times = []
    for _ in range(claim.t["repeats"]):
        start = time.perf_counter()
        arrays = mnist.read_prepared(path)
        times.append(time.perf_counter() - start)
    claim.record(times_s=times, images=int(arrays["y_train"].size + arrays["y_test"].size))
    claim.expect("median_load_s", float(np.median(times)), "<=", "max_seconds")
