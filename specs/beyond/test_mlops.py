import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.beyond import checkpoint, drift


@pytest.mark.cpu
def test_drift_checkpoint(claim, tmp_path):
    """(a) Drift. For any two histograms of 2-20 bins, PSI is >= 0, symmetric, and 0 exactly when they
    are equal, while KL divergence is >= 0 and in general not symmetric. With 10 reference-quantile
    bins (10^5 draws each), PSI(N(0, 1) -> N(1, 1)) lies in [0.8, 1.1] (reference 0.93) and a 0.1 SD
    shift gives PSI < 0.1 (reference 0.010). A two-sample KS test (n = 1,000 each, alpha = 0.01)
    detects a 0.3 SD shift in >= 95% of 200 simulations and false-alarms in <= 2.5% of 1,000 null runs.
    The ADF test (constant, one lagged difference) rejects a unit root at p < 0.05 for <= 12% of 100
    random walks of 500 steps, and at p < 0.01 for >= 99% of their first differences. (b) Checkpointing.
    A digits MLP trained 2 epochs (Adam), saved with its optimizer and shuffling-generator state, and
    resumed for 2 more epochs in a fresh Python process ends with weights bitwise equal to an
    uninterrupted 4-epoch run; resuming without the optimizer state does not (max abs difference > 1e-6).

    Course: beyond the course (syllabus module 9: drift detection; module 3: checkpointing; AI-wiki
    digests: PSI and KL; roadmap: stationarity and differencing).
    """
    import torch

    histogram = st.integers(2, 20).flatmap(lambda k: st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k))

    @settings(max_examples=50)
    @given(a=histogram, b=histogram)
    def divergences(a, b):
        if len(a) != len(b):
            return
        p, q = np.array(a) / sum(a), np.array(b) / sum(b)
        assert drift.psi(p, q) >= 0 and drift.kl_divergence(p, q) >= 0
        assert abs(drift.psi(p, q) - drift.psi(q, p)) <= 1e-12
        assert drift.psi(p, p) == 0.0
        assert (drift.psi(p, q) == 0.0) == bool(np.all(p == q))

    divergences()
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])  # KL(p||q) = 0.511, KL(q||p) = 0.368
    claim.expect("kl_asymmetry_example", abs(drift.kl_divergence(p, q) - drift.kl_divergence(q, p)), ">=", 0.01)
    rng = claim.rng(0)
    reference = rng.standard_normal(100_000)
    psi_1sd = drift.psi(*drift.binned_fractions(reference, rng.standard_normal(100_000) + 1.0, 10))
    psi_01sd = drift.psi(*drift.binned_fractions(reference, rng.standard_normal(100_000) + 0.1, 10))
    claim.expect("psi_1sd_low", psi_1sd, ">=", "psi_1sd_low")
    claim.expect("psi_1sd_high", psi_1sd, "<=", "psi_1sd_high")
    claim.expect("psi_01sd", psi_01sd, "<", "psi_small_shift_max")
    claim.expect("ks_power_0.3sd", drift.ks_detection_rate(0.3, 1000, 200, 0.01, rng), ">=", "min_ks_power")
    claim.expect("ks_false_alarms", drift.ks_detection_rate(0.0, 1000, 1000, 0.01, rng), "<=", "max_ks_false_alarm")
    walks = np.cumsum(rng.standard_normal((100, 500)), axis=1)
    claim.expect("adf_rejects_random_walks", drift.adf_rejection_rate(walks, 0.05), "<=", "max_adf_walk_rejections")
    claim.expect("adf_rejects_differences", drift.adf_rejection_rate(np.diff(walks, axis=1), 0.01), ">=",
                 "min_adf_difference_rejections")

    claim.use_seed(0)
    whole, half = tmp_path / "whole.pt", tmp_path / "half.pt"
    checkpoint.train(0, 4, None, whole, True)
    checkpoint.train(0, 2, None, half, True)
    checkpoint.train_in_fresh_process(0, 2, half, tmp_path / "resumed.pt", True)
    checkpoint.train(0, 2, None, tmp_path / "half_no_opt.pt", False)
    checkpoint.train_in_fresh_process(0, 2, tmp_path / "half_no_opt.pt", tmp_path / "resumed_no_opt.pt", True)
    load = lambda name: torch.load(tmp_path / name, weights_only=True)["model"]
    reference_weights, resumed, without = load("whole.pt"), load("resumed.pt"), load("resumed_no_opt.pt")
    claim.expect("resumed_bitwise_equal", all(torch.equal(reference_weights[k], resumed[k]) for k in reference_weights),
                 "==", True)
    gap = max(float((reference_weights[k] - without[k]).abs().max()) for k in reference_weights)
    claim.expect("without_optimizer_state_max_abs_gap", gap, ">", "min_gap_without_optimizer")
