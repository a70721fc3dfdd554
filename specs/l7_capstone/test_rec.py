import numpy as np
import pytest

from impl.data import movielens


@pytest.mark.cpu
def test_data_contract(claim):
    """MovieLens-100k has exactly 100,000 ratings by 943 users of 1,682 items, all in 1..5, no
    (user, item) pair twice and at least 20 ratings per user; the fixed 80/20 split (seed 0) holds out
    20% of the rows (to the row), shares no pair between train and test, and its test part and
    dropped cold-start part are exactly the held-out rows whose user and item both occur in train,
    and the rest, as recomputed independently from the raw ratings.

    The reference uses pandas on the raw rating table: held-out = every row not in train; cold start
    = a held-out row whose user or item is not among train's. The dropped count is recorded.
    Course: Lesson 7, data collection and preprocessing (validation).
    """
    import pandas as pd

    from impl.pipeline import params

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
    claim.record(train_rows=int(split.train.size), test_rows=int(split.test.size),
                 dropped_cold_start=int(split.dropped.size))

    test_fraction = params.knobs("data", "movielens")["test_fraction"]
    frame = pd.DataFrame({"user": r.user, "item": r.item})
    in_train = frame.index.isin(split.train)
    held = frame[~in_train]
    claim.expect("held_out_rows_minus_fraction_of_all", int(len(held) - round(test_fraction * len(frame))), "==", 0)
    claim.expect("pairs_in_both", int(np.intersect1d(pairs[split.train], pairs[split.test]).size), "==", 0)
    seen_users, seen_items = set(frame.user[in_train]), set(frame.item[in_train])
    cold = ~held.user.isin(seen_users) | ~held.item.isin(seen_items)
    reference_test, reference_dropped = set(held.index[~cold]), set(held.index[cold])
    claim.expect("test_rows_not_matching_reference", len(set(split.test.tolist()) ^ reference_test), "==", 0)
    claim.expect("dropped_rows_not_matching_reference", len(set(split.dropped.tolist()) ^ reference_dropped), "==", 0)
