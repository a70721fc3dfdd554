import numpy as np
import pytest
from scipy import stats

from impl.harness import stats as harness_stats
from impl.l2_stats import inference


@pytest.mark.cpu
def test_ci_coverage(claim, seed):
    """Over 4,000 samples of 20 draws from N(3, 2^2), the 95% Student-t interval (mean +-
    t_{0.975, 19} s / sqrt(20), s with the n - 1 denominator, endpoints equal to SciPy's
    `t.interval`) covers the mean 95% of the time (within the binomial band 0.935..0.965), while the
    normal interval with the sample SD plugged in (SciPy's `norm.interval`) covers measurably less
    (at least 0.005 less; theory 0.935).

    The endpoint identities matter: coverage alone cannot tell s with 1/n (coverage 0.9445 in
    theory) from s with 1/(n - 1) at 4,000 samples.
    Course: Lesson 2, statistical inference (confidence intervals).
    """
    mu, sd = 3.0, 2.0
    samples = claim.rng(seed).normal(mu, sd, size=(claim.t["samples"], claim.t["n"]))
    t_int, z_int = inference.t_intervals(samples, 0.95), inference.plugin_z_intervals(samples, 0.95)
    centre, sem = samples.mean(axis=1), stats.sem(samples, axis=1)  # sem: s / sqrt(n), s with ddof 1
    for name, ours, reference in (("t", t_int, stats.t.interval(0.95, claim.t["n"] - 1, loc=centre, scale=sem)),
                                  ("z", z_int, stats.norm.interval(0.95, loc=centre, scale=sem))):
        half = (reference[1] - reference[0]) / 2
        gap = np.maximum(np.abs(ours.lo - reference[0]), np.abs(ours.hi - reference[1])) / half
        claim.expect(f"{name}_endpoints_rel_err_vs_scipy", float(gap.max()), "<=", "endpoint_rel_tol")
    t_cover = float(inference.covers(t_int, mu).mean())
    z_cover = float(inference.covers(z_int, mu).mean())
    z_theory = float(2 * stats.t.cdf(stats.norm.ppf(0.975), claim.t["n"] - 1) - 1)
    lo, hi = harness_stats.binomial_acceptance(claim.t["samples"], 0.95, 1e-3)
    claim.record(z_coverage_theory=z_theory, binomial_band_1e3=[lo / claim.t["samples"], hi / claim.t["samples"]])
    claim.expect("t_coverage", t_cover, ">=", "t_coverage_min")
    claim.expect("t_coverage", t_cover, "<=", "t_coverage_max")
    claim.expect("t_minus_z_coverage", t_cover - z_cover, ">=", "min_coverage_gap")
    claim.plot(
        "Coverage of 95% intervals, n = 20 (4,000 samples)", ["Student t", "z with plug-in s", "z theory"],
        {"coverage": [t_cover, z_cover, z_theory]}, kind="bar", ylabel="share covering mu", hline=0.95,
    )


@pytest.mark.cpu
def test_tests(claim, seed):
    """The pooled two-sample t-test at alpha = 0.05 rejects 5% of true nulls (band 0.04..0.06),
    its simulated power at effect size 0.8 with 26 per group matches statsmodels' power analysis
    within 0.03, statsmodels sizes that design at 25 to 26.5 per group, null p-values are
    uniform (KS p > 0.001), and SciPy's chi-square statistic equals sum (O - E)^2 / E by hand.

    6,000 simulations (the catalog's 4,000 would leave a 4e-3 chance of a correct test falling
    outside 0.04..0.06; 6,000 make it 4e-4).
    Course: Lesson 2, statistical inference (hypothesis tests, power); study notes (t-test, chi-square).
    """
    from statsmodels.stats.power import TTestIndPower

    rng = claim.rng(seed)
    sims, n, alpha = claim.t["simulations"], claim.t["n_per_group"], claim.t["alpha"]
    null_p = inference.two_sample_t_pvalues(n, 0.0, sims, rng)
    claim.expect("null_rejection_rate", float(np.mean(null_p < alpha)), ">=", "size_min")
    claim.expect("null_rejection_rate", float(np.mean(null_p < alpha)), "<=", "size_max")
    claim.expect("null_p_uniform_ks_pvalue", float(stats.kstest(null_p, "uniform").pvalue), ">", "min_ks_pvalue")

    analysis = TTestIndPower()
    effects = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2]
    simulated = {d: float(np.mean(inference.two_sample_t_pvalues(n, d, sims, rng) < alpha)) for d in effects}
    predicted = {d: float(analysis.power(d, nobs1=n, alpha=alpha)) if d else alpha for d in effects}
    claim.expect("power_gap_d08", abs(simulated[0.8] - predicted[0.8]), "<=", "power_tol")
    needed = float(analysis.solve_power(0.8, power=0.8, alpha=alpha))
    claim.expect("solve_power_n", needed, ">=", "solve_n_min")
    claim.expect("solve_power_n", needed, "<=", "solve_n_max")

    worst = 0.0
    for shape in [(2, 2), (3, 4), (5, 3)]:
        table = rng.poisson(30, size=shape) + 1
        by_hand, dof, p_hand = inference.chi_square_by_hand(table)
        scipy_result = stats.chi2_contingency(table, correction=False)
        worst = max(worst, abs(scipy_result.statistic - by_hand) / by_hand, abs(scipy_result.pvalue - p_hand))
        claim.expect(f"chi2_dof_{shape[0]}x{shape[1]}", int(scipy_result.dof), "==", dof)
    claim.expect("chi2_rel_err", worst, "<=", "chi2_rel_tol")
    claim.plot(
        f"Two-sample t-test power, n = {n} per group ({sims:,} simulations each)", effects,
        {"simulated": [simulated[d] for d in effects], "statsmodels TTestIndPower": [predicted[d] for d in effects]},
        xlabel="effect size d", ylabel="rejection rate at alpha = 0.05", hline=alpha,
    )


@pytest.mark.cpu
def test_mle_ols(claim, seed):
    """SciPy's normal fit is the maximum-likelihood estimate (sample mean, SD with 1/n), and
    statsmodels OLS reproduces the textbook formulas: least-squares coefficients, standard
    errors sqrt(diag(s^2 (X^T X)^-1)) with s^2 = RSS / (n - p), and beta +- t_{0.975, n-p} SE.

    Course: Lesson 2, statistical inference and estimation.
    """
    import statsmodels.api as sm

    rng = claim.rng(seed)
    x = rng.normal(5.0, 3.0, size=500)
    mle_mu, mle_sigma = inference.normal_mle(x)
    fit_mu, fit_sigma = stats.norm.fit(x)
    tol = "rel_tol"
    claim.expect("norm_fit_mu_rel_err", abs(fit_mu - mle_mu) / abs(mle_mu), "<=", tol)
    claim.expect("norm_fit_sigma_rel_err", abs(fit_sigma - mle_sigma) / mle_sigma, "<=", tol)

    n = 120
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 3))])
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.normal(0, 1.5, n)
    ours = inference.ols_closed_form(X, y, 0.95)
    result = sm.OLS(y, X).fit()
    ci = np.asarray(result.conf_int(alpha=0.05))
    rel = lambda a, b: float(np.max(np.abs(a - b) / np.abs(b)))  # noqa: E731
    claim.expect("coef_rel_err", rel(result.params, ours.beta), "<=", tol)
    claim.expect("se_rel_err", rel(result.bse, ours.se), "<=", tol)
    claim.expect("ci_rel_err", max(rel(ci[:, 0], ours.ci_lo), rel(ci[:, 1], ours.ci_hi)), "<=", tol)
