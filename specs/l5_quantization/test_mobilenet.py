"""MobileNet's depthwise-separable convolutions: parameter-count identities in torch and Keras, and the
quantized sizes of a MobileNetV2 built offline (weights=None: pretrained weights cannot be had here)."""
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from impl.l5_quantization import mobilenet
from specs.l5_quantization.shared import model_file


@pytest.mark.cpu
@given(st.integers(1, 256), st.integers(1, 256), st.sampled_from(mobilenet.KERNELS))
def test_separable_params(claim, c_in, c_out, k):
    """For hypothesis-drawn C_in, C_out in 1..256 and k in {1, 3, 5, 7}, a depthwise-separable conv (k x k
    depthwise with groups = C_in, then 1 x 1 pointwise, no bias) has exactly k^2 C_in + C_in C_out weights
    as built by torch (`Conv2d(groups=C_in)` + `Conv2d(1x1)`) and by Keras (`SeparableConv2D`), and that is
    exactly 1/C_out + 1/k^2 of a standard k x k conv's k^2 C_in C_out (rational arithmetic, no rounding).

    Course: Lesson 5, QAT on MobileNet (depthwise-separable convolutions).
    """
    formula = k * k * c_in + c_in * c_out
    torch_count = sum(p.numel() for p in mobilenet.separable_torch(c_in, c_out, k).parameters())
    keras_count = sum(int(w.numpy().size) for w in mobilenet.separable_keras(c_in, c_out, k).weights)
    assert torch_count == keras_count == formula == mobilenet.separable_params(c_in, c_out, k)
    ratio = Fraction(formula, mobilenet.standard_params(c_in, c_out, k))
    assert ratio == Fraction(1, c_out) + Fraction(1, k * k)


@pytest.mark.cpu
def test_mobilenet_v2(claim):
    """`keras.applications.MobileNetV2(alpha=0.35, weights=None, input 96 x 96 x 3, 10 classes)` builds
    offline with < 500k parameters; its float32 TFLite file (stage `convert_mobilenet`) is < 2.5 MB and its
    full-integer int8 TFLite file (calibrated on 100 CIFAR-10 images upsampled to 96 x 96) is <= 0.40x the
    float one. The weights are random: these are size claims, no accuracy is claimed.

    Course: Lesson 5, QAT on MobileNet (substitute: sizes of an offline-built MobileNetV2).
    """
    model = mobilenet.mobilenet_v2(0.35, 96, 10)
    float_bytes = model_file("mobilenet_float32.tflite").stat().st_size
    int8_bytes = model_file("mobilenet_int8.tflite").stat().st_size
    claim.record(float32_bytes=float_bytes, int8_bytes=int8_bytes)
    claim.expect("params", model.count_params(), "<", "max_params")
    claim.expect("float32_mb", float_bytes / 1e6, "<", "max_float_mb")
    claim.expect("int8_over_float", int8_bytes / float_bytes, "<=", "max_int8_ratio")
