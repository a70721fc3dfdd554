"""Lesson 2's bad-input claim: one valid call template per exported function (data only).

The sweep (impl.harness.sweep) finds the functions from each module's `__all__` and derives the
bad values from each argument's kind; nothing here is chosen per bad value. PyMC sampling and
TFP fits are HeavyCases: only their bad calls are made, and those must fail before any sampling.
"""
import numpy as np

from impl.harness.input_claim import bad_input_claim
from impl.harness.kinds import (
    Array, Choice, Count, Fields, Instance, Lazy, Matrix, Optional, Real, Rng, Seed, Vector,
)
from impl.harness.sweep import Case, HeavyCase
from impl.l2_stats import bayes, gmm, inference, prob

X1 = np.linspace(-1.0, 1.0, 8)
X = np.column_stack([np.ones(8), X1])
Y = 1.0 + 2.0 * X1 + np.sin(7.0 * X1)
X2 = np.column_stack([X1, np.cos(3.0 * X1)])
SAMPLES = np.arange(12.0).reshape(3, 4) % 5
TABLE = np.array([[10.0, 20.0], [30.0, 15.0]])
PROBABILITY = dict(low=0.0, high=1.0, low_open=True, high_open=True)
POSITIVE = dict(low=0.0, low_open=True)


def _idata():
    import arviz as az

    rng = np.random.default_rng(0)
    return az.from_dict(posterior={"beta": rng.standard_normal((2, 20, 2)), "sigma": rng.random((2, 20)) + 0.5})


def _mixture(means):
    means = np.asarray(means, dtype=float)
    scales = np.ones_like(means)
    return Fields(gmm.Mixture(np.array([0.4, 0.6]), means, scales), weights=Vector([0.4, 0.6]),
                  means=Array(means, linked=True), scales=Array(scales, linked=True))


MIX_1D, MIX_2D = _mixture([-1.0, 1.0]), _mixture([[-1.0, 0.0], [1.0, 0.5]])
TEST = Fields(prob.Test(0.1, 0.9, 0.8), prevalence=Real(0.1, 0.0, 1.0, cheap_high=True),
              sensitivity=Real(0.9, 0.0, 1.0, cheap_high=True), specificity=Real(0.8, 0.0, 1.0, cheap_high=True))
IDATA = Instance(Lazy(_idata))  # ArviZ is imported only when the sweep runs

