"""DVC stage `train_ranker`: the biased MF of `train_rec` with the L2 penalty per parameter, for ranking.

Same data, factors, optimiser, epochs and Optuna study of lambda on the validation slice of train
(validation RMSE, 10 trials) as `train_rec`; only the penalty differs: lambda times each parameter's
square once (mf.PENALTIES "per_parameter"), so a film's bias is shrunk by how few ratings it has.
The study's best lambda is refitted on all of train. The test ratings are not read here.
Writes data/models/l7_capstone/mf_ranker.pt (state_dict) and mf_ranker.json (trials, lambda, curves).
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np

from impl.atomic import atomic_write_bytes, atomic_write_text
from impl.isolation import torch_state
from impl.l7_capstone import mf, recsys
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

MODEL_NAME, SUMMARY_NAME = "mf_ranker.pt", "mf_ranker.json"
N_USERS, N_ITEMS = 943, 1682  # MovieLens-100k (checked by L7.rec.data_contract)

TINY_KNOBS = {"n_trials": 1, "num_epochs": 1, "factors": 2}


def run(knobs: dict, out_dir: Path) -> dict:
    # Threads fixed so outputs reproduce; restored after, as the tiny-knob test runs this in-process.
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        return _run(knobs, out_dir)


def _run(knobs: dict, out_dir: Path) -> dict:
    import torch

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
    buffer = io.BytesIO()
    torch.save(final.model.state_dict(), buffer)
    atomic_write_bytes(Path(out_dir) / MODEL_NAME, buffer.getvalue())
    summary = {
        "lam": lam, "penalty": knobs["penalty"], "factors": knobs["factors"], "num_epochs": knobs["num_epochs"],
        "fit_rows": int(fit_part.rating.size), "validation_rows": int(validation.rating.size),
        "trials": [{"number": t.number, "lam": t.params["lam"], "validation_rmse": t.value} for t in study.trials],
        "validation_rmse": study.best_value, "train_rmse": final.train_rmse,
    }
    atomic_write_text(Path(out_dir) / SUMMARY_NAME, json.dumps(summary, indent=1) + "\n")
    return {"lam": lam, "validation_rmse": study.best_value}


main = stage_main(run, "l7_capstone", "ranker")

if __name__ == "__main__":
    sys.exit(main())
