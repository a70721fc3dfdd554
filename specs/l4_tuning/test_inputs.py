"""Lesson 4's bad-input claim: one valid call template per exported function (data only).

The sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the
bad values from each argument's kind; nothing here is chosen per bad value.
"""
import functools

import numpy as np

from impl.harness.input_claim import bad_input_claim
from impl.harness.kinds import (
    Choice, Count, Counts, Fields, Flag, Images, Instance, Labels, Lazy, Matrix, Optional, PathArg, Real, Rng, Seed,
    Tensor, Text, Vector,
)
from impl.harness.sweep import Case, HeavyCase
from impl.l4_tuning import cifar_cnn, lstm_study, postgres, storage, studies, sunspots_lstm, workers
from impl.l4_tuning import benchmarks, comparison, curves, importance, pruning, search_spaces

# A float64 tensor for a float32 network: torch refuses to mix dtypes in a matmul, and casting would round.
FLOAT32_MODEL = "the network's weights are float32; a float64 input must be cast by the caller, not silently rounded"

CASES = [
    Case(storage.storage_url, Optional(PathArg("/tmp/claims-sweep/optuna.db"))),
    Case(storage.make_storage, Text("sqlite:///:memory:"), heartbeat_interval=Optional(Count(1, 1, 3600)),
         grace_period=Optional(Count(2, 1, 86400)), max_retry=Count(0, 0, 100)),
]


def _frozen_trial():
    import optuna

    return optuna.create_trial(params={"x": 0.5}, distributions={"x": optuna.distributions.FloatDistribution(0, 1)},
                               value=1.0)


# Storage, a PostgreSQL server, worker processes: starting a worker (or opening a study) is heavy, so only
# bad calls are made, and they must be refused before a file is opened or a process started.
WORKER = dict(trial_sleep_s=Real(0.0, 0.0, 60.0), hang_at=Optional(Count(1, 0, 10_000)),
              hang_limit_s=Real(600.0, 0.0, 3600.0, low_open=True), heartbeat_interval=Optional(Count(1, 1, 3600)),
              grace_period=Optional(Count(2, 1, 86400)), max_retry=Count(0, 0, 100), snapshot=Flag(False))
CASES += [
    Case(storage.trial_record, Instance(Lazy(_frozen_trial))),
    Case(postgres.find_bindir),
    Case(postgres.unavailable_reason, Optional(Text("postgres"))),
    Case(postgres.local_server, Real(60.0, 0.0, 3600.0, low_open=True), run_as=Optional(Text("postgres"))),
    Case(workers.sphere, Real(0.5), Real(-0.5)),
    HeavyCase(workers.optimize_worker, Text("sqlite:///:memory:"), Text("study"), Count(2, 1, 10_000), Seed(),
              ready=Optional(Instance(print)), **WORKER),
    HeavyCase(workers.start_worker, Text("sqlite:///:memory:"), Text("study"), Count(2, 1, 10_000), Seed(),
              wait_go=Flag(False), go_timeout_s=Real(300.0, 0.0, 3600.0, low_open=True), **WORKER),
]


# The tuning stages' library (studies, the CIFAR-10 CNN, the sunspot forecasters): small real objects.
def _tuned_study():

    study = studies.new_study("sweep", "sqlite:///:memory:", direction="minimize", seed=0, n_startup_trials=1,
                              pruner_startup_trials=1, pruner_warmup_steps=0)
    studies.optimize(study, lambda trial: (trial.suggest_float("x", 0.0, 1.0) - 0.3) ** 2
                     + 0.0 * trial.suggest_int("k", 1, 3), 3, progress=False)
    return study


@functools.cache
def _l4_objects():
    """Built when the sweep runs (collecting specs does not import torch or optuna)."""
    from impl.l4_tuning import cifar_cnn, studies, sunspots_lstm

    images, labels = cifar_cnn.to_tensors(CIFAR_IMAGES, CIFAR_LABELS)
    study = _tuned_study()
    lstm = sunspots_lstm.make_lstm(0, 3)
    return {"study": study, "export": studies.export_trials(study), "images": images, "labels": labels,
            "cnn_parameters": list(cifar_cnn.make_cnn(0, 1, 2, 0.0).parameters()), "lstm": lstm,
            "hook": lambda *_: False}


def l4(name):
    return Lazy(lambda: _l4_objects()[name])


CIFAR_IMAGES = (np.arange(4 * 3 * 32 * 32) % 256).astype(np.uint8).reshape(4, 3, 32, 32)
CIFAR_LABELS = np.array([0, 1, 2, 3])
SUNSPOTS = 50 + 40 * np.sin(np.arange(40) / 2.0)  # a 40-year stand-in series
WINDOWS = np.stack([SUNSPOTS[i: i + 3] for i in range(6)])
CNN_CONFIG = Fields(cifar_cnn.CnnConfig(1, 2, 0.0, "adam", 0.01), depth=Count(1, 1, cifar_cnn.MAX_DEPTH),
                    width=Count(2, 1, cifar_cnn.MAX_WIDTH), dropout=Real(0.0, 0.0, 1.0, high_open=True),
                    optimizer=Choice("adam", cifar_cnn.OPTIMIZERS), lr=Real(0.01, 0.0, low_open=True))
