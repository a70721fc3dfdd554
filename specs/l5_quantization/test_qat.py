"""Quantization-aware training: a W3A4 MLP in PyTorch (fake-quant, straight-through estimator) and the CNN
with TF Model Optimization."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from impl.l5_quantization import fakequant, models, quantize as q, tflite_tools
from specs.l5_quantization.shared import model_file


@pytest.mark.cpu
@given(hnp.arrays(np.float32, st.integers(1, 300), elements=st.floats(-50, 50, width=32)),
       st.floats(1e-3, 10.0), st.integers(2, 8), st.booleans())
def test_ste(claim, x, scale, bits, signed):
    """For hypothesis-drawn float32 tensors, scales in [1e-3, 10], 2-8 bits, signed or unsigned codes
    (zero-point 0 or mid-range), the torch fake-quantizer's forward pass equals the NumPy reference
    `dequantize(quantize(x))` bit for bit, and its straight-through gradient is exactly 1 where x lies inside
    the representable range [(qmin - zp) scale, (qmax - zp) scale] and exactly 0 outside it.

    Course: Lesson 5, quantization-aware training (fake quantization, straight-through estimator).
    """
    import torch

    qmin, qmax = q.qrange(bits, signed)
    zp = 0 if signed else (qmax + 1) // 2
    scale32 = np.float32(scale)
    xt = torch.tensor(x, requires_grad=True)
    out = fakequant.fake_quant(xt, float(scale32), zp, bits=bits, signed=signed)
    reference = q.fake_quantize(x, scale32, zp, bits=bits, signed=signed)
    assert out.dtype == torch.float32 and reference.dtype == np.float32
    mismatches = int(np.sum(out.detach().numpy().view(np.int32) != reference.view(np.int32)))
    claim.track_max("forward_bit_mismatches", mismatches)
    assert mismatches == 0
    out.sum().backward()
    inside = (x >= (qmin - zp) * scale32) & (x <= (qmax - zp) * scale32)
    assert np.array_equal(xt.grad.numpy(), inside.astype(np.float32))


def _evaluate(module, x, y) -> float:
    return models.accuracy(models.predict_logits(module, x), y)


def _ptq_vs_qat(claim, weight_bits: int, act_bits: int) -> None:
    """Float, PTQ and QAT (mean of seeds 0-2) accuracies of `model:mlp_torch` on the grid W{weight_bits}A{act_bits};
    the PTQ drop is asserted last, so a refuted PTQ drop still leaves the QAT checks recorded."""
    import torch

    torch.set_num_threads(1)
    X_train, y_train, X_test, y_test = models.mnist5k(0)
    x_train, x_test = models.to_nchw(X_train), models.to_nchw(X_test)
    path = model_file("mlp_torch.pt")
    float_acc = _evaluate(models.load_state(path), x_test, y_test)
    calibration = torch.from_numpy(x_train[: claim.t["calibration_size"]])
    bits = dict(weight_bits=weight_bits, act_bits=act_bits)
    ptq_acc = _evaluate(fakequant.LowBitMLP(models.load_state(path), calibration, **bits).module, x_test, y_test)
    qat_accs = []
    for seed in (0, 1, 2):
        claim.use_seed(seed)
        qat = fakequant.LowBitMLP(models.load_state(path), calibration, **bits)
        models.train(qat.module, x_train, y_train, epochs=claim.t["qat_epochs"], lr=claim.t["qat_lr"], seed=seed)
        qat_accs.append(_evaluate(qat.module, x_test, y_test))
    qat_mean = float(np.mean(qat_accs))
    grid = f"W{weight_bits}A{act_bits}"
    claim.record(float_accuracy=float_acc, ptq_accuracy=ptq_acc, qat_accuracies=qat_accs)
    claim.plot(f"MLP 784-256-10 on mnist5k, {grid}: test accuracy", ["float", f"PTQ {grid}", f"QAT {grid} (mean of 3)"],
               {"accuracy": [float_acc, ptq_acc, qat_mean]}, kind="bar", ylabel="top-1 accuracy")
    claim.expect("qat_drop_pp", 100 * (float_acc - qat_mean), "<=", "max_qat_drop_pp")
    claim.expect("qat_gain_over_ptq_pp", 100 * (qat_mean - ptq_acc), ">=", "min_qat_gain_pp")
    claim.expect("ptq_drop_pp", 100 * (float_acc - ptq_acc), ">=", "min_ptq_drop_pp")


@pytest.mark.cpu
@pytest.mark.xfail(strict=True, reason="measured: W3A4 PTQ loses only 0.6 points (float 0.915, PTQ 0.909), not >= 3; "
                                       "so QAT, though within 2 points of float (mean 0.915), cannot gain 3 points "
                                       "over it (+0.63)")
def test_low_bit(claim):
    """Post-training quantization fails at W3A4 and quantization-aware training recovers: the float MLP
    784-256-10 (`model:mlp_torch`, trained on mnist5k) run with W3A4 fake quantization (3-bit per-channel
    symmetric weights, 4-bit unsigned activations at every Linear input, ranges from the largest activation
    on 1,000 training images) loses >= 3 points of test accuracy (PTQ), while 2 epochs of QAT from the float
    weights (Adam 1e-3, straight-through gradients, seeds 0-2) end, on the mean of the 3 seeds, within
    2 points of float and >= PTQ + 3 points.

    Known refuted as stated: at 3 bits per-channel this MLP hardly loses anything, so there is nothing for
    QAT to recover; `test_two_bit` makes the same claim at W2A4, where PTQ does fail.
    Course: Lesson 5, quantization-aware training.
    """
    _ptq_vs_qat(claim, 3, 4)


@pytest.mark.cpu
def test_two_bit(claim):
    """Post-training quantization fails at W2A4 and quantization-aware training recovers: the float MLP
    784-256-10 (`model:mlp_torch`) with 2-bit per-channel symmetric weights (codes -1, 0, 1 in use) and
    4-bit unsigned activations (ranges as in `test_low_bit`) loses >= 3 points of test accuracy without
    training (PTQ), while 2 epochs of QAT from the float weights (Adam 1e-3, straight-through gradients,
    seeds 0-2) end, on the mean of the 3 seeds, within 2 points of float and >= PTQ + 3 points.

    Course: Lesson 5, quantization-aware training (recovering what low-bit PTQ loses).
    """
    _ptq_vs_qat(claim, 2, 4)


@pytest.mark.cpu
def test_tfmot(claim):
    """TF Model Optimization's QAT keeps int8 accuracy: the CNN built in tf_keras with the trained weights,
    wrapped by `tfmot.quantization.keras.quantize_model`, fine-tuned for 1 epoch (stage `qat_tfmot`, its own
    process) and converted to full-integer int8 TFLite, scores on the 1,000 mnist5k test images within
    1 point of the float Keras model and >= the post-training int8 model's accuracy - 0.3 points.

    Course: Lesson 5, QAT with TensorFlow.
    """
    _, _, X_test, y_test = models.mnist5k(0)
    x_test = models.to_nhwc(X_test)
    scores = {}
    for name, file in (("float", "cnn_float32.tflite"), ("ptq_int8", "cnn_int8.tflite"), ("qat_int8", "cnn_qat.tflite")):
        runner = tflite_tools.TFLiteRunner(model_file(file).read_bytes())
        scores[name] = models.accuracy(runner(x_test), y_test)
    claim.record(**{f"{name}_accuracy": value for name, value in scores.items()})
    claim.expect("qat_drop_pp", 100 * (scores["float"] - scores["qat_int8"]), "<=", "max_drop_pp")
    claim.expect("qat_minus_ptq_pp", 100 * (scores["qat_int8"] - scores["ptq_int8"]), ">=", "min_vs_ptq_pp")
