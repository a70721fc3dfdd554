import numpy as np
import pytest

from impl.data import cifar10


@pytest.mark.cpu
def test_class_balance(claim):
    """The prepared CIFAR-10 holds the 50,000 training images, exactly 5,000 per class, plus the
    first 1,000 official test images, with the official first labels (train 6, 9, 9, 4, 1; test 3, 8, 8, 0, 6).

    Course: Lesson 4, Optuna for CNNs on CIFAR-10.
    """
    train, test = cifar10.load("train"), cifar10.load("test")
    claim.expect("train_shape", list(train.X.shape), "==", [50_000, 3, 32, 32])
    claim.expect("test_size", int(test.y.size), "==", 1_000)
    claim.expect("train_counts", np.bincount(train.y, minlength=10).tolist(), "==", claim.t["train_counts"])
    claim.record(test_counts=np.bincount(test.y, minlength=10).tolist())
    claim.expect("first_train_labels", train.y[:5].tolist(), "==", claim.t["first_train_labels"])
    claim.expect("first_test_labels", test.y[:5].tolist(), "==", claim.t["first_test_labels"])


@pytest.mark.cpu
def test_channel_stats(claim):
    """Scaled to [0, 1], the training images have per-channel (R, G, B) means 0.4914, 0.4822, 0.4465
    and standard deviations 0.2470, 0.2435, 0.2616 (the published normalisation constants, 4 decimals).

    Course: Lesson 4, Optuna for CNNs on CIFAR-10 (input normalisation).
    """
    X = cifar10.load("train").X
    mean = [float(X[:, c].mean() / 255) for c in range(3)]
    std = [float(X[:, c].std(dtype=np.float64) / 255) for c in range(3)]
    claim.record(mean=mean, std=std)
    claim.expect("max_mean_err", max(abs(a - b) for a, b in zip(mean, claim.t["mean"])), "<=", "rounding_tol")
    claim.expect("max_std_err", max(abs(a - b) for a, b in zip(std, claim.t["std"])), "<=", "rounding_tol")
