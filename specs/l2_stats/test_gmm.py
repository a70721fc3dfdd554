import numpy as np
import pytest
from hypothesis import given, strategies as st

from impl.data import toy
from impl.l2_stats import gmm

TRUE_MIXTURE = gmm.Mixture(
    weights=np.array([0.5, 0.3, 0.2]),
    means=np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]]),
    scales=np.ones((3, 2)),
)


@st.composite
def mixtures(draw):
    k = draw(st.integers(1, 5))
    weights = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).dirichlet(np.ones(k))
    means = draw(st.lists(st.floats(-10, 10), min_size=k, max_size=k))
    scales = draw(st.lists(st.floats(0.1, 10), min_size=k, max_size=k))
    return gmm.Mixture(weights, np.array(means), np.array(scales))


@pytest.mark.cpu
@given(mixture=mixtures(), x=st.lists(st.floats(-30, 30), min_size=1, max_size=20))
def test_tfp_logprob(claim, mixture, x):
    """For any 1-D Gaussian mixture (1 to 5 components, Dirichlet weights, means in [-10, 10],
    scales in [0.1, 10]), TFP's MixtureSameFamily log-density equals the SciPy reference
    logsumexp(log w + norm.logpdf) (float32: within 1e-4 + 1e-5 |ref|; float64: 1e-10 max(1, |ref|)),
    and its mean is the weighted mean of the component means.

    Checks report the error divided by its tolerance (<= 1 passes).
    Course: Lesson 2, Gaussian mixture models with TensorFlow Probability.
    """
    x = np.array(x)
    reference = gmm.scipy_log_prob(x, mixture)
    mean_reference = float(np.dot(mixture.weights, mixture.means))
    tol32 = lambda ref: claim.t["f32_abs_tol"] + claim.t["f32_rel_tol"] * np.abs(ref)  # noqa: E731
    tol64 = lambda ref: claim.t["f64_rel_tol"] * np.maximum(1.0, np.abs(ref))  # noqa: E731
    for dtype, tol in (("float32", tol32), ("float64", tol64)):
        log_prob, mean = gmm.tfp_log_prob_and_mean(x, mixture, dtype)
        claim.expect(f"{dtype}_log_prob_err_over_tol", float(np.max(np.abs(log_prob - reference) / tol(reference))), "<=", 1.0)
        claim.expect(f"{dtype}_mean_err_over_tol", abs(mean - mean_reference) / float(tol(mean_reference)), "<=", 1.0)


