import numpy as np
import pytest

from impl.data import diabetes
from impl.l2_stats import bayes, inference

TRUTH = {"beta[0]": 1.5, "beta[1]": 2.0, "sigma": 0.5}


def _sampler(claim) -> dict:
    return {name: claim.t[name] for name in ("draws", "tune", "chains", "cores")}


def _expect_converged(claim, summary: bayes.Summary) -> None:
    claim.record(r_hat=dict(zip(summary.names, summary.r_hat)), ess_bulk=dict(zip(summary.names, summary.ess_bulk)))
    claim.expect("max_r_hat", float(summary.r_hat.max()), "<=", "max_r_hat")
    claim.expect("min_ess_bulk", float(summary.ess_bulk.min()), ">=", "min_ess_bulk")
    claim.expect("divergences", summary.divergences, "==", 0)


def _posterior_plot(claim, title: str, summary: bayes.Summary, reference: dict[str, list[float]]) -> None:
    claim.plot(
        title, summary.names,
        {"posterior mean": summary.mean, "94% HDI low": summary.hdi_lo, "94% HDI high": summary.hdi_hi, **reference},
        kind="scatter", ylabel="value",
    )


@pytest.mark.cpu
def test_pymc_recovery(claim, seed):
    """PyMC's NUTS (2 chains x 1,000 tuning + 1,000 draws) recovers y = 1.5 + 2.0 x + N(0, 0.5^2)
    from 200 points with broad priors: every R-hat <= 1.01, bulk ESS >= 400, no divergences,
    each posterior mean within 3.6 posterior SDs of the truth, and the slope within 0.1 of 2.0. The
    coefficients' raw draws, chains stacked (`bayes.posterior_draws`), have shape (chains x draws, 2)
    and column means equal to ArviZ's summary means (to 1e-9: two routes to one number).

    x is evenly spaced on [-3, 3]. The 94% HDIs are reported with whether they contain the
    truth; asserting that all three do would fail 17% of correct runs (1 - 0.94^3), so the
    assertion uses |mean - truth| / SD <= 3.59, a joint false-fail chance of 1e-3.
    Course: Lesson 2, Bayesian regression models (PyMC).
    """
    X, y = bayes.linear_data(200, TRUTH["beta[0]"], TRUTH["beta[1]"], TRUTH["sigma"], claim.rng(seed))
    idata = bayes.fit_pymc(X, y, coef_prior_sd=10.0, sigma_prior_sd=5.0, seed=seed, **_sampler(claim))
    summary = bayes.summarize(idata, hdi_prob=0.94)
    truth = np.array([TRUTH[name] for name in summary.names])
    _expect_converged(claim, summary)
    contains = (summary.hdi_lo <= truth) & (truth <= summary.hdi_hi)
    claim.record(posterior_mean=dict(zip(summary.names, summary.mean)), posterior_sd=dict(zip(summary.names, summary.sd)),
                 hdi94=dict(zip(summary.names, zip(summary.hdi_lo, summary.hdi_hi))),
                 hdi94_contains_truth=dict(zip(summary.names, contains.tolist())))
    claim.expect("max_abs_z_vs_truth", float(np.max(np.abs(summary.mean - truth) / summary.sd)), "<=", "max_abs_z")
    slope = summary.mean[summary.names.index("beta[1]")]
    claim.expect("slope_abs_err", abs(slope - TRUTH["beta[1]"]), "<=", "slope_tol")
    draws = bayes.posterior_draws(idata, "beta")
    claim.expect("beta_draws_shape", list(draws.shape), "==", [claim.t["chains"] * claim.t["draws"], 2])
    beta_means = np.array([summary.mean[summary.names.index(f"beta[{i}]")] for i in range(2)])
    claim.expect("beta_draw_mean_gap_vs_summary", float(np.max(np.abs(draws.mean(axis=0) - beta_means))),
                 "<=", "draw_mean_tol")
    _posterior_plot(claim, "PyMC posterior vs the true coefficients (n = 200)", summary, {"truth": truth})


