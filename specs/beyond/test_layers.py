import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from impl.beyond import activations, batchnorm

EPS = 1e-5
NOTES_BATCH = np.array([[1.0], [2.0], [4.0], [9.0]])  # a batch of four values of one feature, as in the notes


def _normalised(x: np.ndarray) -> np.ndarray:
    """(x - batch mean) / sqrt(biased batch variance + eps), per feature, float64."""
    x = x.astype(np.float64)
    return (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + EPS)


@functools.cache
def _frameworks_on_stream(seed: int, num_batches: int, batch_size: int):
    """torch and Keras BN fed the same 200 batches of N(3, 2^2) data (4 features)."""
    batches = np.random.default_rng(seed).normal(3.0, 2.0, (num_batches, batch_size, 4)).astype(np.float32)
    probe = batches[0]
    return (batches, batchnorm.torch_batchnorm(batches, probe, eps=EPS),
            batchnorm.keras_batchnorm(batches, probe, eps=EPS))


@pytest.mark.cpu
@settings(max_examples=25)
@given(batch=hnp.arrays(np.float32, st.tuples(st.integers(2, 32), st.integers(1, 6)),
                        elements=st.floats(-100, 100, width=32)).filter(lambda b: np.all(b.std(axis=0) > 1e-2)))
def test_batchnorm(claim, seed, batch):
    """For the notes' batch of four and any batch of 2-32 samples (up to 6 features, values within
    +-100), training-mode batch norm (gamma = 1, beta = 0) in torch outputs
    (x - mean) / sqrt(biased variance + eps) to 1e-5 relative to the output scale (float32). In
    eval mode a sample's output is bitwise the same alone or inside its batch. Fed 200 batches of
    32 from N(3, 2^2), the running mean is within 4 standard errors of 3 (the EMA's SD is 0.081,
    2.7% of 3: the catalog's 1% is below the sampling error; the start value's weight is 0.9^200); torch (momentum 0.1) and Keras
    (momentum 0.9) running means agree to 1e-5; and torch's running variance is Keras's x B/(B-1)
    (to 1e-5 relative), because torch stores the unbiased batch variance and Keras the biased one.

    Course: beyond the course, D2 (batch normalisation); D3 batch normalisation (worked example).
    """
    for name, x in (("notes_batch", NOTES_BATCH.astype(np.float32)), ("drawn_batch", batch)):
        run = batchnorm.torch_batchnorm(x[None], x, eps=EPS)
        gap = float(np.abs(run.train_output - _normalised(x)).max())
        claim.track_max(f"worst_{name}_formula_gap", gap)
        claim.expect(f"{name}_formula_gap", gap, "<=", "tol")
        alone = np.concatenate([batchnorm.torch_batchnorm(x[None], x[i:i + 1], eps=EPS).eval_output for i in range(len(x))])
        claim.expect(f"{name}_eval_alone_vs_in_batch", bool(np.array_equal(alone, run.eval_output)), "==", True)
    batches, torch_run, keras_run = _frameworks_on_stream(claim.use_seed(seed), claim.t["num_batches"], claim.t["batch_size"])
    b = batches.shape[1]
    ema_se = 2.0 * np.sqrt(0.1 / 1.9) / np.sqrt(b)  # SD of an EMA (weight 0.1) of means of b draws of N(3, 2^2)
    stream_gaps = {"running_mean_error_in_se": float(np.abs(torch_run.running_mean - 3.0).max() / ema_se),
                   "torch_vs_keras_mean": float(np.abs(torch_run.running_mean - keras_run.running_mean).max()),
                   "torch_var_over_keras_var_times_b_over_b_minus_1":
                       float(np.abs(torch_run.running_var / (keras_run.running_var * b / (b - 1)) - 1).max())}
    claim.record(torch_running_var=torch_run.running_var, keras_running_var=keras_run.running_var)
    claim.expect("running_mean_error_in_se", stream_gaps["running_mean_error_in_se"], "<=", "running_mean_max_se")
    claim.expect("torch_vs_keras_mean", stream_gaps["torch_vs_keras_mean"], "<=", "tol")
    claim.expect("torch_var_over_keras_var_times_b_over_b_minus_1",
                 stream_gaps["torch_var_over_keras_var_times_b_over_b_minus_1"], "<=", "tol")


