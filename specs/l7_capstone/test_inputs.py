"""Lesson 7's bad-input claim: one valid call template per exported function (data only).

The sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the
bad values from each argument's kind. Spark ALS, the Optuna study, the MNIST loader and the
fresh-process reload are HeavyCases: only their bad calls are made, refused before any work.
"""
import functools

import numpy as np

from impl import onnx_tools
from impl.harness.input_claim import bad_input_claim
from impl.harness.kinds import (
    Choice, Count, Fixed, Flag, Instance, Lazy, Matrix, Optional, PathArg, Real, Rng, Seed, Tensor, Text, Vector,
)
from impl.harness.sweep import Case, HeavyCase
from impl.l7_capstone import als, compress, deploy, mf, mnist5k, ranking, recsys, serving

USER, ITEM = np.array([0, 1, 2, 0, 1, 2]), np.array([0, 0, 1, 1, 2, 2])
RATING = np.array([4.0, 3.0, 5.0, 2.0, 4.0, 1.0])
TRIPLES = recsys.Triples(USER, ITEM, RATING)
GAINS, ORDER, RELEVANT = np.array([3.0, 0.0, 1.0, 2.0]), np.array([0, 3, 2, 1]), np.array([1.0, 0.0, 1.0, 0.0])
SCORES = np.arange(12.0).reshape(3, 4)
EXCLUDE = np.zeros((3, 4), dtype=bool)
W = np.arange(12.0).reshape(3, 4) / 7 + np.eye(3, 4)
MLP_ARTIFACT = "data/models/l7_capstone/mlp.pt"
POSITIVE = dict(low=0.0, low_open=True)


@functools.cache
def _torch():
    """Small real torch objects, built when the sweep runs (collecting specs does not import torch)."""
    import tempfile
    from pathlib import Path

    import torch

    from impl.pipeline import artifacts

    model = mnist5k.make_student(0, 4)
    X = torch.randn(6, 784, generator=torch.Generator().manual_seed(0))
    onnx_path = Path(tempfile.mkdtemp()) / "tiny.onnx"
    onnx_path.write_bytes(deploy.to_onnx(model, 784))
    artifacts.require(MLP_ARTIFACT)
    return {"model": model, "X": X, "y": torch.tensor([0, 1, 2, 3, 4, 5]), "logits": torch.randn(6, 10, generator=torch.Generator().manual_seed(1)),
            "fit_mf": mf.make_mf(3, 3, 2, 3.0, 0), "biases": recsys.fit_biases(TRIPLES),
            "onnx_path": onnx_path, "session": onnx_tools.make_session(onnx_path), "X_np": X.numpy(),
            "fresh": lambda: mnist5k.make_student(0, 4), "ratings": _ratings()}


def _ratings():
    from impl.data import movielens

    return movielens.Ratings(USER + 1, ITEM + 1, RATING.astype(np.int64), np.arange(6))


def built(name):
    return Lazy(lambda: _torch()[name])


def fresh_model():
    return Lazy(lambda: _torch()["fresh"]())


MODEL, DATA = Instance(built("model")), Instance(TRIPLES)
X_T, Y_T = Tensor(built("X"), linked=True), Tensor(built("y"), 10, linked=True)
LOGITS = Tensor(built("logits"), linked=True)
SESSION, X_NP = Instance(built("session")), Matrix(np.random.default_rng(0).standard_normal((6, 784)))

# The student's weights are float32: torch refuses to mix float dtypes in a matmul, and casting would round.
FLOAT32_MODEL = "the student's weights are float32; a float64 input must be cast by the caller, not silently rounded"

