"""The `beyond` group's bad-input claim: one valid call template per exported function (data only).

The tables live beside this file, one per half of the group (`inputs_models_and_metrics.py`: the study notes'
models, losses and metrics; `inputs_training_and_systems.py`: training, distribution, deep models and MLOps); the
sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the bad
values from each argument's kind.
"""
from impl.harness.input_claim import bad_input_claim
from specs.beyond.inputs_models_and_metrics import CASES as MODELS_AND_METRICS
from specs.beyond.inputs_training_and_systems import CASES as TRAINING_AND_SYSTEMS


test_rejects_bad_input = bad_input_claim("impl.beyond", MODELS_AND_METRICS + TRAINING_AND_SYSTEMS,
                                         subject="the `beyond` group", course="beyond the course")