@pytest.mark.cpu
def test_tfp_fit(claim, seed):
    """Maximizing a TFP diagonal-mixture likelihood with Adam (lr 0.05, 1,500 steps, k-means start)
    on 1,500 points from three unit-SD Gaussians at (0,0), (4,0), (0,4) with weights 0.5/0.3/0.2
    recovers the means within 0.2 and the weights within 0.05, its weights are the maximum-likelihood
    weights (each equals its component's mean responsibility, within 0.005), it reaches sklearn EM's
    mean log-likelihood within 0.01 nats per point, and BIC over K = 1..6 is lowest at K = 3. The sample
    itself is checked against the mixture it came from: each component's per-coordinate SD is within 5
    standard errors of its true scale (the fit and EM, both fitted to it, could not tell a wrong sampler).
    The fit starts where its docstring says: one Adam step from the k-means start, each component's scales
    are within 0.3 of its cluster's SDs (the whole sample's SD, ~2, would be ~1 off). Two helpers are
    checked where their mistakes would show: the Hungarian matching pairs a shuffled,
    nudged (SD 0.01) copy of nine means 0.1 apart (a 3 x 3 grid at (5, 5)) back exactly, and a fit whose k-means start puts a component on 20 tied points
    (zero spread, floored, never log(0)) stays finite.

    Sampling error of the smallest cluster's mean (300 points) is 0.058 per coordinate, so 0.2
    is 3.5 SE: over the six coordinates a correct fit misses with probability ~1e-3. The clusters
    overlap (the share of points with no responsibility above 0.99 under the true mixture is
    recorded), so the likelihood's weights differ from the hard k-means shares the fit starts from:
    weights that were never learned fail the mean-responsibility check.
    Course: Lesson 2, Gaussian mixture models (TFP), model selection.
    """
    steps, lr = claim.t["steps"], claim.t["lr"]
    X, labels = gmm.sample(claim.t["n"], TRUE_MIXTURE, claim.rng(seed))
    sample_sd_z = [np.abs(X[labels == k].std(axis=0) / TRUE_MIXTURE.scales[k] - 1) * np.sqrt(2 * np.sum(labels == k))
                   for k in range(len(TRUE_MIXTURE.weights))]
    claim.expect("max_sample_sd_z", float(np.max(sample_sd_z)), "<=", "max_sample_sd_z")
    true_resp = gmm.responsibilities(X, TRUE_MIXTURE)
    claim.record(share_of_points_without_responsibility_above_0_99=float(np.mean(true_resp.max(axis=1) < 0.99)))
    fits = {k: gmm.fit(X, k, steps=steps, lr=lr, seed=seed) for k in range(1, claim.t["max_k"] + 1)}
    fitted = fits[3]
    order = gmm.match_components(fitted.means, TRUE_MIXTURE.means)
    mean_err = float(np.max(np.abs(fitted.means[order] - TRUE_MIXTURE.means)))
    weight_err = float(np.max(np.abs(fitted.weights[order] - TRUE_MIXTURE.weights)))
    claim.record(fitted_means=fitted.means[order], fitted_weights=fitted.weights[order], fitted_scales=fitted.scales[order])
    claim.expect("max_mean_err", mean_err, "<=", "mean_tol")
    claim.expect("max_weight_err", weight_err, "<=", "weight_tol")
    _check_start(claim, X, labels, seed)
    _check_helpers(claim, X, seed)
    # The likelihood's stationarity condition for the weights (EM's M-step): w_k = mean_i P(k | x_i).
    mean_resp = gmm.responsibilities(X, fitted).mean(axis=0)
    claim.expect("max_weight_minus_mean_responsibility", float(np.max(np.abs(fitted.weights - mean_resp))),
                 "<=", "weight_stationarity_tol")

    em = gmm.em_reference(X, 3, n_init=claim.t["em_restarts"], seed=seed)
    ll_tfp, ll_em = gmm.mean_log_likelihood(X, fitted), gmm.mean_log_likelihood(X, em)
    claim.record(mean_loglik_tfp=ll_tfp, mean_loglik_em=ll_em)
    claim.expect("loglik_gap_vs_em", abs(ll_tfp - ll_em), "<=", "loglik_tol")

    ks = sorted(fits)
    bic_tfp = [gmm.bic(X, fits[k]) for k in ks]
    bic_em = [gmm.bic(X, gmm.em_reference(X, k, n_init=claim.t["em_restarts"], seed=seed)) for k in ks]
    claim.record(bic_tfp=dict(zip(map(str, ks), bic_tfp)), bic_em=dict(zip(map(str, ks), bic_em)))
    claim.expect("bic_best_k", ks[int(np.argmin(bic_tfp))], "==", "true_k")
    claim.plot("BIC of diagonal GMMs on 1,500 points from a 3-component mixture", ks,
               {"TFP (Adam)": bic_tfp, "sklearn EM": bic_em}, xlabel="K", ylabel="BIC (lower is better)")


def _check_start(claim, X, labels, seed):
    """The k-means start (per-cluster centres, SDs and shares), seen one Adam step (lr 0.05) after it: the
    converged fit cannot show it, since a worse start (the whole sample's SD) reaches the same optimum."""
    first = gmm.fit(X, len(TRUE_MIXTURE.weights), steps=1, lr=claim.t["lr"], seed=seed)
    order = gmm.match_components(first.means, TRUE_MIXTURE.means)
    cluster_sd = np.array([X[labels == k].std(axis=0) for k in range(len(TRUE_MIXTURE.weights))])
    claim.expect("one_step_scale_gap_to_cluster_sd", float(np.max(np.abs(first.scales[order] - cluster_sd))),
                 "<=", "start_scale_tol")


