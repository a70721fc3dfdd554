import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.beyond import checkpoint, drift


@pytest.mark.cpu
def test_drift_checkpoint(claim, tmp_path):
    """(a) Drift. For any two histograms of the same 2-20 bins (50 drawn pairs, every one checked), PSI
    is >= 0, symmetric (1e-12), equal to KL(p||q) + KL(q||p) (1e-12), 0 for equal histograms and > 0
    for histograms differing by >= 1e-9 in some bin, while KL divergence is >= 0 and in general not
    symmetric. With 10 reference-quantile bins (10^5 draws each), PSI(N(0, 1) -> N(1, 1)) lies in
    [0.8, 1.1] (reference 0.93) and a 0.1 SD shift gives PSI < 0.1 (reference 0.010). A two-sample
    KS test (n = 1,000 each, alpha = 0.01) detects a 0.3 SD shift in >= 95% of 200 simulations and
    false-alarms in <= 2.5% of 1,000 null runs.
    The ADF test (constant, one lagged difference) rejects a unit root at p < 0.05 for <= 12% of 100
    random walks of 500 steps, and at p < 0.01 for >= 99% of their first differences. (b) Checkpointing.
    A digits MLP trained 2 epochs (Adam), saved with its optimizer and shuffling-generator state, and
    resumed for 2 more epochs in a fresh Python process ends with weights bitwise equal to an
    uninterrupted 4-epoch run; resuming without the optimizer state does not (max abs difference > 1e-6).

    Course: beyond the course (syllabus module 9: drift detection; module 3: checkpointing; AI-wiki
    digests: PSI and KL; roadmap: stationarity and differencing).
    """
    import torch

    # both histograms share one drawn bin count, so every example reaches the checks (none is skipped)
    same_bins = st.integers(2, 20).flatmap(
        lambda k: st.tuples(*[st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)] * 2))
    examples = {"drawn": 0, "checked": 0}

    @settings(max_examples=claim.t["divergence_examples"])
    @given(pair=same_bins)
    def divergences(pair):
        examples["drawn"] += 1
        p, q = (np.array(h) / sum(h) for h in pair)
        values = {"psi": drift.psi(p, q), "psi_reversed": drift.psi(q, p), "kl_pq": drift.kl_divergence(p, q),
                  "kl_qp": drift.kl_divergence(q, p)}
        claim.expect("min_psi_or_kl", min(values.values()), ">=", 0.0)
        claim.expect("psi_asymmetry", abs(values["psi"] - values["psi_reversed"]), "<=", "exact_tol")
        claim.expect("psi_minus_symmetrised_kl", abs(values["psi"] - values["kl_pq"] - values["kl_qp"]), "<=", "exact_tol")
        claim.expect("psi_of_equal_histograms", drift.psi(p, p), "==", 0.0)
        if np.abs(p - q).max() >= claim.t["resolvable_difference"]:  # float rounding can hide a 1-ulp difference
            claim.expect("psi_of_different_histograms", values["psi"], ">", 0.0)
        examples["checked"] += 1

    divergences()
    claim.record(divergence_examples=dict(examples))
    claim.expect("divergence_examples_checked", examples["checked"], ">=", "divergence_examples")
    claim.expect("divergence_examples_skipped", examples["drawn"] - examples["checked"], "==", 0)
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