IMAGES_T, LABELS_T = Tensor(l4("images"), linked=True), Tensor(l4("labels"), 10, linked=True)
TRIALS = Count(1, 0, studies.MAX_TRIALS)
CASES += [
    Case(studies.study_storage),
    Case(studies.new_study, Text("sweep"), Text("sqlite:///:memory:"), direction=Choice("maximize", studies.DIRECTIONS),
         seed=Seed(), n_startup_trials=TRIALS, pruner_startup_trials=TRIALS, pruner_warmup_steps=Count(0, 0, 10**6),
         pruner_interval_steps=Count(1, 1, 10**6)),
    Case(studies.optimize, Instance(l4("study")), Instance(lambda trial: trial.suggest_float("x", 0.0, 1.0)),
         Count(1, 1, studies.MAX_TRIALS), desc=Text("sweep"), progress=Flag(False), shared=Flag(False)),
    Case(studies.export_trials, Instance(l4("study"))),
    Case(studies.history, Instance(l4("export"))),
    Case(studies.param_importances, Instance(l4("study")), Seed()),
    Case(studies.run_study, Text("sweep"), Instance(lambda trial: trial.suggest_float("x", 0.0, 1.0)),
         Instance({"seed": 0, "n_trials": 2, "n_startup_trials": 1, "pruner_startup_trials": 1, "pruner_warmup_steps": 0}),
         direction=Choice("minimize", studies.DIRECTIONS), held_out=Instance(studies.HeldOut(lambda: None))),
    Case(cifar_cnn.make_cnn, Seed(), Count(1, 1, cifar_cnn.MAX_DEPTH, cheap_max=True),
         Count(2, 1, cifar_cnn.MAX_WIDTH, cheap_max=True), Real(0.1, 0.0, 1.0, high_open=True)),
    Case(cifar_cnn.to_tensors, Images(CIFAR_IMAGES, linked=True), Labels(CIFAR_LABELS, 10, linked=True)),
    Case(cifar_cnn.make_optimizer, Choice("adam", cifar_cnn.OPTIMIZERS), Instance(l4("cnn_parameters")),
         Real(0.1, 0.0, low_open=True)),
    Case(cifar_cnn.train_cnn, CNN_CONFIG, IMAGES_T, LABELS_T, IMAGES_T, LABELS_T, seed=Seed(), num_epochs=Count(1),
         batch_size=Count(2), on_epoch=Optional(Instance(l4("hook")))).rejects_equivalent(
        "X", "float64", reason=FLOAT32_MODEL).rejects_equivalent("X_val", "float64", reason=FLOAT32_MODEL),
    Case(sunspots_lstm.windows, Vector(SUNSPOTS), Count(3, 1, 39, cheap_max=True), Count(5, 3, 39, cheap_max=True),
         Count(10, 6, 40, cheap_max=True)),
    Case(sunspots_lstm.make_lstm, Seed(), Count(3, 1, 10**5)),
    Case(sunspots_lstm.fit_lstm, Instance(l4("lstm")), Matrix(WINDOWS, linked=True), Vector(SUNSPOTS[3:9], linked=True),
         lr=Real(0.01, 0.0, low_open=True), num_epochs=Count(2), batch_size=Count(4), seed=Seed(),
         schedule=Choice("cosine", sunspots_lstm.SCHEDULES), eval_every=Count(1),
         on_eval=Optional(Instance(l4("hook")))),
    Case(sunspots_lstm.predict, Instance(l4("lstm")), Matrix(WINDOWS)),
    Case(sunspots_lstm.rmse, Vector(SUNSPOTS, linked=True), Vector(SUNSPOTS[::-1], linked=True)),
    Case(sunspots_lstm.persistence_forecast, Vector(SUNSPOTS), Count(1, 1, 39, cheap_max=True), Count(5, 2, 40, cheap_max=True)),
    Case(sunspots_lstm.autoreg_forecast, Vector(SUNSPOTS), Count(2, 1, 1000), Count(30, 6, 40, cheap_max=True),
         Count(35, 2, 39, cheap_max=True), Count(40, 36, 40)),
]


def _lstm_knobs():
    from impl.pipeline import params

    return params.knobs("l4_tuning", "lstm")


