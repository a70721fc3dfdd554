import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl.l8_production import artifacts, bitwidths


def _trial_values(trials, key="values"):
    return np.array([t[key] for t in trials if t["state"] == "COMPLETE"], dtype=float)


@pytest.mark.cpu
def test_constrained_bits(claim):
    """TPE with a size constraint (30 trials, seed 0) over per-layer weight bit-widths {2, 3, 4, 6, 8} of
    the 784-512-256-10 MLP trained on mnist5k (per-channel symmetric fake quantization, Lesson 5's
    reference, no retraining) finds a feasible configuration (total weight bits <= 0.6x uniform 8-bit)
    whose validation accuracy is at most 1 pp below the float model's, and whose test accuracy, read once
    after the study, is at most 1.5 pp below the float model's test accuracy.

    Course: Lesson 8, optimizing quantization settings.
    """
    search, evaluation = artifacts.load_json("search"), artifacts.load_json("evaluation")
    best = search["constrained"]["best"]
    trials = search["constrained"]["trials"]
    claim.record(best=best, n_feasible=sum(1 for t in trials if t["constraints"]["size"] <= 0), n_trials=len(trials))
    ratios = [t["user_attrs"]["size_ratio"] for t in trials]
    claim.plot("Constrained TPE: size vs validation accuracy", ratios, {"trial": [t["values"][0] for t in trials]},
               kind="scatter", xlabel="weight bits / uniform 8-bit", ylabel="val accuracy", hline=None)
    assert best is not None, "no feasible trial"
    claim.expect("size_ratio", best["size_ratio"], "<=", "max_size_ratio")
    claim.expect("val_drop_pp", 100 * (search["float_val_accuracy"] - best["value"]), "<=", "max_val_drop_pp")
    test = evaluation["test_accuracy"]
    claim.expect("test_drop_pp", 100 * (test["float_numpy"] - test["bits_best"]), "<=", "max_test_drop_pp")


@pytest.mark.cpu
def test_pareto(claim):
    """For any 1 to 40 points with 2 or 3 objectives (error, size, latency; minimised or maximised; ties
    and duplicates allowed) injected into a study through `create_trial`/`add_trial`, `study.best_trials`
    is exactly the brute-force non-dominated set. The lesson's real `NSGAIISampler(seed=0)` study (40
    trials over per-layer bit-widths, minimising validation error and size, uniform 8-bit enqueued) puts
    only non-dominated trials on its front, exactly the brute-force set of its trials, and the front holds
    uniform 8-bit or a configuration that dominates it.

    Course: Lesson 8, optimizing quantization settings (multi-objective search).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    value = st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(0.0, 1.0, allow_nan=False)

    @given(data=st.data(), n_objectives=st.integers(2, 3), n_points=st.integers(1, 40))
    def injected(data, n_objectives, n_points):
        directions = data.draw(st.lists(st.sampled_from(bitwidths.DIRECTIONS), min_size=n_objectives,
                                        max_size=n_objectives))
        points = data.draw(st.lists(st.lists(value, min_size=n_objectives, max_size=n_objectives),
                                    min_size=n_points, max_size=n_points))
        study = optuna.create_study(directions=directions)
        space = {"i": optuna.distributions.IntDistribution(0, 100)}
        for i, point in enumerate(points):
            study.add_trial(optuna.trial.create_trial(params={"i": i}, distributions=space, values=point))
        front = sorted(t.number for t in study.best_trials)
        expected = bitwidths.non_dominated(np.array(points), directions)
        claim.track_max("examples", claim.observed.get("examples", 0) + 1)
        assert front == expected, f"best_trials {front} != brute force {expected} for {points} {directions}"

    injected()
    search = artifacts.load_json("search")["pareto"]
    trials = [t for t in search["trials"] if t["state"] == "COMPLETE"]
    values = _trial_values(trials)
    expected = [trials[i]["number"] for i in bitwidths.non_dominated(values, search["directions"])]
    uniform8 = next(t for t in trials if set(t["params"].values()) == {8})
    front = [t for t in trials if t["number"] in search["front"]]
    covered = any(np.all(np.array(t["values"]) <= np.array(uniform8["values"])) for t in front)
    claim.record(front=[{"number": t["number"], "params": t["params"], "values": t["values"]} for t in front],
                 uniform8=uniform8["values"])
    claim.plot("NSGA-II trials: validation error vs weight size (front marked)", list(values[:, 1]),
               {"trial": list(100 * values[:, 0]),
                "Pareto front": [100 * v[0] if t["number"] in search["front"] else float("nan")
                                 for t, v in zip(trials, values)]},
               kind="scatter", xlabel="weight bits / uniform 8-bit", ylabel="val error (%)")
    claim.expect("front_equals_brute_force", sorted(search["front"]) == sorted(expected), "==", True)
    claim.expect("uniform8_or_dominator_on_front", covered, "==", True)


@pytest.mark.cpu
def test_calibration(claim):
    """`GridSampler` over ONNX Runtime static-quantization settings (calibration method MinMax / Entropy /
    Percentile x per_channel x reduce_range: 12 configurations, 200 calibration images) of the mnist5k
    MLP selects on validation accuracy; its choice, confirmed once on the test images, scores a test
    accuracy >= the default configuration's (MinMax, per-tensor, no reduce_range) - 0.3 pp and >= the
    float model's - 1.0 pp.

    Course: Lesson 8, pipeline construction (calibration settings chosen by the tuner).
    """
    search, evaluation = artifacts.load_json("search"), artifacts.load_json("evaluation")
    trials = search["calibration"]["trials"]
    chosen = search["calibration"]["chosen"]
    test = evaluation["test_accuracy"]
    claim.record(chosen=chosen, grid=[{"params": t["params"], "val_accuracy": t["values"][0]} for t in trials],
                 test_accuracy=test)
    labels = [f"{t['params']['method']}/{'ch' if t['params']['per_channel'] else 'tensor'}"
              f"/{'rr' if t['params']['reduce_range'] else 'full'}" for t in trials]
    claim.plot("Validation accuracy of the 12 calibration settings", labels,
               {"val accuracy": [t["values"][0] for t in trials]}, kind="bar", ylabel="val accuracy")
    claim.expect("n_configurations", len({tuple(sorted(t["params"].items())) for t in trials}), "==", 12)
    claim.expect("vs_default_pp", 100 * (test["int8"] - test["int8_default"]), ">=", "min_vs_default_pp")
    claim.expect("vs_float_pp", 100 * (test["int8"] - test["fp32"]), ">=", "min_vs_float_pp")