def _affine_and_eval(claim):
    """BN with gamma = 2, beta = 0.5 (as training leaves them) on N(3, 2^2) batches, and eval mode on
    a batch from N(5, 1) (data that drifted after training)."""
    batches = claim.rng(0).normal(3.0, 2.0, (claim.t["num_batches"], 32, 4)).astype(np.float32)
    drifted = np.random.default_rng(1).normal(5.0, 1.0, (32, 4)).astype(np.float32)
    run = batchnorm.torch_batchnorm(batches, drifted, eps=EPS, gamma=2.0, beta=0.5)
    stats = {"train_mean": float(run.train_output.mean()), "train_sd": float(run.train_output.std(axis=0).mean()),
             "eval_mean": float(run.eval_output.mean()), "eval_sd": float(run.eval_output.std(axis=0).mean())}
    claim.record(**stats)
    return batches, run, stats


@pytest.mark.cpu
@pytest.mark.flag("F33")
@pytest.mark.known_refuted("worst_departure_from_mean_0_sd_1",
                           source="a batch-norm layer's outputs have mean 0 and standard deviation 1")
def test_notes_bn_outputs_standardised(claim):
    """The notes' statement that a batch-norm layer's outputs have mean 0 and standard deviation 1:
    a torch BatchNorm1d whose scale and shift have been learned as gamma = 2, beta = 0.5 outputs
    mean 0 and SD 1 (each within 0.05) on a training batch, and so does it in eval mode.

    Course: beyond the course, D3 batch normalisation; flagged F33.
    """
    _, _, stats = _affine_and_eval(claim)
    departures = {f"{name}_{what}": abs(stats[f"{name}_{what}"] - target)
                  for name in ("train", "eval") for what, target in (("mean", 0.0), ("sd", 1.0))}
    claim.record(departures=departures)
    claim.expect("worst_departure_from_mean_0_sd_1", max(departures.values()), "<=", "standard_tol")


@pytest.mark.cpu
@pytest.mark.flag("F33")
def test_bn_standardises_before_affine(claim):
    """Batch norm standardises only before its affine step, only in training mode, and only up to
    eps: on training batches from N(3, 2^2) the normalised values have mean 0 (1e-5) and SD
    sqrt(v / (v + eps)) (1e-5), the output y = gamma x_hat + beta then has mean beta = 0.5 and SD
    gamma = 2 (1e-3); in eval mode, on data that drifted to N(5, 1), the running statistics leave
    the output's mean more than 0.5 away from beta. With a tiny batch variance (v = 1e-5 = eps)
    the normalised SD is sqrt(1/2) = 0.707, not 1.

    Course: beyond the course, D3 batch normalisation; corrects flag F33.
    """
    batches, run, stats = _affine_and_eval(claim)
    x = batches[0].astype(np.float64)
    x_hat = (run.train_output - 0.5) / 2.0
    expected_sd = np.sqrt(x.var(axis=0) / (x.var(axis=0) + EPS))
    claim.expect("x_hat_mean", float(np.abs(x_hat.mean(axis=0)).max()), "<=", "tol")
    claim.expect("x_hat_sd_error", float(np.abs(x_hat.std(axis=0) - expected_sd).max()), "<=", "tol")
    claim.expect("output_mean_minus_beta", abs(stats["train_mean"] - 0.5), "<=", "affine_tol")
    claim.expect("output_sd_minus_gamma", abs(stats["train_sd"] - 2.0), "<=", "affine_tol")
    claim.expect("eval_mean_minus_beta", abs(stats["eval_mean"] - 0.5), ">", 0.5)
    tiny = (np.array([[-1.0], [1.0], [-1.0], [1.0]]) * np.sqrt(EPS)).astype(np.float32)  # biased variance = eps
    tiny_sd = float(batchnorm.torch_batchnorm(tiny[None], tiny, eps=EPS).train_output.std())
    claim.record(tiny_variance_output_sd=tiny_sd)
    claim.expect("tiny_variance_sd_error", abs(tiny_sd - np.sqrt(0.5)), "<=", "affine_tol")


