import numpy as np
import pytest

from impl.beyond import gan


@pytest.mark.cpu
def test_discriminator(claim):
    """For data N(0, 1) and generator N(mu, 1), the value V(D*, G) at the optimal discriminator, by
    numerical integration, equals -log 4 + 2 JSD (the Jensen-Shannon divergence integrated
    separately) to 1e-8 for mu in 0, 0.5, 1, 2, 3, and equals -log 4 at mu = 0 (reference at mu = 1:
    -1.163451). At mu = 1, a logistic-regression discriminator fitted to 10^5 + 10^5 samples is
    within 0.02 of D*(x) = 1 / (1 + exp(mu x - mu^2 / 2)) everywhere on [-3, 3] (sup norm over 601 points).

    Course: beyond the course (deep-learning syllabus, study guide: the GAN loss and the discriminator).
    """
    values = {}
    for mu in (0.0, 0.5, 1.0, 2.0, 3.0):
        values[mu] = gan.value_at_optimum(mu)
        claim.track_max("worst_identity_gap", abs(values[mu] - (-np.log(4) + 2 * gan.jensen_shannon(mu))))
    claim.record(value_at_optimum={str(mu): v for mu, v in values.items()})
    claim.plot("V(D*, G) against the generator's mean", list(values), {"V(D*, G)": list(values.values())},
               xlabel="mu", hline=float(-np.log(4)))
    claim.expect("identity_max_gap", claim.observed["worst_identity_gap"], "<=", "integral_tol")
    claim.expect("value_at_mu0_plus_log4", abs(values[0.0] + np.log(4)), "<=", "integral_tol")
    claim.expect("value_at_mu1_vs_reference", abs(values[1.0] - (-1.163451)), "<=", "reference_tol")
    model = gan.fit_discriminator(1.0, 100_000, claim.rng(0))
    x = np.linspace(-3.0, 3.0, 601)
    gap = np.abs(model.predict_proba(x[:, None])[:, 1] - gan.optimal_discriminator(x, 1.0))
    claim.expect("discriminator_sup_gap", float(gap.max()), "<=", "max_discriminator_gap")