# The sunspot LSTM's study and the schedule decision: a good call trains LSTMs for minutes, so bad calls only.
LSTM_KNOBS = Instance(Lazy(_lstm_knobs))
CASES += [
    Case(lstm_study.load_periods, LSTM_KNOBS),
    HeavyCase(lstm_study.validation_study, Vector(SUNSPOTS), Count(30, 2, 39), LSTM_KNOBS, name=Text("sweep"),
              held_out=Optional(Instance(studies.HeldOut(lambda: None)))),
    HeavyCase(lstm_study.compare_schedules, Vector(SUNSPOTS), Count(30, 2, 39), LSTM_KNOBS, Counts((0, 1), minimum=0)),
]

# Samplers, pruners and importance on synthetic objectives (benchmarks, curves): every good call is a tiny study.
CURVE = {0: 0.5, 1: 0.4, 2: 0.45}
PRUNER_SETTINGS = dict(n_startup_trials=Count(5, 0, pruning.MAX_TRIALS), n_warmup_steps=Count(0, 0, 10**7),
                       interval_steps=Count(1, 1, 10**7), n_min_trials=Count(1, 1, pruning.MAX_TRIALS),
                       maximize=Flag(False))
BRANIN = Instance(Lazy(benchmarks.branin_benchmark))
CASES += [
    Case(benchmarks.branin, Vector([1.0, 2.0])),
    Case(benchmarks.branin_benchmark),
    Case(benchmarks.sphere_shift, Count(3, 1, benchmarks.MAX_SPHERE_DIM, cheap_max=True)),
    Case(benchmarks.shifted_sphere, Vector([1.0, 2.0, 3.0], linked=True), Vector([0.5, -1.0, 2.5], linked=True)),
    Case(benchmarks.sphere_benchmark, Count(3, 1, benchmarks.MAX_SPHERE_DIM, cheap_max=True)),
    Case(comparison.make_sampler, Choice("tpe", comparison.SAMPLERS), Seed()),
    Case(comparison.study_trace, BRANIN, Choice("tpe", comparison.SAMPLERS), Count(3, 1, comparison.MAX_TRIALS), Seed())
    .refuses("box-of-unequal-sides", naming=("lower", "upper"), benchmark=benchmarks.Benchmark(
        "unequal", (-5.0, 0.0, 0.0), (10.0, 15.0), benchmarks.BRANIN_MINIMUM, (0.0, 5.0), benchmarks.branin)),
    Case(comparison.best_so_far, Vector([3.0, 1.0, 2.0])),
    Case(comparison.regret_curves, BRANIN, Choice("random", comparison.SAMPLERS), Count(3, 1, comparison.MAX_TRIALS),
         Counts((0, 1), minimum=0)),
    Case(curves.config_plateau, Real(0.01, *curves.LR_RANGE, cheap_high=True),
         Real(0.1, *curves.DROPOUT_RANGE, cheap_high=True)),
    Case(curves.lr_time_constant, Real(0.01, *curves.LR_RANGE, cheap_high=True)),
    Case(curves.learning_curve, Real(0.2, 0.0, 1.0, cheap_high=True), Real(4.0, 0.0, low_open=True), Count(5, 1, 10**7),
         Real(0.01, 0.0), Rng()),
    Case(pruning.make_pruner, Choice("median", pruning.PRUNERS)),
    Case(pruning.median_oracle, Instance(CURVE), Instance([CURVE] * 5), percentile=Real(50.0, 0.0, 100.0, cheap_high=True),
         **PRUNER_SETTINGS),
    Case(pruning.replay_median_pruner, Instance([CURVE] * 6), **PRUNER_SETTINGS),
    Case(pruning.run_curve_study, Choice("hyperband", pruning.PRUNERS), n_trials=Count(3, 1, pruning.MAX_TRIALS),
         num_steps=Count(4, 1, 10**7), seed=Seed(), noise_sd=Real(0.002, 0.0), crossing=Flag(False)),
    Case(search_spaces.random_suggestions, Real(1.0, 0.0, low_open=True), Real(10.0, 1.0, low_open=True),
         Count(1, 1, 2**53), Count(10, 2, 2**53), float_step=Real(1.0, 0.0, 9.0, low_open=True, cheap_high=True),
         int_step=Count(3, 1, 9, cheap_max=True), n_trials=Count(5, 1, search_spaces.MAX_TRIALS), seed=Seed()),
    Case(search_spaces.grid_visits, Instance({"a": [0.0, 1.0], "b": [2.0, 3.0]}), Count(20, 1, search_spaces.MAX_TRIALS),
         Seed()),
    Case(importance.dominant_parameter_study, Count(3, 1, importance.MAX_TRIALS), Seed(), Real(0.01, 0.0)),
    Case(importance.param_importances, Instance(Lazy(lambda: importance.dominant_parameter_study(6, 0, 0.01))),
         Choice("fanova", importance.EVALUATORS), Seed()),
]


test_rejects_bad_input = bad_input_claim("impl.l4_tuning", CASES, subject="Lesson 4", course="Lesson 4")
