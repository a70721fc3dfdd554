"""DVC stage `b_transfer`: per seed, a backbone pretrained to convergence on the mnist5k digits 0-4,
a linear probe on it (penalty chosen by cross-validation on the 50 labelled 5-9 images) and the same
CNN trained from scratch on those 50 images.

Writes data/models/beyond/transfer_models.pt (state_dicts "<seed>/backbone", "<seed>/probe",
"<seed>/scratch"; the spec recomputes every accuracy from them) and transfer_runs.json (the
pretraining curves, the cross-validation scores and the few-shot image indices)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from impl.atomic import atomic_save_torch, atomic_write_json
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

MODELS_NAME, RUNS_NAME = "transfer_models.pt", "transfer_runs.json"
TINY_KNOBS = {"pool_size": 400, "val_share": 0.1, "max_epochs": 1, "patience": 1, "per_class": 4,
              "l2_grid": [0.01], "num_folds": 2, "scratch_steps": 2, "seeds": [0], "split_seed": 0, "num_threads": 1}


def few_shot_indices(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """`per_class` images of each target digit 5..9, drawn without replacement by `seed`."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(5, 10)])


def run(knobs: dict, out_dir: Path) -> dict:
    from impl.beyond import transfer
    from impl.data import mnist5k
    from impl.isolation import torch_state

    pool, _ = mnist5k.train_test(knobs["split_seed"], knobs["pool_size"])  # its training subset
    source = np.flatnonzero(pool.y < 5)
    models, runs = {}, {}
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        for seed in knobs["seeds"]:
            order = np.random.default_rng(seed).permutation(source)
            num_val = int(round(knobs["val_share"] * len(order)))
            fit, val = order[num_val:], order[:num_val]
            pre = transfer.pretrain(pool.X[fit], pool.y[fit], pool.X[val], pool.y[val], max_epochs=knobs["max_epochs"],
                                    patience=knobs["patience"], seed=seed)
            few = few_shot_indices(pool.y, knobs["per_class"], seed)
            X_few, y_few = pool.X[few], pool.y[few] - 5
            l2, cv = transfer.choose_l2(pre.model, X_few, y_few, knobs["l2_grid"], num_folds=knobs["num_folds"], seed=seed)
            probe = transfer.fine_tune_head(pre.model, X_few, y_few, l2=l2, seed=seed)
            scratch = transfer.from_scratch(X_few, y_few, num_steps=knobs["scratch_steps"], seed=seed)
            for name, model in (("backbone", pre.model), ("probe", probe), ("scratch", scratch)):
                models[f"{seed}/{name}"] = model.state_dict()
            runs[str(seed)] = {"pretrain_val_loss": pre.val_loss, "pretrain_val_accuracy": pre.val_accuracy,
                               "best_epoch": pre.best_epoch, "num_source_fit": len(fit), "num_source_val": len(val),
                               "cv_loss": {repr(k): v for k, v in cv.items()}, "chosen_l2": l2,
                               "few_shot_indices": few.tolist(),
                               "probe_train_accuracy": transfer.accuracy(probe, X_few, y_few),
                               "scratch_train_accuracy": transfer.accuracy(scratch, X_few, y_few)}
    atomic_save_torch(Path(out_dir) / MODELS_NAME, models)
    atomic_write_json(Path(out_dir) / RUNS_NAME, {"runs": runs, "knobs": knobs})
    return {"best_epochs": [r["best_epoch"] for r in runs.values()], "chosen_l2": [r["chosen_l2"] for r in runs.values()]}


main = stage_main(run, "beyond", "transfer")

if __name__ == "__main__":
    sys.exit(main())