@pytest.mark.cpu
@settings(max_examples=25)
@given(x=hnp.arrays(np.float32, st.tuples(st.integers(1, 8), st.integers(2, 8)), elements=st.floats(-30, 30, width=32)))
def test_activations_init_clip(claim, seed, x):
    """For any float32 x in [-30, 30]: sigmoid lies in [0, 1] and strictly inside for |x| <= 15;
    tanh(x) = 2 sigmoid(2x) - 1 within 1e-6; ReLU and LeakyReLU (slope 0.01) match their
    definitions; softmax rows sum to 1 and ignore an added constant (1e-6); and torch, TensorFlow
    and JAX agree with NumPy within 1e-6. The derivative of sigmoid by torch and JAX autodiff is
    <= 0.25, equals 0.25 at 0 and matches sigma (1 - sigma) within 1e-6. Three linear layers
    without activations collapse to one linear map (1e-6) and reach at most 0.75 on XOR, while a
    2-8-8-1 tanh network reaches 1.0 (seed 0). In a 20-layer ReLU net of width 512, He init keeps
    the layer-20 / layer-1 mean-square ratio in [0.25, 4], N(0, 1) pushes it above 1e30 and
    N(0, 0.01^2) below 1e-20. `clip_grad_norm_` leaves a global norm <= max_norm (1 + 1e-6), keeps the
    direction (cosine >= 1 - 1e-6) and returns the norm before clipping.

    Course: beyond the course, D2 (activation functions, linear separability); D3 (initialisation); D4 activation function, weights and biases, convergence (gradient clipping).
    """
    ref = {name: activations.activation(x, name, "numpy") for name in activations.NAMES}
    for framework in activations.FRAMEWORKS[1:]:
        gap = max(float(np.abs(activations.activation(x, name, framework) - ref[name]).max()) for name in activations.NAMES)
        claim.track_max(f"worst_{framework}_gap", gap)
        claim.expect(f"{framework}_gap", gap, "<=", "tol")
    sig, x64 = ref["sigmoid"], x.astype(np.float64)
    claim.expect("sigmoid_in_unit_interval", bool(np.all((sig >= 0) & (sig <= 1))), "==", True)
    claim.expect("sigmoid_open_for_abs_x_15", bool(np.all((sig[np.abs(x) <= 15] > 0) & (sig[np.abs(x) <= 15] < 1))), "==", True)
    tanh_gap = float(np.abs(ref["tanh"] - (2 * activations.activation(2 * x, "sigmoid", "numpy") - 1)).max())
    claim.expect("tanh_identity_gap", tanh_gap, "<=", "tol")
    claim.expect("relu_definition", bool(np.array_equal(ref["relu"], np.where(x64 > 0, x64, 0.0))), "==", True)
    claim.expect("leaky_definition_gap", float(np.abs(ref["leaky_relu"] - np.where(x64 > 0, x64, 0.01 * x64)).max()), "<=", "tol")
    claim.expect("softmax_row_sum_gap", float(np.abs(ref["softmax"].sum(axis=1) - 1).max()), "<=", "tol")
    shifted = activations.activation(x + np.float32(7.0), "softmax", "numpy")
    claim.expect("softmax_shift_gap", float(np.abs(shifted - ref["softmax"]).max()), "<=", "tol")
    for framework in ("torch", "jax"):  # the derivative by automatic differentiation, not by the formula
        grad = activations.sigmoid_derivative(x, framework)
        claim.expect(f"{framework}_sigmoid_grad_max", float(grad.max()), "<=", 0.25)
        claim.expect(f"{framework}_sigmoid_grad_vs_formula", float(np.abs(grad - sig * (1 - sig)).max()), "<=", "tol")
        claim.expect(f"{framework}_sigmoid_grad_at_0", float(activations.sigmoid_derivative(np.zeros((1, 1)), framework)[0, 0]),
                     "==", 0.25)
    fixed = _fixed_parts(claim.use_seed(seed))
    claim.record(**fixed)
    claim.expect("linear_stack_collapse_gap", fixed["linear_collapse_gap"], "<=", "tol")
    claim.expect("linear_stack_xor_accuracy", fixed["linear_xor_accuracy"], "<=", 0.75)
    claim.expect("tanh_mlp_xor_accuracy", fixed["tanh_xor_accuracy"], "==", 1.0)
    claim.expect("he_ratio", fixed["he"], ">=", "he_low")
    claim.expect("he_ratio", fixed["he"], "<=", "he_high")
    claim.expect("standard_init_ratio", fixed["standard"], ">=", "exploding_above")
    claim.expect("small_init_ratio", fixed["small"], "<=", "vanishing_below")
    grads = np.random.default_rng(seed).normal(0, 1 + float(np.abs(x).max()), (3, 5))
    max_norm = 1.0 + float(np.abs(x).mean())
    clipped = activations.clip_gradients(grads, max_norm)
    after = np.concatenate(clipped.gradients)
    claim.expect("returned_norm_rel_error", abs(clipped.returned_norm / np.linalg.norm(grads) - 1), "<=", "tol")
    claim.expect("clipped_norm_over_max", float(np.linalg.norm(after) / max_norm), "<=", 1 + claim.t["tol"])
    cosine = float(after @ grads.ravel() / np.linalg.norm(after) / np.linalg.norm(grads))
    claim.expect("clip_cosine", cosine, ">=", 1 - claim.t["tol"])