def _grid_posterior(X: np.ndarray, y: np.ndarray, sigma: float, prior_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a 2-coefficient posterior by brute force, independent of any formula.

    The unnormalised density exp(-||y - X b||^2 / (2 sigma^2) - ||b||^2 / (2 prior_sd^2)) is evaluated
    on a 201 x 201 grid spanning +-10 least-squares standard errors around the least-squares fit and
    its moments are summed (a Gaussian on a grid of step 0.1 SD: the sum is exact to rounding).
    """
    beta_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    se = sigma * np.sqrt(np.diag(np.linalg.inv(X.T @ X)))
    axes = [b + np.linspace(-10.0, 10.0, 201) * s for b, s in zip(beta_ls, se)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
    residuals = y[None, :] - grid @ X.T
    log_density = -0.5 * np.sum(residuals**2, axis=1) / sigma**2 - 0.5 * np.sum(grid**2, axis=1) / prior_sd**2
    weights = np.exp(log_density - log_density.max())
    weights /= weights.sum()
    mean = weights @ grid
    centred = grid - mean
    return mean, (centred * weights[:, None]).T @ centred


@pytest.mark.cpu
def test_conjugate_match(claim, seed):
    """With the noise SD known (0.5) and N(0, 0.5^2) priors, the closed-form Gaussian posterior equals
    a brute-force grid posterior, PyMC's NUTS posterior on the same data matches it (means within
    0.1 posterior SD, SDs within 10%), and the exact posterior SD shrinks 4-fold (within 10%) when n
    grows from 50 to 800.

    The prior SD is not 1, where a formula that forgets to square it (or to divide by it at all)
    would give the right answer.
    Course: Lesson 2, Bayesian regression models (conjugate posterior vs sampling).
    """
    sigma, prior_sd = TRUTH["sigma"], claim.t["prior_sd"]
    X, y = bayes.linear_data(200, TRUTH["beta[0]"], TRUTH["beta[1]"], sigma, claim.rng(seed))
    exact_mean, exact_cov = bayes.conjugate_posterior(X, y, sigma, prior_sd)
    exact_sd = np.sqrt(np.diag(exact_cov))
    grid_mean, grid_cov = _grid_posterior(X, y, sigma, prior_sd)
    claim.record(grid_mean=grid_mean, grid_sd=np.sqrt(np.diag(grid_cov)))
    claim.expect("grid_max_mean_gap_in_sd", float(np.max(np.abs(grid_mean - exact_mean) / exact_sd)), "<=", "grid_tol")
    cov_gap = float(np.max(np.abs(grid_cov - exact_cov) / np.outer(exact_sd, exact_sd)))
    claim.expect("grid_max_cov_gap_in_sd_units", cov_gap, "<=", "grid_tol")

    idata = bayes.fit_pymc(X, y, coef_prior_sd=prior_sd, sigma=sigma, seed=seed, **_sampler(claim))
    summary = bayes.summarize(idata)
    _expect_converged(claim, summary)
    claim.record(nuts_mean=summary.mean, exact_mean=exact_mean, nuts_sd=summary.sd, exact_sd=exact_sd)
    claim.expect("max_mean_gap_in_sd", float(np.max(np.abs(summary.mean - exact_mean) / exact_sd)), "<=", "mean_tol_sd")
    claim.expect("max_sd_rel_err", float(np.max(np.abs(summary.sd / exact_sd - 1))), "<=", "sd_rel_tol")

    sizes = [25, 50, 100, 200, 400, 800, 1600]
    sds = {}
    for n in sizes:  # the posterior covariance does not depend on y, only on the design
        Xn, yn = bayes.linear_data(n, TRUTH["beta[0]"], TRUTH["beta[1]"], sigma, claim.rng(seed))
        sds[n] = np.sqrt(np.diag(bayes.conjugate_posterior(Xn, yn, sigma, prior_sd)[1]))
    shrink = sds[50] / sds[800]
    claim.record(shrink_50_to_800=shrink)
    claim.expect("max_shrink_rel_err_vs_4", float(np.max(np.abs(shrink / 4 - 1))), "<=", "shrink_rel_tol")
    claim.plot(
        f"Closed-form posterior SD vs n (sigma = 0.5 known, N(0, {prior_sd:g}^2) priors)", sizes,
        {"intercept SD": [sds[n][0] for n in sizes], "slope SD": [sds[n][1] for n in sizes],
         "sigma / sqrt(n)": [sigma / np.sqrt(n) for n in sizes]},
        xlabel="n", ylabel="posterior SD", logx=True, logy=True,
    )


@pytest.mark.cpu
def test_diabetes(claim, seed):
    """On the diabetes data (442 patients, 10 standardized baseline variables, standardized
    progression), PyMC's posterior converges (R-hat <= 1.01, bulk ESS >= 400, no divergences),
    agrees with OLS (means within 0.2 posterior SD, SDs within 15% of the OLS standard errors),
    and its 94% HDIs for body-mass index and the serum marker s5 exclude zero.

    With N(0, 10^2) priors on a standardized scale the prior is negligible and the posterior is
    centred on OLS; 0.2 SD is 4 Monte Carlo SEs at ESS 400.
    Course: Lesson 2, Bayesian regression models, applied to a real dataset.
    """
    data = diabetes.load()
    X, y = bayes.standardize(data.X, data.y)
    idata = bayes.fit_pymc(X, y, coef_prior_sd=10.0, sigma_prior_sd=5.0, seed=seed, **_sampler(claim))
    summary = bayes.summarize(idata, hdi_prob=0.94)
    _expect_converged(claim, summary)
    coef = slice(0, X.shape[1])  # beta[0..10]; sigma comes last
    ols = inference.ols_closed_form(X, y)
    claim.record(posterior_mean=dict(zip(("intercept", *data.feature_names), summary.mean[coef])),
                 posterior_sd=dict(zip(("intercept", *data.feature_names), summary.sd[coef])),
                 sigma_mean=float(summary.mean[-1]))
    claim.expect("max_mean_gap_vs_ols_in_sd", float(np.max(np.abs(summary.mean[coef] - ols.beta) / summary.sd[coef])),
                 "<=", "mean_tol_sd")
    claim.expect("max_sd_rel_err_vs_ols_se", float(np.max(np.abs(summary.sd[coef] / ols.se - 1))), "<=", "sd_rel_tol")
    for feature in ("bmi", "s5"):
        j = 1 + data.feature_names.index(feature)
        excludes = bool(summary.hdi_lo[j] > 0 or summary.hdi_hi[j] < 0)
        claim.expect(f"{feature}_hdi94_excludes_zero", excludes, "==", True)
    names = ["intercept", *data.feature_names]
    claim.plot(
        "Diabetes: posterior of the standardized coefficients (94% HDI) vs OLS", names,
        {"posterior mean": summary.mean[coef], "94% HDI low": summary.hdi_lo[coef],
         "94% HDI high": summary.hdi_hi[coef], "OLS": ols.beta},
        kind="scatter", ylabel="coefficient (SD of y per SD of x)", hline=0.0,
    )