CASES = [
    Case(prob.binomial_pmf_total, Count(10), Real(0.3, **PROBABILITY)),
    Case(prob.poisson_pmf_total, Real(3.0, 0.0, 1e6, low_open=True), Real(1e-15, **PROBABILITY)),
    Case(prob.normal_pdf_integral, Real(0.0), Real(1.0, **POSITIVE), Real(12.0, **POSITIVE)),
    Case(prob.moments, Choice("binomial", ("binomial", "poisson", "normal")), n=Count(10), p=Real(0.3, 0.0, 1.0)),
    Case(prob.moments, Choice("poisson", ("binomial", "poisson", "normal")), lam=Real(3.0, **POSITIVE)),
    Case(prob.moments, Choice("normal", ("binomial", "poisson", "normal")), mu=Real(0.0), sigma=Real(1.0, **POSITIVE)),
    Case(prob.sample_mean_z, Vector(X1), Real(0.0), Real(1.0, **POSITIVE)),
    Case(prob.exponential_means, Count(5), Count(10, 2), Rng())
    .refuses("n*replicates-over-cap", naming=("n", "replicates"), n=10**5, replicates=10**5 + 1),
    Case(prob.standardized_exponential_means, Count(5), Count(10, 2), Rng())
    .refuses("n*replicates-over-cap", naming=("n", "replicates"), n=10**5, replicates=10**5 + 1),
    Case(prob.ks_distance_to_normal, Vector(X1)),
    Case(prob.posterior_ill_given_positive, TEST),
    Case(prob.simulate_ill_given_positive, TEST, Count(1000), Rng()),
    Case(inference.t_intervals, Matrix(SAMPLES), Real(0.95, **PROBABILITY)),
    Case(inference.plugin_z_intervals, Matrix(SAMPLES), Real(0.95, **PROBABILITY)),
    Case(inference.covers, Fields(inference.Intervals(X1 - 1, X1 + 1), lo=Vector(X1 - 1), hi=Vector(X1 + 1, linked=True)),
         Real(0.0)),
    Case(inference.two_sample_t_pvalues, Count(5, 2), Real(0.5), Count(10), Rng())
    .refuses("simulations*n_per_group-over-cap", naming=("simulations", "n_per_group"), n_per_group=10**4,
             simulations=10**4 + 1),
    Case(inference.chi_square_by_hand, Matrix(TABLE))
    .refuses("negative-count", naming=("table",), table=np.array([[10.0, -1.0], [30.0, 15.0]])),
    Case(inference.normal_mle, Vector(X1)),
    Case(inference.ols_closed_form, Matrix(X, linked=True), Vector(Y, linked=True), Real(0.95, **PROBABILITY)),
    Case(bayes.linear_data, Count(20, 3), Real(1.0), Real(2.0), Real(0.5, **POSITIVE), Rng(), Real(3.0, **POSITIVE)),
    Case(bayes.standardize, Matrix(X2, linked=True), Vector(Y, linked=True)),
    HeavyCase(bayes.fit_pymc, Matrix(X, linked=True), Vector(Y, linked=True), coef_prior_sd=Real(1.0, **POSITIVE),
              sigma=Optional(Real(1.0, **POSITIVE)), sigma_prior_sd=Real(5.0, **POSITIVE), draws=Count(10),
              tune=Count(10, 0), chains=Count(1), seed=Seed(), cores=Count(1)),
    Case(bayes.summarize, IDATA, Real(0.94, **PROBABILITY)),
    Case(bayes.posterior_draws, IDATA, Choice("beta", ("beta", "sigma"))),
    Case(bayes.conjugate_posterior, Matrix(X, linked=True), Vector(Y, linked=True), Real(1.0, **POSITIVE),
         Real(1.0, **POSITIVE)),
    Case(gmm.check_mixture, Vector([0.4, 0.6]), Array([-1.0, 1.0], linked=True), Array([1.0, 1.0], linked=True)),
    HeavyCase(gmm.tfp_mixture, MIX_1D, Choice("float32", gmm.DTYPES)),
    HeavyCase(gmm.tfp_log_prob_and_mean, Vector(X1), MIX_1D, Choice("float32", gmm.DTYPES)),
    Case(gmm.scipy_log_prob, Vector(X1), MIX_1D),
    Case(gmm.sample, Count(10), MIX_2D, Rng()),
    HeavyCase(gmm.fit, Matrix(X2), Count(2, 1, 8), steps=Count(5), lr=Real(0.05, **POSITIVE), seed=Seed()),
    Case(gmm.mean_log_likelihood, Matrix(X2), MIX_2D).refuses("3-columns-for-2-D", naming=("X",), X=np.ones((4, 3))),
    Case(gmm.bic, Matrix(X2), MIX_2D).refuses("3-columns-for-2-D", naming=("X",), X=np.ones((4, 3))),
    Case(gmm.em_reference, Matrix(X2), Count(2, 1, 8), n_init=Count(1), seed=Seed()),
    Case(gmm.match_components, Matrix(X2[:2], linked=True), Matrix(X2[2:4]))
    .refuses("3-columns-for-2", naming=("estimated_means", "true_means"), estimated_means=np.ones((2, 3))),
    Case(gmm.responsibilities, Matrix(X2), MIX_2D).refuses("3-columns-for-2-D", naming=("X",), X=np.ones((4, 3))),
]


test_rejects_bad_input = bad_input_claim("impl.l2_stats", CASES, subject="Lesson 2", course="Lesson 2")
