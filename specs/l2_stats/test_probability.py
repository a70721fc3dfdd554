import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from impl.l2_stats import prob


def _rel_err(observed: float, expected: float) -> float:
    return abs(observed - expected) / abs(expected) if expected else abs(observed)


@pytest.mark.cpu
@given(
    n=st.integers(1, 200), p=st.floats(0.01, 0.99),
    lam=st.floats(0.1, 50.0),
    mu=st.floats(-100.0, 100.0), sigma=st.floats(1e-2, 1e2),
)
def test_distributions(claim, seed, n, p, lam, mu, sigma):
    """For any Binomial(n <= 200, p in [0.01, 0.99]), Poisson(lambda in [0.1, 50]) and
    Normal(mu in [-100, 100], sigma in [0.01, 100]): the pmf sums to 1 (Poisson up to its
    1 - 1e-15 quantile), the normal density integrates to 1, SciPy's mean and variance equal
    the closed forms, and the mean of 100,000 draws lies within 5 standard errors of the truth.

    Course: Lesson 2, probability theory (common distributions).
    """
    claim.expect("binomial_pmf_sum_err", abs(prob.binomial_pmf_total(n, p) - 1), "<=", "pmf_sum_tol")
    # the truncated tail holds <= 1e-15, so the partial sum is 1 - 1e-15 at worst
    claim.expect("poisson_pmf_sum_err", abs(prob.poisson_pmf_total(lam) - 1), "<=", "pmf_sum_tol")
    claim.expect("normal_integral_err", abs(prob.normal_pdf_integral(mu, sigma) - 1), "<=", "pdf_integral_tol")

    rng = claim.rng(seed)
    families = {
        "binomial": ({"n": n, "p": p}, lambda size: rng.binomial(n, p, size)),
        "poisson": ({"lam": lam}, lambda size: rng.poisson(lam, size)),
        "normal": ({"mu": mu, "sigma": sigma}, lambda size: rng.normal(mu, sigma, size)),
    }
    for family, (params, draw) in families.items():
        (mean, var), (mean_cf, var_cf) = prob.moments(family, **params)
        claim.expect(f"{family}_mean_rel_err", _rel_err(mean, mean_cf), "<=", "moments_rel_tol")
        claim.expect(f"{family}_var_rel_err", _rel_err(var, var_cf), "<=", "moments_rel_tol")
        z = prob.sample_mean_z(draw(claim.t["draws"]).astype(np.float64), mean_cf, var_cf)
        claim.expect(f"{family}_sample_mean_abs_z", abs(z), "<=", "max_abs_z")


@pytest.mark.cpu
def test_clt(claim, seed):
    """Standardized means of n Exponential(1) draws approach N(0, 1): their Kolmogorov-Smirnov
    distance is at most 0.03 at n = 50 and at least twice that at n = 2, and the SD of the
    sample mean falls as 1/sqrt(n) (a quarter from n = 100 to n = 1,600, within 5%).

    100,000 replicates for the KS distances (at the catalog's 20,000 the n = 50 distance's noise
    leaves a false-fail chance above 1e-3; claims.yaml gives the numbers); 20,000 for the SD ratio.
    Course: Lesson 2, probability theory (central limit theorem).
    """
    rng = claim.rng(seed)
    replicates = claim.t["ks_replicates"]
    sizes = [1, 2, 5, 10, 20, 50, 100]
    ks = {n: prob.ks_distance_to_normal(prob.standardized_exponential_means(n, replicates, rng)) for n in sizes}
    claim.record(ks_by_n={str(n): value for n, value in ks.items()}, ks_n2_over_n50=ks[2] / ks[50])
    claim.expect("ks_n50", ks[50], "<=", "max_ks_n50")
    claim.expect("ks_n2_over_n50", ks[2] / ks[50], ">=", "min_ks_ratio")

    sd_replicates = claim.t["sd_replicates"]
    sd_100 = prob.exponential_means(100, sd_replicates, rng).std(ddof=1)
    sd_1600 = prob.exponential_means(1600, sd_replicates, rng).std(ddof=1)
    ratio = sd_1600 / sd_100
    claim.record(sd_mean_n100=sd_100, sd_mean_n1600=sd_1600, sd_ratio=ratio)
    claim.expect("sd_ratio_rel_err_vs_quarter", abs(ratio / 0.25 - 1), "<=", "sd_ratio_rel_tol")
    claim.plot(
        "CLT: KS distance of standardized Exponential(1) means to N(0, 1)", sizes,
        {"KS distance": [ks[n] for n in sizes], "Edgeworth term: skew * phi(0) / (6 sqrt n)": [
            2 * 0.3989422804 / (6 * math.sqrt(n)) for n in sizes]},
        xlabel="n (draws per mean)", ylabel="sup |F_n - Phi|", logx=True, logy=True, hline=claim.t["max_ks_n50"],
    )


@pytest.mark.cpu
def test_bayes_rule(claim, seed):
    """For a test with 99% sensitivity and 95% specificity on a disease with 1% prevalence,
    Bayes' rule gives exactly a 1 in 6 chance of being ill after a positive result, and
    simulating a million people recovers that share within 0.01.

    Course: Lesson 2, probability theory (Bayes' theorem).
    """
    test = prob.Test(prevalence=0.01, sensitivity=0.99, specificity=0.95)
    exact = prob.posterior_ill_given_positive(test)
    claim.expect("closed_form_err", abs(exact - 1 / 6), "<=", "exact_tol")
    simulated, positives = prob.simulate_ill_given_positive(test, claim.t["people"], claim.rng(seed))
    claim.record(simulated=simulated, positives=positives)
    claim.expect("simulation_err", abs(simulated - 1 / 6), "<=", "simulation_tol")
