"""DVC stage `tune_lstm`: an Optuna study of an LSTM forecasting yearly sunspots, against two baselines.

Time-ordered split (knobs `lstm`): train 1700-1949, validation 1950-1979, test 1980-2008. The study
(TPE, seeded; MedianPruner on validation RMSE every `eval_every` epochs) sees only the years before
the test period: values are standardised by the training years' mean and SD, each trial trains on
training targets and is scored by one-step forecasts of the validation years (`lstm_study.validation_study`;
the learning-rate schedule, knob `lr_schedule`, was decided on the same years by `lstm_study.compare_schedules`,
never on test years). After `optimize`
returns, the chosen (window, hidden, lr) is refitted on train + validation and the full series is
read once through a `HeldOut` guard to forecast the test years, one step ahead from observed values.
Baselines on the same targets: persistence, and statsmodels AutoReg(p) fitted on train + validation.

Writes data/models/l4_tuning/: lstm_trials.json (every trial, fANOVA importances), lstm_history.json
(one row per trial: a DVC plot), lstm_best.pt (the refitted LSTM's state_dict), lstm_test.json (RMSEs
of the three forecasts, chosen config, scaling, the guard's read log) and lstm_forecasts.json (test
forecasts vs truth by year: a DVC plot).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from impl.atomic import atomic_save_torch, atomic_write_json
from impl.isolation import torch_state
from impl.l4_tuning import lstm_study, studies, sunspots_lstm as fc
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

TRIALS_NAME, HISTORY_NAME, MODEL_NAME = "lstm_trials.json", "lstm_history.json", "lstm_best.pt"
TEST_NAME, FORECASTS_NAME = "lstm_test.json", "lstm_forecasts.json"
STUDY = "l4_tuning.tune_lstm"

TINY_KNOBS = {"n_trials": 2, "num_epochs": 10, "eval_every": 5, "n_startup_trials": 1, "pruner_startup_trials": 1,
              "hidden": [4], "pruner_warmup_steps": 0}


def _standardise(values: np.ndarray, stop: int) -> tuple[np.ndarray, float, float]:
    mean, sd = float(values[:stop].mean()), float(values[:stop].std())
    return (values - mean) / sd, mean, sd


def run(knobs: dict, out_dir: Path) -> dict:
    # One thread (outputs reproduce) and deterministic kernels, restored on return: a test may call run().
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        years, full, train_end, val_end = lstm_study.load_periods(knobs)
        known = full[:val_end].copy()  # all the study may see; the test years come through the guard
        held_out = studies.HeldOut(lambda: full)
        export = lstm_study.validation_study(known, train_end, knobs, name=f"{STUDY}@{Path(out_dir).resolve()}",
                                             held_out=held_out)

        # The study is over: refit its choice on train + validation, then read the test years once.
        chosen = export["best_params"]
        z_fit, mean_fit, sd_fit = _standardise(known, val_end)
        X, y = fc.windows(z_fit, chosen["window"], chosen["window"], val_end)
        model = fc.make_lstm(knobs["final_seed"], chosen["hidden"])
        fc.fit_lstm(model, X, y, lr=chosen["lr"], seed=knobs["final_seed"], num_epochs=knobs["num_epochs"],
                    batch_size=knobs["batch_size"], eval_every=knobs["eval_every"], schedule=knobs["lr_schedule"])
        series = held_out.read()
        truth = series[val_end:]
        X_test, _ = fc.windows((series - mean_fit) / sd_fit, chosen["window"], val_end, len(series))
        forecasts = {"lstm": fc.predict(model, X_test) * sd_fit + mean_fit,
                     "persistence": fc.persistence_forecast(series, val_end, len(series)),
                     "autoreg": fc.autoreg_forecast(series, knobs["ar_lags"], val_end, val_end, len(series))[0]}

    test_rmse = {name: fc.rmse(forecast, truth) for name, forecast in forecasts.items()}
    atomic_save_torch(Path(out_dir) / MODEL_NAME, model.state_dict())
    _write(out_dir, TRIALS_NAME, export)
    _write(out_dir, HISTORY_NAME, studies.history(export))
    _write(out_dir, FORECASTS_NAME, [{"year": int(year), "truth": float(truth[i]),
                                      **{name: float(f[i]) for name, f in forecasts.items()}}
                                     for i, year in enumerate(years[val_end:])])
    result = {"params": chosen, "best_trial": export["best_trial"], "best_val_rmse": export["best_value"],
              "final_seed": knobs["final_seed"], "lr_schedule": knobs["lr_schedule"],
              "scaling": {"mean": mean_fit, "sd": sd_fit},
              "ar_lags": knobs["ar_lags"], "test_years": [int(years[val_end]), int(years[-1])],
              "test_rmse": test_rmse, "guard": held_out.record()}
    _write(out_dir, TEST_NAME, result)
    states = [t["state"] for t in export["trials"]]
    return {"n_trials": len(states), "complete": states.count("COMPLETE"), "pruned": states.count("PRUNED"),
            "best_val_rmse": export["best_value"], **{f"test_rmse_{name}": value for name, value in test_rmse.items()}}


def _write(out_dir: Path, name: str, content) -> None:
    atomic_write_json(Path(out_dir) / name, content)


main = stage_main(run, "l4_tuning", "lstm")

if __name__ == "__main__":
    sys.exit(main())
