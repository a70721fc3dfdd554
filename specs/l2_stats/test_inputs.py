import math

import numpy as np
import pytest

from impl.harness import rejections
from impl.l2_stats import bayes, gmm, inference, prob

RNG = np.random.default_rng(0)
GOOD_1D = np.linspace(-1.0, 1.0, 8)
GOOD_2D = np.column_stack([np.ones(8), GOOD_1D])
BAD_VECTORS = {
    "nan": np.where(np.arange(8) == 3, np.nan, GOOD_1D),
    "inf": np.where(np.arange(8) == 3, np.inf, GOOD_1D),
    "empty": np.empty(0),
    "2-D": np.zeros((2, 4)),
    "text": "not numbers",
}
BAD_MATRICES = {
    "nan": np.where(GOOD_2D == 1.0, np.nan, GOOD_2D),
    "inf": np.where(GOOD_2D == 1.0, np.inf, GOOD_2D),
    "empty": np.empty((0, 2)),
    "1-D": GOOD_1D,
    "text": "not numbers",
}
MIX = gmm.Mixture(np.array([0.5, 0.5]), np.array([-1.0, 1.0]), np.array([1.0, 1.0]))
MIX_2D = gmm.Mixture(np.array([0.5, 0.5]), np.array([[-1.0, 0.0], [1.0, 0.0]]), np.ones((2, 2)))
# Each public Lesson 2 function taking an array, with the argument name its error must carry.
VECTOR_CALLS = {
    "prob.sample_mean_z": (lambda v: prob.sample_mean_z(v, 0.0, 1.0), "draws"),
    "prob.ks_distance_to_normal": (lambda v: prob.ks_distance_to_normal(v), "z"),
    "inference.normal_mle": (lambda v: inference.normal_mle(v), "x"),
    "inference.ols_closed_form": (lambda v: inference.ols_closed_form(GOOD_2D, v), "y"),
    "bayes.standardize": (lambda v: bayes.standardize(GOOD_2D[:, 1:] ** 2 + GOOD_2D[:, 1:], v), "y"),
    "bayes.fit_pymc": (lambda v: bayes.fit_pymc(GOOD_2D, v, coef_prior_sd=1.0), "y"),
    "bayes.conjugate_posterior": (lambda v: bayes.conjugate_posterior(GOOD_2D, v, 1.0, 1.0), "y"),
    "gmm.tfp_log_prob_and_mean": (lambda v: gmm.tfp_log_prob_and_mean(v, MIX), "x"),
    "gmm.check_mixture": (lambda v: gmm.check_mixture(v, [0.0], [1.0]), "weights"),
}
MATRIX_CALLS = {
    "inference.t_intervals": (lambda m: inference.t_intervals(m, 0.95), "samples"),
    "inference.plugin_z_intervals": (lambda m: inference.plugin_z_intervals(m, 0.95), "samples"),
    "inference.chi_square_by_hand": (lambda m: inference.chi_square_by_hand(m), "table"),
    "inference.ols_closed_form": (lambda m: inference.ols_closed_form(m, GOOD_1D), "X"),
    "bayes.standardize": (lambda m: bayes.standardize(m, GOOD_1D), "X"),
    "bayes.fit_pymc": (lambda m: bayes.fit_pymc(m, GOOD_1D, coef_prior_sd=1.0), "X"),
    "bayes.conjugate_posterior": (lambda m: bayes.conjugate_posterior(m, GOOD_1D, 1.0, 1.0), "X"),
    "gmm.fit": (lambda m: gmm.fit(m, 2), "X"),
    "gmm.mean_log_likelihood": (lambda m: gmm.mean_log_likelihood(m, MIX_2D), "X"),
    "gmm.bic": (lambda m: gmm.bic(m, MIX_2D), "X"),
    "gmm.em_reference": (lambda m: gmm.em_reference(m, 2), "X"),
    "gmm.responsibilities": (lambda m: gmm.responsibilities(m, MIX_2D), "X"),
    "gmm.match_components": (lambda m: gmm.match_components(m, GOOD_2D), "estimated_means"),
}
BAD_SCALARS = [
    (lambda: prob.binomial_pmf_total(0, 0.5), "n"),
    (lambda: prob.binomial_pmf_total(10, 1.5), "p"),
    (lambda: prob.poisson_pmf_total(-1.0), "lam"),
    (lambda: prob.normal_pdf_integral(0.0, 0.0), "sigma"),
    (lambda: prob.normal_pdf_integral(math.nan, 1.0), "mu"),
    (lambda: prob.moments("cauchy"), "family"),
    (lambda: prob.exponential_means(0, 10, RNG), "n"),
    (lambda: prob.exponential_means(5, 1.5, RNG), "replicates"),
    (lambda: prob.posterior_ill_given_positive(prob.Test(1.2, 0.9, 0.9)), "prevalence"),
    (lambda: prob.simulate_ill_given_positive(prob.Test(0.1, 0.9, 0.9), -5, RNG), "people"),
    (lambda: inference.t_intervals(np.ones((3, 4)), 1.0), "level"),
    (lambda: inference.two_sample_t_pvalues(1, 0.5, 10, RNG), "n_per_group"),
    (lambda: inference.two_sample_t_pvalues(5, math.inf, 10, RNG), "effect_size"),
    (lambda: inference.covers(inference.Intervals(GOOD_1D, GOOD_1D), math.nan), "value"),
    (lambda: inference.chi_square_by_hand(-np.ones((2, 2))), "table"),
    (lambda: inference.ols_closed_form(np.ones((2, 3)), np.ones(2)), "X"),
    (lambda: bayes.linear_data(200, 1.5, 2.0, -0.5, RNG), "noise_sd"),
    (lambda: bayes.fit_pymc(GOOD_2D, GOOD_1D, coef_prior_sd=-1.0), "coef_prior_sd"),
    (lambda: bayes.fit_pymc(GOOD_2D, GOOD_1D, coef_prior_sd=1.0, chains=0), "chains"),
    (lambda: bayes.conjugate_posterior(GOOD_2D, GOOD_1D, 0.0, 1.0), "sigma"),
    (lambda: bayes.summarize("not idata"), "idata"),
    (lambda: bayes.summarize(object(), hdi_prob=1.5), "hdi_prob"),
    (lambda: gmm.check_mixture([0.7, 0.7], [0.0, 1.0], [1.0, 1.0]), "weights"),
    (lambda: gmm.check_mixture([0.5, 0.5], [0.0, 1.0], [1.0, -1.0]), "scales"),
    (lambda: gmm.check_mixture([0.5, 0.5], [0.0, 1.0, 2.0], [1.0, 1.0, 1.0]), "means"),
    (lambda: gmm.tfp_mixture(MIX, "float16"), "dtype"),
    (lambda: gmm.fit(GOOD_2D, 0), "n_components"),
    (lambda: gmm.fit(GOOD_2D, 2, lr=0.0), "lr"),
    (lambda: gmm.sample(0, MIX, RNG), "n"),
]


@pytest.mark.cpu
def test_rejects_bad_input(claim):
    """Every public Lesson 2 function refuses NaN, infinite, empty, wrongly-shaped or non-numeric
    arrays, and out-of-range parameters (probabilities outside [0, 1], non-positive SDs, unknown
    families), with a ValueError or TypeError that names the argument.

    Course: Lesson 2 (house rule: a learner's mistake gets a clear message, not a wrong number).
    """
    cases = (rejections.argument_cases(VECTOR_CALLS, BAD_VECTORS) + rejections.argument_cases(MATRIX_CALLS, BAD_MATRICES)
             + rejections.thunk_cases(BAD_SCALARS, "scalar"))
    rejections.expect_all_rejected(claim, cases)
