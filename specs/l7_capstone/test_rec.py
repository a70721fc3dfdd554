import numpy as np
import pytest

from impl.data import movielens


@pytest.mark.cpu
def test_data_contract(claim):
    """MovieLens-100k has exactly 100,000 ratings by 943 users of 1,682 items, all in 1..5, no
    (user, item) pair twice and at least 20 ratings per user; the fixed 80/20 split (seed 0) shares
    no pair between train and test, every test user and item also occurs in train, and the number
    of cold-start rows dropped from test is recorded.

    Course: Lesson 7, data collection and preprocessing (validation).
    """
    reason = movielens.unavailable_reason()
    if reason is not None and not movielens.canonical_copy_at_hand():
        pytest.skip(reason)
    r, split = movielens.fixed_split()
    claim.expect("ratings", int(r.user.size), "==", 100_000)
    claim.expect("users", int(np.unique(r.user).size), "==", 943)
    claim.expect("items", int(np.unique(r.item).size), "==", 1_682)
    claim.expect("rating_range", [int(r.rating.min()), int(r.rating.max())], "==", [1, 5])
    claim.record(rating_counts=np.bincount(r.rating, minlength=6)[1:].tolist())
    pairs = r.user * 10_000 + r.item
    claim.expect("duplicate_pairs", int(pairs.size - np.unique(pairs).size), "==", 0)
    claim.expect("min_ratings_per_user", int(np.bincount(r.user)[np.unique(r.user)].min()), ">=", 20)
    claim.expect("pairs_in_both", int(np.intersect1d(pairs[split.train], pairs[split.test]).size), "==", 0)
    claim.expect("test_users_unseen", int((~np.isin(r.user[split.test], r.user[split.train])).sum()), "==", 0)
    claim.expect("test_items_unseen", int((~np.isin(r.item[split.test], r.item[split.train])).sum()), "==", 0)
    claim.record(train_rows=int(split.train.size), test_rows=int(split.test.size), dropped_cold_start=int(split.dropped.size))
    claim.expect("rows_accounted", int(split.train.size + split.test.size + split.dropped.size), "==", 100_000)
