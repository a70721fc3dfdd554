import pytest

from impl.l8_production import artifacts, model, ort_quant


@pytest.mark.cpu
def test_size(claim, tmp_path):
    """The analytic size (parameters x bits / 8, plus a float32 scale and a zero point per quantization
    group) predicts the serialized ONNX file of the 535,818-parameter 784-512-256-10 MLP within 10%:
    the float32 model (32-bit weights and biases), the pipeline's chosen static int8 model (int8 weights,
    int32 biases, per-channel or per-tensor scales as chosen) and ORT's dynamic int8 model (int8 weights,
    float32 biases), so a size objective can use the proxy instead of serializing each candidate.

    TFLite files are not covered here (the catalog's second format): Lesson 5 measures them.
    Course: Lesson 8, optimizing quantization settings (diverse hardware; size proxy).
    """
    from impl.l5_quantization import onnx_tools

    weights, _ = model.load_layers(artifacts.path("weights"))
    shapes = [tuple(w.shape) for w in weights]
    claim.expect("parameters", sum(r * c + r for r, c in shapes), "==", "n_parameters")
    chosen = artifacts.load_json("search")["calibration"]["chosen"]["params"]
    fp32 = artifacts.path("fp32")
    dynamic = onnx_tools.quantize_dynamic_onnx(fp32, tmp_path / "dynamic.onnx", per_channel=False)
    files = {"fp32": (fp32, ort_quant.analytic_size(shapes, weight_bits=32, per_channel=False, bias_bits=32)),
             "int8_static": (artifacts.path("int8"), ort_quant.analytic_size(
                 shapes, weight_bits=8, per_channel=chosen["per_channel"], bias_bits=32)),
             "int8_dynamic": (dynamic, ort_quant.analytic_size(shapes, weight_bits=8, per_channel=False,
                                                               bias_bits=32))}
    errors = {}
    for name, (path, predicted) in files.items():
        actual = path.stat().st_size
        errors[name] = abs(actual - predicted) / actual
        claim.record(**{f"{name}_bytes": actual, f"{name}_predicted": predicted})
    claim.plot("Serialized vs analytic size", list(files), {"file (bytes)": [files[n][0].stat().st_size for n in files],
                                                           "proxy (bytes)": [files[n][1] for n in files]}, kind="bar")
    for name, error in errors.items():
        claim.expect(f"relative_error_{name}", error, "<=", "max_relative_error")