@functools.cache
def _fixed_parts(seed: int) -> dict:
    """The parts that do not depend on the drawn x: XOR with and without tanh, the 20-layer ratios."""
    linear, tanh = activations.xor_accuracy(8, "none", seed), activations.xor_accuracy(8, "tanh", seed)
    ratios = {init: activations.depth_ratio(init, depth=20, width=512, rng=np.random.default_rng(seed))
              for init in activations.INITS}
    return {"linear_xor_accuracy": linear.accuracy, "linear_collapse_gap": linear.collapsed_map_gap,
            "tanh_xor_accuracy": tanh.accuracy, **ratios}


def _relu_range(claim):
    x = np.array([[-30.0, -1.0, 0.5, 3.0, 30.0, 1e6]], np.float32)
    out = {f: activations.activation(x, "relu", f) for f in activations.FRAMEWORKS}
    drifted = activations.activation(np.random.default_rng(0).normal(3.0, 1.0, (100, 100)), "sigmoid", "numpy")
    claim.use_seed(0)
    claim.record(relu_inputs=x, relu_max={f: float(v.max()) for f, v in out.items()},
                 sigmoid_mean_on_n3_1=float(drifted.mean()), sigmoid_sd_on_n3_1=float(drifted.std()))
    return x, out, drifted


@pytest.mark.cpu
@pytest.mark.flag("F41")
@pytest.mark.known_refuted("outputs_normalised", source="activation functions normalise their inputs")
def test_notes_activations_normalise(claim):
    """The notes' statement that activation functions normalise their inputs: ReLU's outputs stay
    within [-1, 1] (in NumPy, torch, TensorFlow and JAX) for inputs up to 1e6, and a sigmoid layer's
    outputs on N(3, 1) inputs have mean 0 and SD 1 (within 0.1).

    Course: beyond the course, D4 activation function; flagged F41.
    """
    x, out, drifted = _relu_range(claim)
    relu_max_abs = {framework: float(np.abs(values).max()) for framework, values in out.items()}
    claim.record(relu_max_abs=relu_max_abs)
    normalised = (max(relu_max_abs.values()) <= 1.0 and abs(float(drifted.mean())) <= 0.1
                  and abs(float(drifted.std()) - 1) <= 0.1)
    claim.expect("outputs_normalised", normalised, "==", True)


@pytest.mark.cpu
@pytest.mark.flag("F41")
def test_relu_unbounded(claim):
    """Activations bound or gate values, they do not normalise them: ReLU passes every positive input
    through unchanged (30 -> 30, 1e6 -> 1e6, bitwise, in NumPy, torch, TensorFlow and JAX), so it is
    unbounded above; sigmoid is bounded in (0, 1) but on N(3, 1) inputs its outputs have mean above
    0.9 and SD below 0.1, nowhere near a standardised 0 and 1.

    Course: beyond the course, D4 activation function; corrects flag F41.
    """
    x, out, drifted = _relu_range(claim)
    for framework, values in out.items():
        claim.expect(f"{framework}_relu_identity_on_positives", bool(np.array_equal(values[x > 0], x[x > 0].astype(np.float64))), "==", True)
    claim.expect("sigmoid_mean", float(drifted.mean()), ">=", 0.9)
    claim.expect("sigmoid_sd", float(drifted.std()), "<=", 0.1)
