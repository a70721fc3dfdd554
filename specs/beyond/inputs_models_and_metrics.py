"""Valid call templates for the bad-input sweep of the `beyond` group (see test_inputs.py):
the study notes' models, losses and metrics.

Objects whose library is slow to import (torch models, fitted forests) are built lazily, when the
sweep runs; collecting the specs imports none of them."""
import functools

import numpy as np

from impl.beyond import (
    activations, batchnorm, bias_variance, dropout_mlp, ensembles, losses, metrics, regularisation, training, trees,
)
from impl.checks import MAX_DIM, MAX_STEPS
from impl.harness.kinds import (
    Array, Choice, Count, Flag, Instance, Labels, Lazy, Matrix, Real, Rng, Seed, Vector,
)
from impl.harness.sweep import Case

Y01 = np.array([0, 1, 0, 1, 1, 0, 1, 0])
SCORES = np.linspace(0.1, 0.9, 8)
X8 = np.arange(48.0).reshape(8, 6) / 10 + np.eye(8, 6)
Y8 = np.linspace(-1.0, 1.0, 8)
LOGITS = np.arange(12.0).reshape(4, 3) / 5 - 1
LABELS3 = np.array([0, 1, 2, 1])
BATCHES = np.arange(24.0).reshape(2, 4, 3) / 7 + np.eye(4, 3)
POSITIVE = dict(low=0.0, low_open=True)
PROBABILITY = dict(low=0.0, high=1.0, high_open=True)