CASES = [
    Case(recsys.triples, Vector(USER, linked=True), Vector(ITEM, linked=True), Vector(RATING, linked=True)),
    Case(recsys.from_movielens, Instance(built("ratings")), Vector(np.array([0, 2, 4]))),
    Case(recsys.as_triples, DATA, Fixed("value")),  # `name` is what the message calls the record
    Case(recsys.validation_slice, DATA, Real(0.5, 0.0, 1.0, low_open=True, high_open=True), Rng()),
    Case(recsys.rmse, Vector(RATING, linked=True), Vector(RATING[::-1].copy(), linked=True)),
    Case(recsys.fit_global_mean, DATA),
    Case(recsys.fit_biases, DATA, Real(15.0, 0.0), Real(10.0, 0.0), Count(3)),
    Case(recsys.predict, Instance(built("biases")), Vector(USER, linked=True), Vector(ITEM, linked=True)),
    Case(mf.make_mf, Count(3, 1, 10**5), Count(3, 1, 10**5), Count(2, 1, 1024), Real(3.0), Seed()),
    Case(mf.predict_mf, Instance(built("fit_mf")), Vector(USER, linked=True), Vector(ITEM, linked=True)),
    Case(mf.train_mf, DATA, lam=Real(0.1, 0.0), factors=Count(2, 1, 1024), lr=Real(0.01, **POSITIVE),
         batch_size=Count(2), num_epochs=Count(1), seed=Seed(), n_users=Count(3, 1, 10**5), n_items=Count(3, 1, 10**5),
         evaluation=Optional(DATA), progress=Flag(False), penalty=Choice("per_parameter", mf.PENALTIES)),
    Case(mf.score_matrix, Instance(built("fit_mf"))),
    HeavyCase(mf.tune_lambda, DATA, DATA, n_trials=Count(1, 1, 10_000), lam_range=Instance((1e-3, 1.0)), seed=Seed()),
    Case(ranking.dcg_at_k, Vector(GAINS), Vector(ORDER), Count(2, 1, 10**5)),
    Case(ranking.ndcg_at_k, Vector(GAINS), Vector(ORDER), Count(2, 1, 10**5)),
    Case(ranking.recall_at_k, Vector(RELEVANT), Vector(ORDER), Count(2, 1, 10**5)),
    Case(ranking.precision_at_k, Vector(RELEVANT), Vector(ORDER), Count(2, 1, 10**5)),
    Case(ranking.top_k, Matrix(SCORES), Instance(EXCLUDE), Count(2, 1, 4)),
    Case(ranking.popularity_scores, DATA, Count(3, 1, 10**5), Count(4, 1, 10**5)),
    Case(ranking.random_scores, Count(3, 1, 10**5), Count(4, 1, 10**5), Rng()),
    Case(ranking.expected_random_recall, DATA, DATA, Count(3, 1, 10**5), Count(2, 1, 10**5), Real(4.0)),
    Case(ranking.evaluate_top_k, Matrix(SCORES), DATA, DATA, Count(2, 1, 4), Real(4.0)),
    HeavyCase(als.fit_als, DATA, DATA, rank=Count(2, 1, 1024), max_iter=Count(1), reg_param=Real(0.1, 0.0), seed=Seed(),
              n_users=Count(3, 1, 10**6), n_items=Count(3, 1, 10**6)),
    Case(compress.linear_layers, MODEL),
    Case(compress.prune_global, Instance(fresh_model()), Real(0.5, 0.0, 1.0, high_open=True)),
    Case(compress.sparsity, MODEL),
    Case(compress.strip, Instance(fresh_model())),
    Case(compress.weight_count, MODEL),
    Case(compress.sparse_bytes, MODEL),
    Case(compress.low_rank_factors, Matrix(W), Count(2, 1, 3)),
    Case(compress.replace_low_rank, MODEL, Count(0, 0, 2), Count(2, 1, 4)),
    Case(compress.distill_loss, LOGITS, Tensor(built("logits"), linked=True), Y_T, Real(4.0, **POSITIVE),
         Real(0.9, 0.0, 1.0)),
    Case(compress.train_distilled, MODEL, LOGITS, X_T, Y_T, temperature=Real(4.0, **POSITIVE), alpha=Real(0.9, 0.0, 1.0),
         lr=Real(0.01, **POSITIVE), batch_size=Count(3), num_epochs=Count(1), seed=Seed(),
         X_val=Optional(Tensor(built("X"), linked=True)), y_val=Optional(Tensor(built("y"), 10, linked=True))
         ).rejects_equivalent("X", "float64", reason=FLOAT32_MODEL).rejects_equivalent(
        "X_val", "float64", reason=FLOAT32_MODEL),
    HeavyCase(mnist5k.tensors, Count(100, 10, 60_000), Count(100, 10, 10_000), Seed()),
    Case(mnist5k.make_mlp, Seed(), Count(4, 1, 10**5)),
    Case(mnist5k.make_teacher, Seed()),
    Case(mnist5k.make_student, Seed(), Count(4, 1, 10**5)),
    Case(deploy.to_onnx, MODEL, Count(784, 1, 10**5)),
    Case(deploy.locked_md5, Text(MLP_ARTIFACT)),
    Case(deploy.verify_against_lock, Text(MLP_ARTIFACT), Optional(PathArg(MLP_ARTIFACT))),
    Case(deploy.load_joblib_verified, Text("data/models/l7_capstone/logreg.joblib"),
         Optional(PathArg("data/models/l7_capstone/logreg.joblib"))),
    HeavyCase(deploy.predict_in_fresh_process, Choice("onnx", deploy.KINDS), Text("data/models/l7_capstone/lowrank.onnx"),
              X_NP, Real(60.0, **POSITIVE)),
    Case(serving.single_request_latency, SESSION, X_NP, warmup=Count(2, 1, 10**6), calls=Count(100, 100, 10**7)),
    Case(serving.batch_throughput, SESSION, X_NP, batch=Count(2, 1, 6), repeats=Count(3, 3, 10**5),
         warmup=Count(1, 1, 10**5)).answers_vary(reason="its answer is a throughput and its spread, both wall-clock"),
]


test_rejects_bad_input = bad_input_claim("impl.l7_capstone", CASES, subject="Lesson 7", course="Lesson 7")