def _check_helpers(claim, X, seed):
    """The matching on close means (a wrong cost still orders well-separated ones) and the spread floor on
    a start with a zero-spread component (the claim's own sample never has one)."""
    close = 5.0 + 0.1 * np.array([[i, j] for i in range(3) for j in range(3)], dtype=float)
    rng = claim.rng(seed)
    shuffle = rng.permutation(len(close))
    nudged = close[shuffle] + rng.normal(0.0, 0.01, close.shape)
    claim.expect("close_means_matched_back", bool(np.array_equal(gmm.match_components(nudged, close), np.argsort(shuffle))),
                 "==", True)
    tied = np.vstack([X[:200], np.full((20, 2), 20.0)])
    start = gmm.fit(tied, 4, steps=claim.t["tied_start_steps"], lr=claim.t["lr"], seed=seed)
    claim.record(tied_start_weights=start.weights, tied_start_scales=start.scales)
    claim.expect("tied_start_fit_finite", bool(all(np.all(np.isfinite(part)) for part in start)), "==", True)


@pytest.mark.cpu
def test_iris(claim):
    """On iris petal lengths (150 flowers), a TFP Gaussian mixture chosen by BIC over K = 1..4
    has two components, the lower one is the setosa species (mean within 0.1 cm of setosa's
    mean, weight within 0.03 of 1/3, and it claims every setosa flower and no other), and the
    TFP fit reaches sklearn EM's log-likelihood within 0.01 nats per flower.

    Petal length separates setosa (1.0-1.9 cm) from the other species (3.0-6.9 cm), like the
    two eruption modes of the Old Faithful geyser.
    Course: Lesson 2, Gaussian mixture models applied to a real dataset.
    """
    iris = toy.iris()
    X = iris.X[:, 2:3]  # petal length, cm
    fits = {k: gmm.fit(X, k, steps=claim.t["steps"], lr=claim.t["lr"], seed=0) for k in range(1, claim.t["max_k"] + 1)}
    bics = {k: gmm.bic(X, mixture) for k, mixture in fits.items()}
    best_k = min(bics, key=bics.get)
    claim.record(bic={str(k): v for k, v in bics.items()})
    claim.expect("bic_best_k", best_k, "==", "expected_k")
    fitted = fits[best_k]
    low = int(np.argmin(fitted.means[:, 0]))
    setosa = iris.y == iris.classes.index("setosa")
    claim.record(weights=fitted.weights, means=fitted.means[:, 0], scales=fitted.scales[:, 0],
                 setosa_mean=float(X[setosa, 0].mean()))
    claim.expect("setosa_mean_err_cm", abs(float(fitted.means[low, 0]) - float(X[setosa, 0].mean())), "<=", "mean_tol_cm")
    claim.expect("setosa_weight_err", abs(float(fitted.weights[low]) - 1 / 3), "<=", "weight_tol")
    assigned_low = np.argmax(gmm.responsibilities(X, fitted), axis=1) == low
    claim.expect("flowers_misassigned", int(np.sum(assigned_low != setosa)), "==", 0)
    ll_tfp = gmm.mean_log_likelihood(X, fitted)
    ll_em = gmm.mean_log_likelihood(X, gmm.em_reference(X, best_k, n_init=claim.t["em_restarts"], seed=0))
    claim.expect("loglik_gap_vs_em", abs(ll_tfp - ll_em), "<=", "loglik_tol")

    grid = np.round(np.arange(0.5, 7.51, 0.05), 2)
    edges = np.arange(0.75, 7.26, 0.25)
    counts, _ = np.histogram(X[:, 0], bins=edges)
    histogram = counts / (len(X) * 0.25)
    bins = np.clip(np.searchsorted(edges, grid, side="right") - 1, 0, len(counts) - 1)
    outside = (grid < edges[0]) | (grid >= edges[-1])
    components = {
        f"component {j + 1} (w = {fitted.weights[j]:.2f})":
            fitted.weights[j] * np.exp(gmm.scipy_log_prob(grid, gmm.Mixture(np.ones(1), fitted.means[j], fitted.scales[j])))
        for j in range(best_k)
    }
    claim.plot(
        f"Iris petal length: histogram and the BIC-chosen {best_k}-component TFP mixture", grid,
        {"histogram (0.25 cm bins)": np.where(outside, 0.0, histogram[bins]),
         "mixture density": np.exp(gmm.scipy_log_prob(grid, gmm.Mixture(
             fitted.weights, fitted.means[:, 0], fitted.scales[:, 0]))), **components},
        xlabel="petal length (cm)", ylabel="density",
    )
