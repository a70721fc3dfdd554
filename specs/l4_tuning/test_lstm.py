import json

import numpy as np
import pytest

from impl.l4_tuning import sunspots_lstm
from impl.pipeline import artifacts, params
from specs.l4_tuning.study_plots import plot_study

MODELS = "data/models/l4_tuning"


def _json(name: str):
    return json.loads(artifacts.require(f"{MODELS}/{name}").read_text())


@pytest.mark.cpu
@pytest.mark.slow
def test_sunspots(claim):
    """An LSTM tuned by Optuna forecasts yearly sunspot numbers one year ahead better than
    persistence and about as well as a classical autoregression: a TPE study (seeded, 12 trials)
    over window 4-24 years, hidden units {8, 16, 32} and lr log-uniform in [1e-3, 3e-2] (Adam at a
    constant learning rate, 150 epochs), with MedianPruner on validation RMSE every 10 epochs,
    trained on 1700-1949 and chosen on 1950-1979, then refitted on 1700-1979, gives a test RMSE over
    1980-2008 that is <= 0.85x the persistence forecast's and <= 1.62x that of statsmodels
    AutoReg(9) fitted on 1700-1979 (the catalog's 1.25x is judged beside it; 1.62 is its 5-seed
    calibration, claims.yaml). Sanity check on the baselines: AutoReg(9) itself is <= 0.85x
    persistence. (The catalog expects the AR model to be hard to beat on ~300 points; the numbers
    are recorded whichever wins.)

    The test years decide nothing: the learning-rate schedule (constant rather than cosine
    annealing, which had been chosen after test-period ratios were seen) was re-decided on the
    validation years alone by `impl.l4_tuning.lstm_study` (numbers in params.yaml), and the stage
    reads the test years once, after its study. Tuned by the DVC stage `tune_lstm`; here the saved
    LSTM is re-run on the test windows, the persistence RMSE is recomputed from the series, and the
    AR forecasts are recomputed through statsmodels' own `AutoReg.predict` with the stage's
    coefficients refitted.
    Course: Lesson 4, optimizing LSTM models with Optuna for time-series forecasting.
    """
    import torch
    from statsmodels.tsa.ar_model import AutoReg

    from impl.data import series

    knobs = params.knobs("l4_tuning", "lstm")
    claim.use_seed(knobs["seed"])
    claim.use_seed(knobs["final_seed"])
    export, result = _json("lstm_trials.json"), _json("lstm_test.json")
    rows = _json("lstm_forecasts.json")
    weights = artifacts.require(f"{MODELS}/lstm_best.pt")
    sunspots = series.sunspots_yearly()
    years, values = sunspots.t.astype(int), sunspots.values
    start = int(np.flatnonzero(years == knobs["test_first_year"])[0])
    truth = values[start:]

    chosen, scaling = result["params"], result["scaling"]
    model = sunspots_lstm.make_lstm(knobs["final_seed"], chosen["hidden"])
    model.load_state_dict(torch.load(weights, weights_only=True))
    X_test, _ = sunspots_lstm.windows((values - scaling["mean"]) / scaling["sd"], chosen["window"], start, len(values))
    lstm = sunspots_lstm.rmse(sunspots_lstm.predict(model, X_test) * scaling["sd"] + scaling["mean"], truth)
    persistence = sunspots_lstm.rmse(values[start - 1: -1], truth)
    fitted = AutoReg(values[:start], lags=knobs["ar_lags"], trend="c").fit()
    ar_forecast = AutoReg(values, lags=knobs["ar_lags"], trend="c").predict(fitted.params, start=start,
                                                                            end=len(values) - 1)
    autoreg = sunspots_lstm.rmse(np.asarray(ar_forecast), truth)

    states = [trial["state"] for trial in export["trials"]]
    claim.record(test_years=result["test_years"], lr_schedule=result["lr_schedule"], n_trials=len(states), complete=states.count("COMPLETE"),
                 pruned=states.count("PRUNED"), chosen=chosen, chosen_trial=export["best_trial"],
                 best_val_rmse=export["best_value"], test_rmse_lstm=lstm, test_rmse_persistence=persistence,
                 test_rmse_autoreg=autoreg, importances=export["importances"])
    plot_study(claim, export, what="Sunspots LSTM", value_label="validation RMSE (sunspot number)",
               step_label="epoch", x_param="lr", logx=True)
    claim.plot(f"Sunspots {result['test_years'][0]}-{result['test_years'][1]}: one-step forecasts vs truth",
               [row["year"] for row in rows],
               {"observed": [row["truth"] for row in rows],
                f"LSTM (window {chosen['window']}, hidden {chosen['hidden']})": [row["lstm"] for row in rows],
                f"AutoReg({knobs['ar_lags']})": [row["autoreg"] for row in rows],
                "persistence": [row["persistence"] for row in rows]},
               xlabel="year", ylabel="yearly sunspot number")
    claim.plot("Sunspots: test RMSE by forecaster", ["LSTM (tuned)", f"AutoReg({knobs['ar_lags']})", "persistence"],
               {"test RMSE": [lstm, autoreg, persistence]}, xlabel="forecaster", ylabel="RMSE", kind="bar")

    # The stage's logged numbers are what the saved artifacts and independent recomputations give.
    claim.expect("n_trials", len(states), "==", knobs["n_trials"])
    claim.expect("saved_vs_logged_lstm_rmse_gap", abs(lstm - result["test_rmse"]["lstm"]), "<=", 1e-9)
    claim.expect("recomputed_vs_logged_persistence_gap", abs(persistence - result["test_rmse"]["persistence"]),
                 "<=", 1e-9)
    claim.expect("statsmodels_vs_logged_autoreg_gap", abs(autoreg - result["test_rmse"]["autoreg"]), "<=", "ar_abs_tol")
    claim.expect("test_set_reads_during_study", result["guard"]["reads_during_study"], "==", 0)
    claim.expect("test_set_reads_after_study", result["guard"]["reads_after_study"], "==", 1)
    claim.expect("autoreg_over_persistence", autoreg / persistence, "<=", "max_autoreg_over_persistence")
    claim.expect("lstm_over_persistence", lstm / persistence, "<=", "max_lstm_over_persistence")
    claim.expect("lstm_over_autoreg", lstm / autoreg, "<=", "max_lstm_over_autoreg")
    claim.expect("lstm_over_autoreg_catalog", lstm / autoreg, "<=", "max_lstm_over_autoreg_catalog")
