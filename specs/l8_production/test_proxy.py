import numpy as np
import pytest

from impl.l8_production import artifacts, model, ort_quant


def _tflite_weights_per_channel(content: bytes, shapes) -> bool:
    """Whether every weight matrix of a TFLite model carries one scale per output row (else one per tensor)."""
    from ai_edge_litert.interpreter import Interpreter

    scales = {tuple(d["shape"]): len(d["quantization_parameters"]["scales"])
              for d in Interpreter(model_content=content).get_tensor_details() if len(d["shape"]) == 2}
    return all(scales.get(shape) == shape[0] for shape in shapes)


@pytest.mark.cpu
def test_size(claim, tmp_path):
    """The analytic size (parameters x bits / 8, plus a float32 scale and a zero point per quantization
    group) predicts the serialized files of the 535,818-parameter 784-512-256-10 MLP within 10%, so a
    size objective can use the proxy instead of serializing each candidate: in ONNX the float32 model
    (32-bit weights and biases), the pipeline's chosen static int8 model (int8 weights, int32 biases,
    per-channel or per-tensor scales as chosen) and ORT's dynamic int8 model (int8 weights, float32
    biases); in TFLite the same trained weights converted as float32 and as full-integer int8
    (calibrated on the 200 calibration images; int32 biases, weight scales per channel or per tensor
    as the converter stored them).

    Course: Lesson 8, optimizing quantization settings (diverse hardware; size proxy).
    """
    from impl import onnx_tools
    from impl.l5_quantization import tflite_tools

    weights, biases = model.load_layers(artifacts.path("weights"))
    shapes = [tuple(w.shape) for w in weights]
    claim.expect("parameters", sum(r * c + r for r, c in shapes), "==", "n_parameters")
    chosen = artifacts.load_json("search")["calibration"]["chosen"]["params"]
    fp32 = artifacts.path("fp32")
    dynamic = onnx_tools.quantize_dynamic(fp32, tmp_path / "dynamic.onnx", per_channel=False, preprocess=True)
    keras_mlp = model.to_keras(weights, biases)
    calibration = model.to_pixels(artifacts.load_arrays("splits")["X_calibration"])
    tflite = {"float32": tflite_tools.convert_keras(keras_mlp, "float32"),
              "int8": tflite_tools.convert_keras(keras_mlp, "int8", calibration)}
    tflite_per_channel = _tflite_weights_per_channel(tflite["int8"], shapes)
    sizes = {"onnx_fp32": (fp32.stat().st_size,
                           ort_quant.analytic_size(shapes, weight_bits=32, per_channel=False, bias_bits=32)),
             "onnx_int8_static": (artifacts.path("int8").stat().st_size, ort_quant.analytic_size(
                 shapes, weight_bits=8, per_channel=chosen["per_channel"], bias_bits=32)),
             "onnx_int8_dynamic": (dynamic.stat().st_size,
                                   ort_quant.analytic_size(shapes, weight_bits=8, per_channel=False, bias_bits=32)),
             "tflite_fp32": (len(tflite["float32"]),
                             ort_quant.analytic_size(shapes, weight_bits=32, per_channel=False, bias_bits=32)),
             "tflite_int8": (len(tflite["int8"]), ort_quant.analytic_size(
                 shapes, weight_bits=8, per_channel=tflite_per_channel, bias_bits=32))}
    # The TFLite float model is the same network: its logits match the NumPy forward pass.
    pixels = calibration[:100]
    tflite_gap = float(np.abs(tflite_tools.TFLiteRunner(tflite["float32"])(pixels)
                              - model.forward(weights, biases, pixels)).max())
    claim.record(tflite_int8_weights_per_channel=tflite_per_channel, tflite_fp32_max_logit_gap=tflite_gap,
                 **{f"{name}_bytes": actual for name, (actual, _) in sizes.items()},
                 **{f"{name}_predicted": predicted for name, (_, predicted) in sizes.items()})
    claim.plot("Serialized vs analytic size", list(sizes), {"file (bytes)": [a for a, _ in sizes.values()],
                                                           "proxy (bytes)": [p for _, p in sizes.values()]}, kind="bar")
    for name, (actual, predicted) in sizes.items():
        claim.expect(f"relative_error_{name}", abs(actual - predicted) / actual, "<=", "max_relative_error")
