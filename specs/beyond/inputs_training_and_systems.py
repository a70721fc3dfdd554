"""Valid call templates for the bad-input sweep of the `beyond` group (see test_inputs.py):
training, distribution, deep models and MLOps.

Training, studies, subprocesses and anything that imports TensorFlow or loads a dataset is a
HeavyCase: only its bad calls are made, and those must fail before any work starts.
"""
import functools

import numpy as np

from impl.beyond import (allreduce, attention, autoencoder, checkpoint, cnn_shapes, cnn_speed, cnn_train, ddp, drift,
                         etl, fedavg, fgsm, gan, hyperband, movie_titles, snippets, transfer)
from impl.harness.kinds import (
    Choice, Count, Counts, Flag, Images, Instance, Labels, Lazy, Matrix, Optional, PathArg, Real, Rng, Seed, Tensor, Text,
    Vector,
)
from impl.harness.sweep import Case, HeavyCase  # noqa: F401  (the table below uses them)

IMAGES = (np.arange(8 * 28 * 28) % 256).astype(np.uint8).reshape(8, 28, 28)
DIGITS = np.array([0, 1, 2, 3, 4, 5, 6, 7])
FIVE = np.array([0, 1, 2, 3, 4, 0, 1, 2])
TEN_IMAGES, TWO_OF_FIVE = np.concatenate([IMAGES, IMAGES[:2]]), np.arange(10) % 5  # two images per class (2 folds)
X = np.arange(24.0).reshape(8, 3) / 10 + np.eye(8, 3)
Y = np.linspace(-1.0, 1.0, 8)
CLIENTS = np.array([0, 1] * 4)
CURVES = np.array([[3.0, 2.0, 1.5, 1.2], [2.5, 1.8, 1.0, 0.9], [4.0, 3.0, 2.5, 2.4]])
WORKERS = np.arange(18).reshape(3, 6)
P = np.array([0.2, 0.3, 0.5])
OPEN_UNIT = dict(low=0.0, high=1.0, low_open=True, high_open=True)


@functools.cache
def _built():
    """Small real objects, built when the sweep runs (collecting specs imports neither torch nor pandas)."""
    import pandas as pd

    images, labels = fgsm.to_unit_tensors(IMAGES, DIGITS)
    return {"mlp": fgsm.train_mlp(images, labels, 1, False, 0.1, 0), "images": images, "labels": labels,
            "cnn": cnn_shapes.notes_cnn_torch(0), "ae": autoencoder.train_autoencoder(X, (3, 2, 3), True, 2, 0.01, 0),
            "frame": etl.clean(etl.raw_sales(20, np.random.default_rng(0))),
            "titles": pd.Series(["Toy Story (1995)", "GoldenEye (1995)"]),
            "items": pd.DataFrame({"movie_title": ["Toy Story (1995)", "Heat (1995)"],
                                   **{g: [int(g == "Animation"), int(g == "Crime")] for g in movie_titles.GENRES}}),
            "rungs": hyperband.successive_halving(9, 3, 1), "small_cnn": transfer.from_scratch(IMAGES, FIVE, num_steps=1, seed=0)}


def built(name):
    return Lazy(lambda: _built()[name])


IMAGE_T, LABEL_T = Tensor(built("images"), linked=True), Tensor(built("labels"), 10, linked=True)

# The MLP's weights are float32: torch refuses to mix float dtypes in a matmul, and casting would round.
FLOAT32_MODEL = "the MLP's weights are float32; a float64 input must be cast by the caller, not silently rounded"

