"""Top-k recommendation and its metrics: NDCG@k, recall@k, precision@k, and the two reference
recommenders (uniform random, most popular) every learned ranking must beat.

Conventions: `gains` holds one non-negative relevance per item; `ranking` is item indices, best
first. DCG@k = sum_{j<k} gain[ranking[j]] / log2(j + 2), NDCG@k = DCG@k / DCG@k of the items sorted
by gain (0 when no item has a positive gain). For a user, the relevant items are the test items
rated >= `relevant_from` stars; items the user rated in train are never recommended. Rankings are
deterministic: among equal scores the lower item index comes first.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.checks import MAX_DIM, as_float, as_float_array, as_int, as_rng
from impl.l7_capstone.recsys import Triples, as_triples

__all__ = ["dcg_at_k", "ndcg_at_k", "recall_at_k", "precision_at_k", "TopKScores", "top_k", "popularity_scores",
           "random_scores", "expected_random_recall", "evaluate_top_k"]


def _ranking(ranking, n_items: int) -> np.ndarray:
    order = as_float_array(ranking, "ranking", ndim=1)
    if np.any(order != np.round(order)) or order.min() < 0 or order.max() >= n_items:
        raise ValueError(f"ranking must hold item indices in 0..{n_items - 1}")
    order = order.astype(np.int64)
    if np.unique(order).size != order.size:
        raise ValueError("ranking must not repeat an item")
    return order


def _gains_ranking_k(gains, ranking, k):
    gains = as_float_array(gains, "gains", ndim=1)
    if np.any(gains < 0):
        raise ValueError("gains must be non-negative")
    return gains, _ranking(ranking, gains.size), as_int(k, "k", minimum=1, maximum=MAX_DIM)


def dcg_at_k(gains, ranking, k: int) -> float:
    gains, ranking, k = _gains_ranking_k(gains, ranking, k)
    top = gains[ranking[:k]]
    return float(np.sum(top / np.log2(np.arange(2, top.size + 2))))


def ndcg_at_k(gains, ranking, k: int) -> float:
    gains, ranking, k = _gains_ranking_k(gains, ranking, k)
    ideal = dcg_at_k(gains, np.argsort(-gains, kind="stable"), k)
    return dcg_at_k(gains, ranking, k) / ideal if ideal > 0 else 0.0


def _relevant_ranking_k(relevant, ranking, k):
    relevant = as_float_array(relevant, "relevant", ndim=1)
    if not np.all((relevant == 0) | (relevant == 1)):
        raise ValueError("relevant must be a 0/1 indicator per item")
    return relevant, _ranking(ranking, relevant.size), as_int(k, "k", minimum=1, maximum=MAX_DIM)


def recall_at_k(relevant, ranking, k: int) -> float:
    """Share of the relevant items (0/1 indicator per item) among the first k of `ranking`."""
    relevant, ranking, k = _relevant_ranking_k(relevant, ranking, k)
    total = relevant.sum()
    return float(relevant[ranking[:k]].sum() / total) if total else 0.0


def precision_at_k(relevant, ranking, k: int) -> float:
    """Relevant items among the first k of `ranking`, divided by k."""
    relevant, ranking, k = _relevant_ranking_k(relevant, ranking, k)
    return float(relevant[ranking[:k]].sum() / k)


class TopKScores(NamedTuple):
    """Means over the users with at least one relevant test item."""
    recall: float
    precision: float
    ndcg: float
    users: int


def top_k(scores, exclude, k: int) -> np.ndarray:
    """(users, k) item indices with the highest scores per row, best first, `exclude`d (True) items
    never chosen; equal scores are taken in item order (a stable sort, so the result is reproducible:
    `argpartition` would pick among ties arbitrarily)."""
    scores = as_float_array(scores, "scores", ndim=2)
    exclude = np.asarray(exclude)
    if exclude.dtype != bool or exclude.shape != scores.shape:
        raise ValueError(f"exclude must be a boolean array of shape {scores.shape}")
    k = as_int(k, "k", minimum=1, maximum=scores.shape[1])
    if np.any((~exclude).sum(1) < k):
        raise ValueError(f"exclude must leave at least k = {k} items in every row")
    masked = np.where(exclude, -np.inf, scores)
    return np.argsort(-masked, axis=1, kind="stable")[:, :k]


def popularity_scores(train: Triples, n_users: int, n_items: int) -> np.ndarray:
    """Every user gets each item's number of training ratings as its score."""
    train = as_triples(train, "train")
    n_users = as_int(n_users, "n_users", minimum=1, maximum=MAX_DIM)
    n_items = as_int(n_items, "n_items", minimum=1, maximum=MAX_DIM)
    return np.broadcast_to(np.bincount(train.item, minlength=n_items)[:n_items].astype(float), (n_users, n_items))


