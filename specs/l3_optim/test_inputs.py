"""Lesson 3's bad-input claim: one valid call template per exported function (data only).

The sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the
bad values from each argument's kind; nothing here is chosen per bad value. Training on MNIST
is a HeavyCase: only its bad calls are made, and those must fail before any data is loaded.
"""
import functools

import numpy as np

from impl.harness.input_claim import bad_input_claim
from impl.harness.kinds import (
    Choice, Count, Fields, Flag, Images, Instance, Labels, Lazy, Matrix, Optional, Real, Rng, Seed, Tensor, Vector,
)
from impl.harness.sweep import Case, HeavyCase
from impl.l3_optim import adam, autodiff, cnn, frameworks, loaders, logreg, lr, mlp, mnist_data, quadratic

X = np.arange(24.0).reshape(8, 3) / 10 + np.eye(8, 3)
Y01 = np.array([0.0, 1.0] * 4)
LABELS = np.array([0, 1, 2, 3] * 2)
W3 = np.zeros(3)
A = np.diag([1.0, 2.0, 3.0])
NET = autodiff.make_net(3, 1, 2)
THETA = np.linspace(-0.5, 0.5, NET.num_params)
IMAGES = (np.arange(8 * 28 * 28) % 256).astype(np.uint8).reshape(8, 28, 28)
POSITIVE = dict(low=0.0, low_open=True)
CONFIG = Fields(adam.AdamConfig(), lr=Real(0.01, **POSITIVE), beta1=Real(0.9, 0.0, 1.0, high_open=True),
                beta2=Real(0.999, 0.0, 1.0, high_open=True), eps=Real(1e-8, 0.0))


@functools.cache
def _torch():
    """Small real torch objects, built when the sweep runs (collecting specs does not import torch)."""
    images, labels = mlp.to_tensors(IMAGES, LABELS)
    model = mlp.make_mlp(0, 4)
    work = frameworks.make_workload(X, LABELS, hidden=4, batch_size=2, num_steps=3, lr=0.1, rng=np.random.default_rng(0))
    step, reset = frameworks.torch_trainer(work)
    return {"images": images, "labels": labels, "model": model, "work": work, "step": step, "reset": reset,
            "parameters": list(model.parameters()), "optimizer": mlp.make_optimizer("sgd", model.parameters(), 0.1),
            "batches": loaders.fast_batches(images, labels, batch_size=2, seed=0),
            "loader": loaders.course_loader(IMAGES, LABELS, batch_size=2, seed=0), "on_epoch": lambda *_: False}


def built(name):
    return Lazy(lambda: _torch()[name])


# A float64 tensor for a float32 model: torch refuses to mix dtypes in a matmul, and casting would round.
FLOAT32_MODEL = "the model's weights are float32; a float64 input must be cast by the caller, not silently rounded"
IMAGE_T, LABEL_T = Tensor(built("images"), 10, linked=True), Tensor(built("labels"), 10, linked=True)
MODEL, OPTIMIZER, WORK = Instance(built("model")), Instance(built("optimizer")), Instance(built("work"))

