"""DVC stage `train_rec`: biased MF on the fixed MovieLens-100k split, lambda tuned by Optuna.

The study sees only train: it fits on 90% of it and scores the other 10% (the validation slice).
The chosen lambda is refitted on all of train, and the test ratings are read once, at the end.
Writes data/models/l7_capstone/mf.pt (state_dict: mu, biases, factors) and mf.json (the trials,
the chosen lambda, the per-epoch training RMSE of the refit and the test RMSE). `train_ranker` runs
this same fit with its own knobs (the L2 penalty per parameter) and outputs, without the test read.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from impl.atomic import atomic_save_torch, atomic_write_json
from impl.isolation import torch_state
from impl.l7_capstone import mf, recsys
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

MODEL_NAME, SUMMARY_NAME = "mf.pt", "mf.json"
N_USERS, N_ITEMS = 943, 1682  # MovieLens-100k (checked by L7.recommender.data_contract)

TINY_KNOBS = {"n_trials": 1, "num_epochs": 1, "factors": 2}


def run(knobs: dict, out_dir: Path, *, outputs: tuple[str, str] = (MODEL_NAME, SUMMARY_NAME),
        read_test: bool = True) -> dict:
    """Tune lambda on the validation slice of train, refit on train, write `outputs` (model, summary);
    with `read_test`, score the test ratings once at the end."""
    # Threads fixed so outputs reproduce; restored after, as the tiny-knob test runs this in-process.
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        return _run(knobs, out_dir, outputs, read_test)


def _run(knobs: dict, out_dir: Path, outputs: tuple[str, str], read_test: bool) -> dict:
    from impl.data import movielens

    r, split = movielens.fixed_split()
    train = recsys.from_movielens(r, split.train)
    fit_part, validation = recsys.validation_slice(train, knobs["val_fraction"], np.random.default_rng(knobs["seed"]))
    train_knobs = dict(factors=knobs["factors"], lr=knobs["lr"], batch_size=knobs["batch_size"],
                       num_epochs=knobs["num_epochs"], n_users=N_USERS, n_items=N_ITEMS, penalty=knobs["penalty"])
    study = mf.tune_lambda(fit_part, validation, n_trials=knobs["n_trials"], lam_range=tuple(knobs["lam_range"]),
                           seed=knobs["seed"], **train_knobs)
    lam = study.best_params["lam"]
    final = mf.train_mf(train, lam=lam, seed=knobs["seed"], progress=True, **train_knobs)
    headline = {"lam": lam, "validation_rmse": study.best_value}
    if read_test:
        test = recsys.from_movielens(r, split.test)  # the one read of the test ratings
        headline["test_rmse"] = recsys.rmse(mf.predict_mf(final.model, test.user, test.item), test.rating)
    model_name, summary_name = outputs
    atomic_save_torch(Path(out_dir) / model_name, final.model.state_dict())
    summary = {
        **headline, "penalty": knobs["penalty"], "factors": knobs["factors"], "num_epochs": knobs["num_epochs"],
        "fit_rows": int(fit_part.rating.size), "validation_rows": int(validation.rating.size),
        "trials": [{"number": t.number, "lam": t.params["lam"], "validation_rmse": t.value} for t in study.trials],
        "train_rmse": final.train_rmse,
    }
    atomic_write_json(Path(out_dir) / summary_name, summary)
    return headline


main = stage_main(run, "l7_capstone", "mf")

if __name__ == "__main__":
    sys.exit(main())