def random_scores(n_users: int, n_items: int, rng: np.random.Generator) -> np.ndarray:
    """Independent uniform scores: a uniformly random ranking per user."""
    n_users = as_int(n_users, "n_users", minimum=1, maximum=MAX_DIM)
    n_items = as_int(n_items, "n_items", minimum=1, maximum=MAX_DIM)
    return as_rng(rng, "rng").random((n_users, n_items))


def expected_random_recall(train: Triples, test: Triples, n_items: int, k: int, relevant_from: float = 4.0) -> float:
    """The exact expected mean recall@k of a uniformly random ranking, over the users `evaluate_top_k`
    averages: each relevant item the user did not rate in train lies in the top k of a random order of
    the user's c unseen items with probability min(k, c) / c (one rated in train is never recommended)."""
    train = as_triples(train, "train")
    test = as_triples(test, "test")
    n_items = as_int(n_items, "n_items", minimum=1, maximum=MAX_DIM)
    k = as_int(k, "k", minimum=1, maximum=MAX_DIM)
    relevant_from = as_float(relevant_from, "relevant_from")
    if max(train.item.max(), test.item.max()) >= n_items:
        raise ValueError(f"n_items = {n_items} must exceed every item index of train and test")
    n_users = int(max(train.user.max(), test.user.max())) + 1
    seen = np.zeros((n_users, n_items), dtype=bool)
    seen[train.user, train.item] = True
    relevant = np.zeros((n_users, n_items), dtype=bool)
    good = test.rating >= relevant_from
    relevant[test.user[good], test.item[good]] = True
    users = np.flatnonzero(relevant.sum(1) > 0)
    if users.size == 0:
        raise ValueError(f"test has no rating >= relevant_from = {relevant_from}")
    unseen = n_items - seen[users].sum(1)
    retrievable = (relevant[users] & ~seen[users]).sum(1) / relevant[users].sum(1)
    return float(np.mean(retrievable * np.minimum(k, unseen) / np.maximum(unseen, 1)))


def evaluate_top_k(scores, train: Triples, test: Triples, k: int, relevant_from: float = 4.0) -> TopKScores:
    """Mean recall@k, precision@k and NDCG@k (binary gains) of the per-user top-k by `scores`."""
    scores = as_float_array(scores, "scores", ndim=2)
    train = as_triples(train, "train")
    test = as_triples(test, "test")
    relevant_from = as_float(relevant_from, "relevant_from")
    n_users, n_items = scores.shape
    if max(train.user.max(), test.user.max()) >= n_users or max(train.item.max(), test.item.max()) >= n_items:
        raise ValueError(f"scores of shape {scores.shape} must cover every user and item of train and test")
    seen = np.zeros(scores.shape, dtype=bool)
    seen[train.user, train.item] = True
    relevant = np.zeros(scores.shape)
    good = test.rating >= relevant_from
    relevant[test.user[good], test.item[good]] = 1.0
    users = np.flatnonzero(relevant.sum(1) > 0)
    if users.size == 0:
        raise ValueError(f"no test rating reaches relevant_from = {relevant_from:g}: no user has a relevant item")
    chosen = top_k(scores[users], seen[users], k)
    rows = [(recall_at_k(relevant[u], chosen[j], k), precision_at_k(relevant[u], chosen[j], k),
             ndcg_at_k(relevant[u], chosen[j], k)) for j, u in enumerate(users)]
    recall, precision, ndcg = np.mean(rows, axis=0)
    return TopKScores(float(recall), float(precision), float(ndcg), int(users.size))
