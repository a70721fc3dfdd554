"""DVC stage `prepare_movielens`: verified MovieLens-100k ratings -> data/prepared/movielens.npz (+ sidecar)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from impl.data import movielens, prepared
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

TINY_KNOBS: dict = {}  # no knobs: it always prepares the whole verified dataset (seconds)


def run(knobs: dict, out_dir: Path) -> dict:
    r = movielens.fetch_ratings()
    digest = prepared.save(Path(out_dir) / movielens.PREPARED.name, dict(zip(movielens.COLUMNS, r)))
    return {"ratings": int(r.user.size), "users": int(np.unique(r.user).size),
            "items": int(np.unique(r.item).size), "sha256": digest}


main = stage_main(run, "data", None, out_dir=movielens.PREPARED.parent)

if __name__ == "__main__":
    sys.exit(main())
