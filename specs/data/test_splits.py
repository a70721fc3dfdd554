import numpy as np
import pytest

from impl.data import cifar10, mnist, splits


@pytest.mark.cpu
def test_determinism(claim, seed):
    """Stratified subsets are fixed by their seed: the same seed gives the same indices, a different
    seed different ones; each class gets its proportional share to within one image; and CIFAR-10
    train / validation draws, and train / validation / test draws, are pairwise disjoint with the
    sizes asked for.

    Course: all lessons (fixed, seeded, recorded splits).
    """
    claim.use_seed(seed)
    y = mnist.load("train").y
    a, b, c = (splits.stratified_indices(y, 4000, s) for s in (seed, seed, seed + 1))
    claim.expect("same_seed_identical", bool(np.array_equal(a, b)), "==", True)
    claim.expect("other_seed_overlap", float(np.isin(a, c).mean()), "<", 1.0)
    share = np.bincount(y[a], minlength=10) - np.bincount(y, minlength=10) * 4000 / y.size
    claim.expect("max_share_error_images", float(np.abs(share).max()), "<", 1.0)
    claim.expect("subset_size", int(mnist.subset("test", 1000, seed).y.size), "==", 1000)
    train, val = splits.stratified_disjoint(cifar10.load("train").y, (5000, 1000), seed)
    claim.expect("cifar_train_val_overlap", int(np.intersect1d(train, val).size), "==", 0)
    claim.expect("cifar_sizes", [int(train.size), int(val.size)], "==", [5000, 1000])
    parts = splits.stratified_disjoint(cifar10.load("train").y, (3000, 1000, 500), seed)
    claim.expect("three_way_sizes", [int(p.size) for p in parts], "==", [3000, 1000, 500])
    claim.expect("three_way_overlap", int(np.unique(np.concatenate(parts)).size), "==", 4500)
