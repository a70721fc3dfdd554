"""Lesson 1's bad-input claim: one valid call template per exported function (data only).

The sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the
bad values from each argument's kind; nothing here is chosen per bad value.
"""
import numpy as np

from impl.harness.input_claim import bad_input_claim
from impl.harness.kinds import Choice, Count, Instance, Labels, Matrix, Optional, Real, Rng, Seed, Vector
from impl.harness.sweep import Case
from impl.l1_linalg import mf, pca, svd, workloads

A = np.arange(12.0).reshape(4, 3) + np.eye(4, 3)  # 4 x 3, full rank
W, H = np.ones((4, 1)), np.ones((1, 3))
S = np.array([3.0, 2.0, 1.0])
FIT = pca.pca_svd(A)
X_CV = np.column_stack([np.arange(8.0), np.arange(8.0) ** 2 / 8, np.cos(np.arange(8.0))])
Y_CV = np.array([0, 1] * 4)
POSITIVE = dict(low=0.0, low_open=True)

CASES = [
    Case(mf.make_problem, Count(4, 1), Count(3, 1), Count(2, 1, 3, cheap_max=True), Real(0.1, 0.0), Real(0.1, **POSITIVE), Rng())
    .refuses("m*n-over-cap", naming=("m", "n"), m=10**4, n=10**4 + 1),
    Case(mf.residual_norm, Matrix(A, linked=True), Matrix(W, linked=True), Matrix(H, linked=True)),
    # One step, the least a fit takes: the valid call sits on the bound, so a bound moved up is caught too.
    Case(mf.fit_numpy, Matrix(A, linked=True), Matrix(W, linked=True), Matrix(H, linked=True), Real(0.01, **POSITIVE),
         Count(1)),
    Case(mf.fit_jax, Matrix(A, linked=True), Matrix(W, linked=True), Matrix(H, linked=True), Real(0.01, **POSITIVE),
         Count(1)),
    Case(mf.make_jitted_step),
    Case(pca.pca_eigh, Matrix(A)),
    Case(pca.pca_svd, Matrix(A)),
    Case(pca.pca_jax, Matrix(A)),
    Case(pca.scores, Matrix(A), Instance(FIT), Optional(Count(2, 1, 3, cheap_max=True))),
    Case(pca.reconstruct, Matrix(A[:, :2]), Instance(FIT)),
    Case(pca.reconstruction_mse, Matrix(A), Instance(FIT), Count(2, 1, 3, cheap_max=True)),
    Case(pca.feature_extraction_cv, Matrix(X_CV, linked=True), Labels(Y_CV, linked=True), n_components=Count(2, 1, 3, cheap_max=True),
         n_folds=Count(2, 2, 4, cheap_max=True), seed=Seed(2**32 - 1), max_iter=Count(100)),  # the top of sklearn's seed range
    Case(svd.thin_svd, Matrix(A)),
    Case(svd.rank_tolerance, Matrix(A), Vector(S)).depends_on_type(
        "A", "float32", reason="NumPy's default tolerance uses the eps of A's own float type"),
    Case(svd.numerical_rank, Matrix(A), Optional(Real(1e-10, 0.0))),
    Case(svd.null_space, Matrix(A), Optional(Real(1e-10, 0.0))),
    Case(svd.truncate, Matrix(A), Count(1, 0, 3, cheap_max=True)),
    Case(svd.eckart_young_errors, Vector(S), Count(1, 0, 3, cheap_max=True)),
    Case(svd.random_subspace_error, Matrix(A), Count(1, 1, 4, cheap_max=True), Rng()),
    Case(svd.energy_rank, Vector(S), Real(0.9, 0.0, 1.0, low_open=True, cheap_high=True)),
    Case(svd.energy_fraction, Vector(S), Count(1, 0, 3, cheap_max=True)),
    Case(workloads.matmul, Count(8), Rng(), Choice("cpu", ("cpu", "gpu"))),
    Case(workloads.elementwise_chain, Count(16), Rng()),
    Case(workloads.transcendental_chain, Count(16), Rng()),
    Case(workloads.mf_steps, Matrix(A, linked=True), Matrix(W, linked=True), Matrix(H, linked=True),
         Real(0.01, **POSITIVE), Count(2)),
]


test_rejects_bad_input = bad_input_claim("impl.l1_linalg", CASES, subject="Lesson 1", course="Lesson 1")
