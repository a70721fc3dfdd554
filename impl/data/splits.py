"""Seeded, stratified index selection: the same (labels, n, seed) always gives the same indices."""
from __future__ import annotations

import numpy as np

from impl.checks import as_int, as_labels, as_seed
from impl.pipeline import provenance

__all__ = ["stratified_counts", "stratified_indices", "stratified_disjoint", "stratified_subset"]


def _labels(y) -> np.ndarray:
    return as_labels(y, "y")


def stratified_counts(y, n: int) -> dict[int, int]:
    """How many of each class a stratified sample of `n` takes: proportional, largest remainder."""
    y = _labels(y)
    n = as_int(n, "n", minimum=1)
    if n > y.size:
        raise ValueError(f"n must be at most the number of samples ({y.size}), got {n}")
    classes, counts = np.unique(y, return_counts=True)
    exact = counts * n / y.size
    take = np.floor(exact).astype(np.int64)
    # Hand the leftover slots to the largest fractional parts (ties: lower class first).
    order = np.lexsort((classes, -(exact - take)))
    take[order[: n - int(take.sum())]] += 1
    return {int(c): int(k) for c, k in zip(classes, take)}


def stratified_indices(y, n: int, seed: int) -> np.ndarray:
    """Sorted indices of a stratified sample of size `n`, fixed by `seed`."""
    y = _labels(y)
    seed = as_seed(seed)
    rng = np.random.default_rng(seed)
    provenance.record_seed(seed)
    chosen = []
    for label, k in stratified_counts(y, n).items():
        members = np.flatnonzero(y == label)
        chosen.append(rng.permutation(members)[:k])
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def stratified_disjoint(y, sizes: tuple[int, ...], seed: int) -> tuple[np.ndarray, ...]:
    """Disjoint stratified samples of the given sizes (e.g. train and val), fixed by `seed`."""
    y = _labels(y)
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"sizes must be a tuple of sample sizes, got {type(sizes).__name__}")
    if not sizes or sum(as_int(s, "sizes", minimum=1) for s in sizes) > y.size:
        raise ValueError(f"sizes must be positive and sum to at most {y.size}, got {sizes}")
    pool = stratified_indices(y, sum(sizes), seed)  # records the seed
    rng = np.random.default_rng([as_seed(seed), 1])
    parts, rest = [], pool
    for size in sizes[:-1]:
        part = np.sort(rest[stratified_indices(y[rest], size, int(rng.integers(2**31)))])
        parts.append(part)
        rest = np.setdiff1d(rest, part, assume_unique=True)
    parts.append(rest)
    return tuple(parts)


def stratified_subset(full, n: int, seed: int):
    """A stratified subset of `n` rows of an (X, y) NamedTuple, same type, fixed and recorded by `seed`."""
    if not (isinstance(full, tuple) and hasattr(full, "X") and hasattr(full, "y")):
        raise TypeError(f"full must be an (X, y) NamedTuple, got {type(full).__name__}")
    index = stratified_indices(full.y, n, seed)
    return type(full)(full.X[index], full.y[index])
