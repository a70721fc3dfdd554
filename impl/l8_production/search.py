"""DVC stage `search`: Optuna chooses the quantization settings, on the validation split only.

Three studies (knobs `search`), each seeded, none of which can see the test images:
- `constrained`: TPE with a size constraint (`trial.set_constraint`) over per-layer weight bit-widths {2, 3, 4, 6, 8}
  (per-channel symmetric fake quantization, no retraining), maximising validation accuracy with
  total weight bits <= `max_size_ratio` x uniform 8-bit;
- `pareto`: NSGA-II over the same space, minimising (validation error, size ratio), uniform 8-bit
  enqueued first; its front is `study.best_trials`;
- `calibration`: GridSampler over ORT static quantization's calibration method x per_channel x
  reduce_range (12 settings) of the float ONNX model, calibrated on the calibration split and
  maximising validation accuracy. Its best trial is the model `quantize` builds and the service serves.
Writes data/models/l8_production/search.json: every trial of each study, the front, the choices.
"""
from __future__ import annotations

import sys
from pathlib import Path

from impl.isolation import optuna_quiet
from impl.l8_production import artifacts, bitwidths, model, ort_quant
from impl.l8_production.stage_io import write_json
from impl.pipeline.stages import stage_main
from impl.scoring import top1_accuracy

__all__ = []  # a DVC stage entry point (run/main), not library API

TINY_KNOBS = {"n_trials": 3, "n_startup_trials": 1, "pareto_trials": 4, "population_size": 2}


def export(study) -> list[dict]:
    """Content only (no datetimes): number, state, params, value(s), user attributes, constraints."""
    return [{"number": t.number, "state": t.state.name, "params": t.params, "values": t.values,
             "user_attrs": t.user_attrs, "constraints": t.constraints}
            for t in study.get_trials(deepcopy=False)]


def calibration_study(fp32_bytes: bytes, calibration, pixels, labels, seed: int):
    """GridSampler over ort_quant.GRID, maximising validation accuracy of each quantized model."""
    import optuna

    space = {"method": list(ort_quant.METHODS), "per_channel": [False, True], "reduce_range": [False, True]}

    def objective(trial) -> float:
        settings = {name: trial.suggest_categorical(name, choices) for name, choices in space.items()}
        int8 = ort_quant.quantize_static(fp32_bytes, calibration, **settings)
        return top1_accuracy(ort_quant.predict(int8, pixels), labels)

    with optuna_quiet():
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.GridSampler(space, seed=seed))
        study.optimize(objective, n_trials=len(ort_quant.GRID), n_jobs=1)
    return study


def run(knobs: dict, out_dir: Path) -> dict:
    data = artifacts.load_arrays("splits")
    weights, biases = model.load_layers(artifacts.path("weights"))
    pixels, labels = model.to_pixels(data["X_val"]), data["y_val"]
    float_accuracy = top1_accuracy(model.forward(weights, biases, pixels), labels)

    constrained = bitwidths.constrained_study(weights, biases, pixels, labels, n_trials=knobs["n_trials"],
                                              seed=knobs["seed"], max_size_ratio=knobs["max_size_ratio"],
                                              n_startup_trials=knobs["n_startup_trials"])
    best = bitwidths.feasible_best(constrained)
    pareto = bitwidths.pareto_study(weights, biases, pixels, labels, n_trials=knobs["pareto_trials"],
                                    seed=knobs["seed"], population_size=knobs["population_size"])
    calibration = calibration_study(artifacts.path("fp32").read_bytes(), model.to_pixels(data["X_calibration"]),
                                    pixels, labels, knobs["seed"])
    chosen = calibration.best_trial
    result = {
        "float_val_accuracy": float_accuracy,
        "constrained": {"trials": export(constrained), "max_size_ratio": knobs["max_size_ratio"],
                        "best": None if best is None else {"number": best.number, "params": best.params,
                                                           "value": best.value, **best.user_attrs}},
        "pareto": {"trials": export(pareto), "front": sorted(t.number for t in pareto.best_trials),
                   "directions": ["minimize", "minimize"], "objectives": ["val_error", "size_ratio"]},
        "calibration": {"trials": export(calibration), "chosen": {"number": chosen.number, "params": chosen.params,
                                                                  "value": chosen.value}},
    }
    write_json(out_dir, artifacts.FILES["search"], result)
    return {"float_val_accuracy": float_accuracy, "bits_best": None if best is None else best.params,
            "bits_best_val_accuracy": None if best is None else best.value, "pareto_front": len(pareto.best_trials),
            "calibration_choice": chosen.params, "calibration_val_accuracy": chosen.value}


main = stage_main(run, "l8_production", "search")

if __name__ == "__main__":
    sys.exit(main())
