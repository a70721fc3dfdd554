"""Quantization-aware training: a W3A4 MLP in PyTorch (fake-quant, straight-through estimator) and the CNN
with TF Model Optimization."""
import copy
import json

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from impl.isolation import torch_state
from impl.l5_quantization import fakequant, models, quantize as q, tflite_tools
from impl.pipeline import params
from impl.scoring import top1_accuracy
from specs.l5_quantization.shared import model_file


@pytest.mark.cpu
@given(hnp.arrays(np.float32, st.integers(1, 300), elements=st.floats(-50, 50, width=32)),
       st.floats(1e-3, 10.0), st.integers(2, 8), st.booleans())
def test_ste(claim, x, scale, bits, signed):
    """For hypothesis-drawn float32 tensors, scales in [1e-3, 10], 2-8 bits, signed or unsigned codes
    (zero-point 0 or mid-range), the torch fake-quantizer's forward pass equals the NumPy reference
    `dequantize(quantize(x))` bit for bit, and its straight-through gradient is exactly 1 where x lies inside
    the representable range [(qmin - zp) scale, (qmax - zp) scale] and exactly 0 outside it. Given per channel
    along axis -1 with every channel's scale and zero-point equal, it gives the per-tensor answer bit for bit.

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
    per_channel = fakequant.fake_quant(torch.tensor(x), np.full(x.size, scale32), np.full(x.size, zp), bits=bits,
                                       signed=signed, axis=-1)
    assert torch.equal(per_channel, out.detach())


def _lowbit_reference(lowbit, x: np.ndarray) -> np.ndarray:
    """`lowbit`'s forward pass rebuilt with the NumPy reference quantizer: every Linear input fake-quantized
    unsigned (zero-point 0, scale act_max / (2^a - 1)), every weight row symmetric per channel (scale
    max|row| / (2^(w-1) - 1)); the products and ReLUs in torch, so the float32 sums are the same."""
    import torch

    h = torch.flatten(torch.from_numpy(x), 1)
    with torch.no_grad():
        for i, layer in enumerate(lowbit.linears):
            act_scale = np.float32(lowbit.act_max[i] / (2**lowbit.act_bits - 1))
            a = q.fake_quantize(h.numpy(), act_scale, 0, bits=lowbit.act_bits, signed=False)
            w = layer.weight.numpy()
            w_scale = np.maximum(np.abs(w).max(axis=1), np.float32(1e-12)) / np.float32(2 ** (lowbit.weight_bits - 1) - 1)
            w_q = q.fake_quantize(w, w_scale, 0, bits=lowbit.weight_bits, signed=True, axis=0)
            h = torch.nn.functional.linear(torch.from_numpy(a), torch.from_numpy(w_q), layer.bias)
            if i < len(lowbit.linears) - 1:
                h = torch.relu(h)
    return h.numpy()


def _accuracy(module, x, y) -> float:
    return top1_accuracy(models.predict_logits(module, x), y)


def _float_curve(claim, net: str, title: str) -> list[dict]:
    """The float model's training curve (stage `train_models`: per epoch, training loss and accuracy on
    1,000 validation images), recorded and plotted: the evidence that the baseline was trained to convergence."""
    curve = json.loads(model_file("train_curves.json").read_text())[net]
    claim.record(float_curve=curve)
    claim.plot(title, [row["epoch"] for row in curve],
               {"validation accuracy": [row["val_accuracy"] for row in curve],
                "training loss": [row["train_loss"] for row in curve]}, xlabel="epoch")
    return curve


def _ptq_vs_qat(claim, weight_bits: int, act_bits: int) -> None:
    """Float, PTQ, QAT and control accuracies of `model:mlp_torch` on the grid W{weight_bits}A{act_bits}, every one
    recomputed here from the saved weights (stages `train_models` and `qat_torch`); all are recorded before
    the first check, and the PTQ checks come last, so a PTQ that loses little still leaves the QAT checks judged."""
    import torch

    knobs = params.knobs("l5_quantization", "qat")
    X_train, _, X_test, y_test = models.mnist5k(knobs["split_seed"])
    x_test = models.to_nchw(X_test)
    calibration = torch.from_numpy(models.to_nchw(X_train[:knobs["calibration_size"]]))
    saved = torch.load(model_file("mlp_qat.pt"), map_location="cpu", weights_only=True)
    seeds = [claim.use_seed(seed) for seed in knobs["seeds"]]
    bits = dict(weight_bits=weight_bits, act_bits=act_bits)
    grid = f"W{weight_bits}A{act_bits}"
    _float_curve(claim, "mlp", "MLP 784-256-10, float training (cosine to 0): the baseline converges")

    with torch_state(num_threads=1):  # one thread, as the stage: the same sums in the same order
        float_net = models.load_state(model_file("mlp_torch.pt"))

        def restored(state):  # the float architecture with saved (control or QAT) weights
            net = copy.deepcopy(float_net)
            net.load_state_dict(state)
            return net.eval()

        ptq = fakequant.LowBitMLP(copy.deepcopy(float_net), calibration, **bits)
        with torch.no_grad():
            ptq_logits = ptq.module(torch.from_numpy(x_test[:256])).numpy()
        reference_gap = float(np.max(np.abs(ptq_logits - _lowbit_reference(ptq, x_test[:256]))))
        act_max_gap = float(np.max(np.abs(np.array(ptq.act_max) - saved["act_max"].numpy())))
        float_acc, ptq_acc = _accuracy(float_net, x_test, y_test), _accuracy(ptq.module, x_test, y_test)
        controls = [restored(saved[f"control/seed{seed}"]) for seed in seeds]
        control_accs = [_accuracy(net, x_test, y_test) for net in controls]
        control_ptq_accs = [_accuracy(fakequant.LowBitMLP(net, calibration, **bits).module, x_test, y_test)
                            for net in controls]
        qat_accs = [_accuracy(fakequant.LowBitMLP(restored(saved[f"qat_w{weight_bits}a{act_bits}/seed{seed}"]),
                                                  act_max=ptq.act_max, **bits).module, x_test, y_test)
                    for seed in seeds]
    qat, control, control_ptq = float(np.mean(qat_accs)), float(np.mean(control_accs)), float(np.mean(control_ptq_accs))
    claim.record(float_accuracy=float_acc, ptq_accuracy=ptq_acc, qat_accuracies=qat_accs, qat_mean=qat,
                 control_accuracies=control_accs, control_mean=control, control_ptq_accuracies=control_ptq_accs,
                 control_ptq_mean=control_ptq, qat_epochs=knobs["num_epochs"], qat_lr=knobs["lr"])
    claim.plot(f"MLP 784-256-10 on mnist5k, {grid}: test accuracy (QAT and control: mean of {len(seeds)} seeds)",
               ["float", f"float + {knobs['num_epochs']} epochs (control)", f"PTQ {grid}", f"PTQ {grid} of the control",
                f"QAT {grid}"], {"accuracy": [float_acc, control, ptq_acc, control_ptq, qat]}, kind="bar",
               ylabel="top-1 accuracy")
    claim.expect("act_max_gap_vs_stage", act_max_gap, "==", 0.0)  # QAT ran on this float model's ranges
    claim.expect("ptq_logit_gap_vs_numpy_reference", reference_gap, "==", 0.0)  # the model runs what it says
    claim.expect("float_gain_from_extra_epochs_pp", 100 * (control - float_acc), "<=", "max_control_gain_pp")
    claim.expect("qat_drop_vs_control_pp", 100 * (control - qat), "<=", "max_qat_drop_pp")
    claim.expect("qat_drop_pp", 100 * (float_acc - qat), "<=", "max_qat_drop_pp")
    # What QAT has to recover and what it recovers: PTQ's drop and QAT's gain over both PTQs, each >= 3 points.
    recovery = {"ptq_drop_pp": 100 * (float_acc - ptq_acc), "qat_gain_over_ptq_pp": 100 * (qat - ptq_acc),
                "qat_gain_over_control_ptq_pp": 100 * (qat - control_ptq)}
    claim.record(**recovery)
    claim.expect("qat_gain_over_ptq_pp_at_least_0", recovery["qat_gain_over_ptq_pp"], ">=", 0.0)
    claim.expect("ptq_loss_recovered_pp", min(recovery.values()), ">=", "min_recovered_pp")


@pytest.mark.cpu
@pytest.mark.known_refuted("ptq_loss_recovered_pp",
                           source="quantization-aware training recovers the accuracy post-training quantization "
                                  "loses (catalog: at W3A4 PTQ loses >= 3 points and QAT regains >= 3)")
def test_low_bit(claim):
    """Post-training quantization fails at W3A4 and quantization-aware training recovers: the float MLP
    784-256-10 (`model:mlp_torch`, trained on mnist5k to convergence, its validation curve recorded) run
    with W3A4 fake quantization (3-bit per-channel symmetric weights, 4-bit unsigned activations at every
    Linear input, ranges from the largest activation on 1,000 training images) loses >= 3 points of test
    accuracy (PTQ), while 2 epochs of QAT from the float weights (Adam 1e-3, straight-through gradients,
    seeds 0-4) end, on the mean of the seeds, within 2 points of float and of the control (the float model
    trained the same 2 epochs without quantization, same seeds) and >= 3 points above PTQ of the float
    model and of the control. The control also shows the float model converged: 2 more epochs raise its
    mean accuracy by <= 1 point.

    Known refuted at `ptq_loss_recovered_pp` (the least of PTQ's drop and QAT's two gains, each >= 3 points):
    on the converged float model 3-bit per-channel weights lose little, so QAT has little to recover; every
    other check (QAT within 2 points of float and of the control, QAT not below PTQ, the control's
    convergence, the stage's ranges) holds, and `test_two_bit` shows the recovery at W2A4, where PTQ does fail.
    Course: Lesson 5, quantization-aware training.
    """
    _ptq_vs_qat(claim, 3, 4)


@pytest.mark.cpu
def test_two_bit(claim):
    """Post-training quantization fails at W2A4 and quantization-aware training recovers: the converged
    float MLP 784-256-10 (`model:mlp_torch`) with 2-bit per-channel symmetric weights (codes -1, 0, 1 in use)
    and 4-bit unsigned activations (ranges as in `test_low_bit`) loses >= 3 points of test accuracy without
    training (PTQ), while 2 epochs of QAT from the float weights (Adam 1e-3, straight-through gradients,
    seeds 0-4) end, on the mean of the seeds, within 2 points of float and of the control (the float model
    trained the same 2 epochs without quantization) and >= 3 points above PTQ of the float model and of the
    control; 2 more float epochs raise the float model's mean accuracy by <= 1 point (it converged).

    Course: Lesson 5, quantization-aware training (recovering what low-bit PTQ loses).
    """
    _ptq_vs_qat(claim, 2, 4)


@pytest.mark.cpu
def test_tfmot(claim):
    """TF Model Optimization's QAT keeps int8 accuracy: the CNN (trained to convergence, its validation
    curve recorded) built in tf_keras with the trained weights, wrapped by
    `tfmot.quantization.keras.quantize_model`, fine-tuned for 1 epoch (stage `qat_tfmot`, its own process)
    and converted to full-integer int8 TFLite, scores on the 1,000 mnist5k test images within 1 point of the
    float model and of the control (the float model fine-tuned the same epoch without fake quantization),
    and >= the post-training int8 model's accuracy - 0.45 points, for PTQ of the float model and of the
    control (the catalog's 0.3 moved to mean - 3 SD of 5 seeds; see claims.yaml). The fine-tuned control
    gains <= 1 point over float (the float CNN had converged). One seed (0): the stage is deterministic.

    Course: Lesson 5, QAT with TensorFlow.
    """
    _, _, X_test, y_test = models.mnist5k(0)
    x_test = models.to_nhwc(X_test)
    _float_curve(claim, "cnn", "ResNet-style CNN, float training (cosine to 0): the baseline converges")
    files = {"float": "cnn_float32.tflite", "ptq_int8": "cnn_int8.tflite", "qat_int8": "cnn_qat.tflite",
             "control_float": "cnn_control_float32.tflite", "control_ptq_int8": "cnn_control_int8.tflite"}
    scores = {name: top1_accuracy(tflite_tools.TFLiteRunner(model_file(file).read_bytes())(x_test), y_test)
              for name, file in files.items()}
    claim.record(**{f"{name}_accuracy": value for name, value in scores.items()})
    claim.plot("ResNet-style CNN: test accuracy of the TFLite models", list(scores),
               {"accuracy": list(scores.values())}, kind="bar", ylabel="top-1 accuracy")
    claim.expect("float_gain_from_extra_epoch_pp", 100 * (scores["control_float"] - scores["float"]), "<=",
                 "max_control_gain_pp")
    claim.expect("qat_drop_vs_control_pp", 100 * (scores["control_float"] - scores["qat_int8"]), "<=", "max_drop_pp")
    claim.expect("qat_drop_pp", 100 * (scores["float"] - scores["qat_int8"]), "<=", "max_drop_pp")
    claim.expect("qat_minus_ptq_pp", 100 * (scores["qat_int8"] - scores["ptq_int8"]), ">=", "min_vs_ptq_pp")
    claim.expect("qat_minus_control_ptq_pp", 100 * (scores["qat_int8"] - scores["control_ptq_int8"]), ">=",
                 "min_vs_ptq_pp")