@functools.cache
def _objects():
    """A fitted forest, a tiny MLP and its tensors (built when the sweep runs)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeRegressor

    from impl.l3_optim.mlp import to_tensors

    images = (np.arange(8 * 28 * 28) % 256).astype(np.uint8).reshape(8, 28, 28)
    return {"forest": RandomForestClassifier(3, random_state=0).fit(X8, Y01),
            "make_tree": lambda: DecisionTreeRegressor(max_depth=2),
            "model": dropout_mlp.make_mlp(4, 0.5, 0),
            "data": {"train": to_tensors(images, np.arange(8) % 10)}}


def built(name):
    return Instance(Lazy(lambda: _objects()[name]))


CASES = [
    Case(metrics.labels_from_confusion, Count(3, 0, 10**8), Count(2, 0, 10**8), Count(1, 0, 10**8), Count(4, 0, 10**8)),
    Case(metrics.mann_whitney_auc, Labels(Y01, 2, linked=True), Vector(SCORES, linked=True)),
    Case(metrics.best_threshold, Labels(Y01, 2, linked=True), Vector(SCORES, linked=True), Vector([0.2, 0.5, 0.8]),
         gain_tp=Real(1.0, 0.0), cost_fp=Real(0.1, 0.0), cost_fn=Real(0.0, 0.0)),
    Case(metrics.expected_calibration_error, Labels(Y01, 2, linked=True), Vector(SCORES, linked=True), Count(4, 1, 10**6)),
    Case(metrics.precision_at_recall, Labels(Y01, 2, linked=True), Vector(SCORES, linked=True), Real(0.5, 0.0, 1.0)),
    Case(trees.gini, Vector([6.0, 4.0])),
    Case(trees.split_gini, Vector([20.0, 30.0, 50.0], linked=True), Labels([1, 0, 0], linked=True), Real(25.0)),
    Case(trees.photon_lepton_table),
    Case(ensembles.hard_vote, built("forest"), Matrix(X8)),
    Case(ensembles.soft_vote, built("forest"), Matrix(X8)),
    Case(ensembles.friedman_replicates, built("make_tree"), Matrix(X8), num_replicates=Count(2, 2, 10**4),
         n_train=Count(20, 2, 10**6), noise=Real(1.0, 0.0), rng=Rng()),
    Case(ensembles.manual_boosting, Matrix(X8, linked=True), Vector(Y8, linked=True), num_trees=Count(2, 1, MAX_STEPS),
         lr=Real(0.1, **POSITIVE), max_depth=Count(2, 1, 64)),
    Case(ensembles.adaboost_bound, Vector([0.3, 0.4, 0.2])),
    Case(training.batches_per_epoch, Count(1000, 1, 10**8), Count(32, 1, 10**8), Flag(False)),
    Case(training.count_updates, Count(20, 1, 10**6), Count(8, 1, 10**6), Count(1, 1, 1000), drop_last=Flag(False),
         seed=Seed()),
    Case(training.minibatch_gradient_variance, Matrix(X8, linked=True), Vector(Y01.astype(float), linked=True),
         Vector(np.zeros(6)), Count(2, 1, 8), Count(5, 2, MAX_STEPS), Rng()),
    Case(bias_variance.decompose, Count(3, 0, 9), n=Count(10, 2, MAX_DIM), noise=Real(0.3, 0.0),
         num_replicates=Count(5, 2, 10**6), rng=Rng()),
    Case(losses.cross_entropy, Matrix(LOGITS, linked=True), Labels(LABELS3, 3, linked=True), Choice("numpy", losses.FRAMEWORKS)),
    Case(losses.binary_cross_entropy, Vector(SCORES - 0.5, linked=True), Labels(Y01, 2, linked=True),
         Choice("numpy_stable", losses.BINARY_FORMS)),
    Case(batchnorm.torch_batchnorm, Array(BATCHES), Matrix(BATCHES[0]), momentum=Real(0.1, 0.0, 1.0),
         eps=Real(1e-5, **POSITIVE), gamma=Real(1.0), beta=Real(0.0)),
    Case(batchnorm.keras_batchnorm, Array(BATCHES), Matrix(BATCHES[0]), momentum=Real(0.9, 0.0, 1.0),
         eps=Real(1e-5, **POSITIVE), gamma=Real(1.0), beta=Real(0.0)),
    Case(activations.activation, Matrix(LOGITS), Choice("relu", activations.NAMES), Choice("numpy", activations.FRAMEWORKS)),
    Case(activations.sigmoid_derivative, Matrix(LOGITS), Choice("torch", ("torch", "jax"))),
    Case(activations.depth_ratio, Choice("he", activations.INITS), depth=Count(3, 2, 1000), width=Count(8, 1, 4096), rng=Rng()),
    Case(activations.xor_accuracy, Count(2, 1, MAX_DIM), Choice("tanh", ("none", "tanh", "relu")), Seed(), Count(3, 1, 10**6)),
    Case(activations.clip_gradients, Matrix(LOGITS), Real(1.0, **POSITIVE)),
    Case(regularisation.sparse_regression, Count(20, 1, 10**6), Count(5, 1, MAX_DIM), Count(2, 0, 5), Real(1.0, 0.0), Rng()),
    Case(regularisation.weight_decay_path, Matrix(X8, linked=True), Vector(Y8, linked=True),
         rule=Choice("adamw", regularisation.DECAY_RULES), lam=Real(0.1, 0.0), lr=Real(0.05, **POSITIVE),
         num_steps=Count(2, 1, MAX_STEPS)),
    Case(regularisation.dropout_outputs, Matrix(X8), Real(0.3, **PROBABILITY), Seed()),
    Case(regularisation.mc_dropout_linear, Vector(Y8, linked=True), Matrix(X8, linked=True), Real(0.5, **PROBABILITY),
         Count(4, 1, 10**6), Seed()),
    Case(regularisation.early_stopping, Vector([1.0, 0.8, 0.9, 0.95]), Count(2, 0, 4)),
    Case(dropout_mlp.make_mlp, Count(4, 1, MAX_DIM), Real(0.5, **PROBABILITY), Seed(), Real(0.2, **PROBABILITY)),
    Case(dropout_mlp.train_curves, built("model"), built("data"), num_epochs=Count(1, 1, 10_000),
         batch_size=Count(4, 1, 10**6), lr=Real(0.001, **POSITIVE), seed=Seed(), progress=Flag(False)),
    Case(dropout_mlp.early_stop_epoch, Vector([1.0, 0.8, 0.9, 0.95]), Count(2, 0, 4)),
]