CASES = [
    Case(adam.logistic_problem, Count(8), Count(3), Rng()).refuses("n*d-over-cap", naming=("n", "d"), n=10**4 + 1, d=10**4),
    Case(adam.logistic_grad, Vector(W3, linked=True), Matrix(X, linked=True), Vector(Y01, linked=True)),
    Case(adam.adam_numpy, Matrix(X, linked=True), Vector(Y01, linked=True), Vector(W3, linked=True), CONFIG, Count(2)),
    Case(adam.adam_jax, Matrix(X, linked=True), Vector(Y01, linked=True), Vector(W3, linked=True), CONFIG, Count(2)),
    Case(adam.adam_torch, Matrix(X, linked=True), Vector(Y01, linked=True), Vector(W3, linked=True), CONFIG, Count(2)),
    Case(autodiff.make_net, Count(3), Count(1), Count(2)),
    Case(autodiff.grad_jax, Instance(NET), Vector(THETA, linked=True), Matrix(X, linked=True), Vector(Y01, linked=True)),
    Case(autodiff.grad_torch, Instance(NET), Vector(THETA, linked=True), Matrix(X, linked=True), Vector(Y01, linked=True)),
    Case(autodiff.grad_central_difference, Instance(NET), Vector(THETA, linked=True), Matrix(X, linked=True),
         Vector(Y01, linked=True), Real(1e-6, **POSITIVE)),
    Case(autodiff.torch_gradcheck, Instance(NET), Vector(THETA, linked=True), Matrix(X, linked=True), Vector(Y01, linked=True)),
    Case(cnn.make_cnn, Seed()),
    Case(frameworks.make_workload, Matrix(X, linked=True), Labels(LABELS, 10, linked=True), hidden=Count(4),
         batch_size=Count(2, 1, 8), num_steps=Count(3), lr=Real(0.1, **POSITIVE), rng=Rng()),
    Case(frameworks.jax_trainer, WORK),
    Case(frameworks.torch_trainer, WORK, Flag(False)),
    Case(frameworks.losses, Instance(built("step")), Instance(built("reset")), Count(3)),
    Case(loaders.course_dataset, Images(IMAGES, linked=True), Labels(LABELS, 10, linked=True)),
    Case(loaders.course_loader, Images(IMAGES, linked=True), Labels(LABELS, 10, linked=True), batch_size=Count(2),
         seed=Seed()),
    Case(loaders.fast_batches, IMAGE_T, LABEL_T, batch_size=Count(2), seed=Seed()),
    Case(loaders.course_batches, Instance(built("loader"))),
    Case(loaders.train_steps, MODEL, OPTIMIZER, Instance(built("batches")), Count(2)).answers_vary(
        reason="batches is a generator the good call consumes, and a generator cannot be copied"),
    Case(logreg.standardize, Matrix(X)),
    Case(logreg.smoothness_lr, Matrix(X)),
    Case(logreg.gd_jax, Matrix(X, linked=True), Labels(LABELS, linked=True), Real(0.1, **POSITIVE), Count(2), Count(1)),
    Case(logreg.gd_torch, Matrix(X, linked=True), Labels(LABELS, linked=True), Real(0.1, **POSITIVE), Count(2), Count(1)),
    Case(lr.range_test, Matrix(X, linked=True), Labels(LABELS, 10, linked=True), Real(0.1, **POSITIVE), num_steps=Count(2),
         batch_size=Count(2), hidden=Count(4), seed=Seed()),
    Case(lr.minibatches, Count(100, 1, 10**8), Count(64, 1, 10**8), Count(5, 1, 10**7), Seed()),
    Case(lr.schedule, Choice("cosine", lr.SCHEDULES), Real(0.1, **POSITIVE), Count(5)),
    Case(lr.streaming_least_squares, Vector([0.1, 0.05]), dim=Count(2), noise=Real(0.1, 0.0), rng=Rng())
    .refuses("rates*dim-over-cap", naming=("rates", "dim"), rates=np.full(1001, 0.01), dim=10**5),
    Case(mlp.make_mlp, Seed(), Count(4)),
    Case(mlp.to_tensors, Images(IMAGES, linked=True), Labels(LABELS, 10, linked=True)),
    Case(mlp.make_optimizer, Choice("sgd", mlp.OPTIMIZERS), Instance(built("parameters")), Real(0.1, **POSITIVE),
         Real(0.9, 0.0, 1.0, high_open=True)),
    Case(mlp.evaluate, MODEL, IMAGE_T, LABEL_T, Count(2)).rejects_equivalent("X", "float64", reason=FLOAT32_MODEL),
    Case(mlp.train, MODEL, OPTIMIZER, IMAGE_T, LABEL_T, batch_size=Count(2), num_epochs=Count(1), seed=Seed(),
         X_eval=Optional(IMAGE_T), y_eval=Optional(LABEL_T), on_epoch=Optional(Instance(built("on_epoch"))),
         progress=Flag(False)).rejects_equivalent("X", "float64", reason=FLOAT32_MODEL).rejects_equivalent(
        "X_eval", "float64", reason=FLOAT32_MODEL),
    HeavyCase(mnist_data.train_test_tensors, Count(100, 10, 60_000), Seed()),
    HeavyCase(mnist_data.test_tensors),
    Case(quadratic.from_spectrum, Vector([1.0, 2.0, 3.0]), Rng()),
    Case(quadratic.gd_error_norms_jax, Matrix(A, linked=True), Vector(W3 + 1, linked=True), Vector(W3, linked=True),
         Real(0.1, **POSITIVE), Count(2)),
    Case(quadratic.iterations_numpy, Matrix(A, linked=True), Vector(W3 + 1, linked=True), Vector(W3, linked=True),
         Real(0.3, **POSITIVE), Choice("nesterov", quadratic.METHODS), beta=Real(0.5, 0.0, 1.0, high_open=True),
         tol=Real(1e-6, **POSITIVE), max_iter=Count(100)),
    Case(quadratic.iterations_torch, Matrix(A, linked=True), Vector(W3 + 1, linked=True), Vector(W3, linked=True),
         Real(0.3, **POSITIVE), Choice("nesterov", quadratic.METHODS), beta=Real(0.5, 0.0, 1.0, high_open=True),
         tol=Real(1e-6, **POSITIVE), max_iter=Count(100)),
]


test_rejects_bad_input = bad_input_claim("impl.l3_optim", CASES, subject="Lesson 3", course="Lesson 3")