CASES = [
    Case(hyperband.successive_halving, Count(27, 1, 10**7), Count(3, 2, 1000), Count(1, 1, 10**7)),
    Case(hyperband.halving_cost, Instance(built("rungs"))),
    Case(hyperband.hyperband_brackets, Count(81, 1, 10**7), Count(3, 2, 1000)),
    Case(hyperband.synthetic_curves, Count(4, 1, 10**5), Count(5, 1, 10**4), Rng()),
    Case(hyperband.pruned_study, Matrix(CURVES), Choice("sh", ("sh", "hyperband")), Count(3, 2, 1000), Seed()),
    Case(allreduce.ring_allreduce, Matrix(WORKERS)),
    Case(allreduce.parameter_server_mean, Matrix(WORKERS)),
    Case(allreduce.delay_stability_edge, Count(1, 0, 10**6)),
    Case(allreduce.stale_gradient_descent, Vector(np.linspace(1.0, 10.0, 4)), Real(0.05, 0.0, low_open=True),
         Count(1, 0, 10**4), Count(10)).reports_divergence(
        reason="B.data_parallel claims read an error norm that grows to inf as the divergence past the stability edge"),
    Case(allreduce.sync_step_time, Count(8, 1, 10**4), Count(7, 1, 8), Count(10), Rng()),
    Case(attention.attention, Matrix(X), Matrix(X), Matrix(X, linked=True), Flag(False)),
    Case(attention.logit_variance, Count(4, 1, 10**5), Count(10, 2), Rng()),
    Case(attention.mean_top_weight, Count(4, 1, 10**5), Count(3, 1, 10**5), Count(10, 2), Flag(True), Rng()),
    Case(gan.optimal_discriminator, Vector(Y), Real(1.0, -20.0, 20.0)),
    Case(gan.value_at_optimum, Real(1.0, -20.0, 20.0)),
    Case(gan.jensen_shannon, Real(1.0, -20.0, 20.0)),
    Case(gan.fit_discriminator, Real(1.0, -20.0, 20.0), Count(50, 2), Rng()),
    Case(drift.binned_fractions, Vector(np.linspace(0.0, 1.0, 20)), Vector(Y), Count(4, 2, 20)),
    Case(drift.psi, Vector(P), Vector(P[::-1].copy(), linked=True)),
    Case(drift.kl_divergence, Vector(P), Vector(P[::-1].copy(), linked=True)),
    Case(drift.ks_detection_rate, Real(0.3, -100.0, 100.0), Count(20, 2), Count(3), Real(0.01, **OPEN_UNIT), Rng()),
    Case(drift.adf_rejection_rate, Matrix(np.cumsum(np.random.default_rng(0).standard_normal((2, 30)), axis=1)),
         Real(0.05, **OPEN_UNIT)),
    HeavyCase(checkpoint.train, Seed(), Count(1, 1, 1000), Optional(PathArg("in.pt")), PathArg("out.pt"), Flag(True)),
    HeavyCase(checkpoint.train_in_fresh_process, Seed(), Count(1, 1, 1000), Optional(PathArg("in.pt")),
              PathArg("out.pt"), Flag(True)),
    Case(cnn_shapes.conv_output_size, Count(28, 1, 10**5), Count(3, 1, 10**5), Count(0, 0, 10**5), Count(1, 1, 10**5)),
    Case(cnn_shapes.notes_cnn_torch, Seed()),
    HeavyCase(cnn_shapes.notes_cnn_keras, Seed()),
    Case(cnn_shapes.torch_feature_shapes, Instance(built("cnn")), Count(28, 1, 4096)),
    Case(cnn_shapes.receptive_field, Count(2, 1, 50), Count(2, 1, 256)),
    HeavyCase(cnn_shapes.lstm_param_counts, Count(3, 1, 4096), Count(8, 1, 4096)),
    HeavyCase(cnn_shapes.bottleneck_keras),
    Case(cnn_train.image_tensor, Images(IMAGES)),
    Case(cnn_train.train_notes_cnn, Images(IMAGES, linked=True), Labels(DIGITS, 10, linked=True),
         Real(1.0, 0.0, 100.0, low_open=True), Count(4, 1, 8), Real(0.01, 0.0, 1.0, low_open=True), Seed(),
         Count(1, 1, 10**6)),
    Case(cnn_train.accuracy, Instance(built("cnn")), Images(IMAGES, linked=True), Labels(DIGITS, 10, linked=True)),
    HeavyCase(cnn_speed.measure, Real(2.0, 0.0, 100.0, low_open=True), Count(128, 1, 60_000), Real(0.004, 0.0, 1.0, low_open=True),
              Count(5, 1, 100), Count(64, 1, 60_000), Count(50, 1, 10_000), Count(7, 3, 100)),
    HeavyCase(cnn_speed.measure_in_fresh_process, Real(2.0, 0.0, 100.0, low_open=True), Count(128, 1, 60_000),
              Real(0.004, 0.0, 1.0, low_open=True), Count(5, 1, 100), Count(64, 1, 60_000), Count(50, 1, 10_000), Count(7, 3, 100),
              Real(900.0, 0.0, 7200.0, low_open=True)),
    HeavyCase(ddp.backend_all_reduce, Choice("gloo", ("gloo", "nccl")), Count(2, 1, 8)),
    Case(ddp.sampler_orders, Count(10, 1, 10**7), Count(2, 1, 1024), Count(0, 0, 1), Count(2, 1, 1000), Flag(True)),
    Case(etl.raw_sales, Count(10, 1, 10**7), Rng()),
    Case(etl.clean, Instance(Lazy(lambda: etl.raw_sales(10, np.random.default_rng(0))))),
    Case(etl.round_trip, Instance(built("frame")), Choice("sqlite3", ("sqlite3", "sqlalchemy"))),
    Case(fedavg.least_squares_rounds, Matrix(X), Vector(Y, linked=True), Labels(CLIENTS, linked=True),
         Real(0.05, 0.0, 10.0, low_open=True), Count(2, 1, 10**5)),
    Case(fedavg.centralized_gd, Matrix(X), Vector(Y, linked=True), Real(0.05, 0.0, 10.0, low_open=True), Count(2, 1, 10**5)),
    Case(fedavg.partition, Labels(DIGITS), Count(2, 1, 8), Choice("iid", ("iid", "one_class")), Rng()),
    Case(fedavg.fedavg_mlp, Matrix(X), Labels(CLIENTS, linked=True), Labels(CLIENTS, linked=True), Matrix(X),
         Labels(CLIENTS, linked=True), Count(4, 1, 4096), Count(1, 1, 1000), Count(1, 1, 1000),
         Real(0.05, 0.0, 10.0, low_open=True), Seed()),
    Case(autoencoder.pca_error, Matrix(X), Count(2, 1, 3)),
    Case(autoencoder.train_autoencoder, Matrix(X), Counts((3, 2, 3)), Flag(True), Count(2, 1, 10**6),
         Real(0.01, 0.0, 1.0, low_open=True), Seed()),
    Case(autoencoder.reconstruction_errors, Instance(built("ae")), Matrix(X)),
    Case(autoencoder.principal_cosines, Matrix(np.eye(2, 3)), Matrix(np.eye(3, 2))),
    Case(autoencoder.salt_and_pepper, Matrix(X), Real(0.3, 0.0, 1.0), Real(0.0), Real(1.0), Rng()),
    Case(fgsm.to_unit_tensors, Images(IMAGES, linked=True), Labels(DIGITS, 10, linked=True)),
    Case(fgsm.fgsm, Instance(built("mlp")), IMAGE_T, LABEL_T, Real(0.1, 0.0, 1.0)).rejects_equivalent(
        "X", "float64", reason=FLOAT32_MODEL),
    Case(fgsm.random_sign, Tensor(built("images")), Real(0.1, 0.0, 1.0), Seed()),
    Case(fgsm.train_mlp, IMAGE_T, LABEL_T, Count(1, 1, 1000), Flag(True), Real(0.1, 0.0, 1.0), Seed()).rejects_equivalent(
        "X", "float64", reason=FLOAT32_MODEL),
    Case(fgsm.accuracy, Instance(built("mlp")), IMAGE_T, LABEL_T).rejects_equivalent("X", "float64", reason=FLOAT32_MODEL),
    Case(transfer.network, Seed(), Choice("probe", ("notes", "probe"))),
    Case(transfer.pretrain, Images(IMAGES, linked=True), Labels(FIVE, 5, linked=True), Images(IMAGES, linked=True),
         Labels(FIVE, 5, linked=True), max_epochs=Count(1, 1, 1000), patience=Count(1, 1, 1000), seed=Seed()),
    Case(transfer.fine_tune_head, Instance(built("small_cnn")), Images(IMAGES, linked=True), Labels(FIVE, 5, linked=True),
         l2=Real(0.1, 0.0), max_iter=Count(5, 1, 10**5), seed=Seed()),
    Case(transfer.choose_l2, Instance(built("small_cnn")), Images(TEN_IMAGES, linked=True),
         Labels(TWO_OF_FIVE, 5, linked=True), Vector([0.1]), num_folds=Count(2, 2, 10), seed=Seed()),
    Case(transfer.from_scratch, Images(IMAGES, linked=True), Labels(FIVE, 5, linked=True), num_steps=Count(1, 1, 10**5),
         seed=Seed()),
    Case(transfer.accuracy, Instance(built("small_cnn")), Images(IMAGES, linked=True), Labels(FIVE, 5, linked=True)),
    Case(transfer.backbone_state, Instance(built("small_cnn"))),
    Case(transfer.same_backbone, Instance(built("small_cnn")), Instance(built("small_cnn"))),
    Case(snippets.describe, Vector(Y)),
    Case(snippets.gradient_descent_line, Vector(Y), Vector(2 * Y, linked=True), Real(0.01, 0.0, 10.0, low_open=True),
         Count(10, 0, 10**7)),
    Case(snippets.epochs_to_tolerance, Vector(Y), Vector(2 * Y + 1, linked=True), Real(0.1, 0.0, 10.0, low_open=True),
         Real(0.1, 0.0, low_open=True), Count(10, 1, 10**7)),
    Case(snippets.regressors_on_points, Vector(Y), Vector(2 * Y, linked=True), Vector(Y[:3].copy())),
    Case(snippets.iris_scores, Real(0.3, **OPEN_UNIT), Seed()),
    HeavyCase(snippets.keras_mlp_accuracy, Images(IMAGES, linked=True), Labels(DIGITS, 10, linked=True),
              Images(IMAGES, linked=True), Labels(DIGITS, 10, linked=True), Flag(True), Count(1, 1, 1000)),
    Case(movie_titles.unavailable_reason),
    HeavyCase(movie_titles.items),
    Case(movie_titles.strip_years, Instance(built("titles")), Flag(True)),
    Case(movie_titles.add_rating, Matrix(X), Vector(Y, linked=True)),
    Case(movie_titles.cosine_similarity, Matrix(X)),
    Case(movie_titles.cross_cosine, Matrix(X), Matrix(X[:3].copy())),
    HeavyCase(movie_titles.bert_encoder_error, Text("bert-base-uncased")),
    Case(movie_titles.content_texts, Instance(built("items"))),
    Case(movie_titles.tfidf_similarity, Instance(["toy story animation", "heat crime"]), Instance(["crime"])),
    Case(movie_titles.tied_at_rank, Matrix(X @ X.T), Count(2, 1, 7), Real(1e-12, 0.0, 1.0), Flag(True)),
    Case(ddp.sgd_batches, Count(2, 1, 8), Count(3, 1, 10_000)),
    HeavyCase(ddp.ddp_sgd, Count(3, 1, 10_000), Real(0.05, 0.0, 10.0, low_open=True), Count(2, 1, 8)),
    Case(ddp.sgd_reference, Count(3, 1, 10_000), Real(0.05, 0.0, 10.0, low_open=True), Count(2, 1, 8), Flag(False)),
]
