import json

import numpy as np
import pytest

from impl import timing
from impl.l8_production import artifacts, model, ort_quant, serving


def _test_pixels(n: int) -> np.ndarray:
    return model.to_pixels(artifacts.load_arrays("test")["X_test"][:n])


@pytest.mark.cpu
@pytest.mark.perf
def test_latency(claim):
    """The chosen int8 model served in-process (ONNX Runtime CPU, intra_op = 1) answers single images
    (batch 1) with p50 <= 1 ms and p99 <= 5 ms over 1,000 timed calls (one per test image) after 200
    warm-up calls, and its median latency is <= 1.25x the float model's under the interleaved protocol
    (no regression); the int8/fp32 speed ratio is reported.

    Course: Lesson 8, deploying optimized models.
    """
    pixels = _test_pixels(claim.t["n_calls"])
    predictors = {name: serving.Predictor(artifacts.path(name), threads=1) for name in ("int8", "fp32")}
    singles = [pixels[i:i + 1] for i in range(len(pixels))]
    for _ in range(claim.t["n_warmup"]):
        for predictor in predictors.values():
            predictor.predict(singles[0])
    rows = iter(singles)
    latencies = (timing.single_call_seconds(lambda: predictors["int8"].predict(next(rows)), calls=len(singles)) * 1e3).tolist()
    figures = timing.percentiles(latencies)
    p50, p99 = figures["p50"], figures["p99"]
    comparison = timing.compare(lambda: predictors["int8"].predict(singles[0]),
                                lambda: predictors["fp32"].predict(singles[0]), name_a="int8", name_b="fp32")
    claim.record(comparison=comparison.summary(), fp32_over_int8=comparison.ratio)
    claim.plot("In-process batch-1 latency of the int8 model", list(range(len(latencies))), {"ms": latencies},
               xlabel="call", ylabel="ms", kind="scatter")
    comparison.require_quiet()
    claim.expect("p50_ms", p50, "<=", "max_p50_ms")
    claim.expect("p99_ms", p99, "<=", "max_p99_ms")
    comparison.judge(claim, "int8_over_fp32", "<=", "max_int8_over_fp32", invert=True)


@pytest.mark.cpu
def test_contract(claim):
    """The deployed model declares its contract and its origin: the ONNX graph's input is `pixels`,
    float32, shape [N, 1, 28, 28] with N symbolic, its output `logits` [N, 10]; its metadata carries
    the Optuna trial number and params of the calibration choice (equal to the search's record), which
    written back onto the model's bytes (`ort_quant.with_metadata`) read back unchanged; and the
    serving wrapper raises ValueError, returning nothing, for a float64 array, an int array, a flat
    [N, 784] batch, a [N, 28, 28] batch, an empty batch, NaN or infinite values and pixels outside [0, 1].

    Course: Lesson 8, deploying optimized models (real-world constraints).
    """
    import onnx

    path = artifacts.path("int8")
    graph = onnx.load(str(path)).graph
    declared = graph.input[0]
    dims = [d.dim_param or d.dim_value for d in declared.type.tensor_type.shape.dim]
    meta = ort_quant.metadata(path)
    chosen = artifacts.load_json("search")["calibration"]["chosen"]
    claim.record(input_dims=dims, metadata=meta)
    claim.expect("input_name_is_pixels", declared.name == model.INPUT_NAME, "==", True)
    claim.expect("input_elem_type", declared.type.tensor_type.elem_type, "==", onnx.TensorProto.FLOAT)
    claim.expect("input_dynamic_batch", isinstance(dims[0], str) and dims[1:] == [1, 28, 28], "==", True)
    claim.expect("output_name_is_logits", graph.output[0].name == model.OUTPUT_NAME, "==", True)
    claim.expect("trial_number", int(meta["optuna_trial_number"]), "==", chosen["number"])
    claim.expect("params", json.loads(meta["optuna_params"]) == chosen["params"], "==", True)
    claim.expect("metadata_written_back_equal", ort_quant.metadata(ort_quant.with_metadata(path.read_bytes(), meta)) == meta,
                 "==", True)
    predictor = serving.Predictor(path)
    good = _test_pixels(4)
    bad = {"float64": good.astype(np.float64), "int": (good * 255).astype(np.int64), "flat": good.reshape(4, 784),
           "no_channel": good[:, 0], "empty": good[:0], "nan": np.where(good == 0, np.nan, good).astype(np.float32),
           "inf": np.full_like(good, np.inf), "out_of_range": good * 2 + 0.5}
    refused = {}
    for name, x in bad.items():
        with pytest.raises(ValueError) as caught:
            predictor.predict(x)
        refused[name] = str(caught.value)
    claim.record(refusals=refused)
    claim.expect("refused", len(refused), "==", len(bad))
