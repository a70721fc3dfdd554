"""DVC stage `data_movielens`: verified MovieLens-100k ratings -> data/prepared/movielens.npz (+ sidecar)."""
from __future__ import annotations

from impl import paths
from impl.data import movielens, prepared


def main() -> None:
    r = movielens.fetch_ratings()
    digest = prepared.save(movielens.PREPARED, dict(zip(movielens.COLUMNS, r)))
    print(f"{movielens.PREPARED.relative_to(paths.ROOT)}: {r.user.size} ratings, {len(set(r.user.tolist()))} users, "
          f"{len(set(r.item.tolist()))} items, sha256 {digest[:16]}...")


if __name__ == "__main__":
    main()
