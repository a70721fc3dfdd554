"""ONNX Runtime post-training quantization (dynamic; static QDQ per-channel): sizes and accuracies of the
trained models, and int8 vs fp32 latency under the performance protocol (batch 1 and a serving batch of 64,
the CPU flags recorded; a speed-up asserted only on a CPU with an int8 dot-product instruction)."""
import numpy as np
import pytest

from impl import onnx_tools, timing
from impl.l5_quantization import models
from impl.scoring import top1_accuracy
from specs.l5_quantization.shared import SERVING_BATCH, judge, judge_speed, model_file, stage_metrics


@pytest.mark.cpu
def test_ptq(claim):
    """ONNX Runtime post-training quantization: `quantize_dynamic` (QInt8 weights) of the MLP
    784-512-256-10 gives an `.onnx` file <= 0.30x the float file with test accuracy within 0.5 points;
    `quantize_static` (QDQ, per-channel int8 weights, int8 activations, MinMax calibration on 200 training
    images) of `model:cnn_torch` keeps the float accuracy by both readings of "within 1%" (>= 99% of float,
    and a drop <= 1.0 point); sizes of every variant are reported (1,000 mnist5k test images). On a CPU
    without a VNNI/AMX int8 dot product the static weights are 7-bit (`reduce_range`), as ONNX Runtime
    advises there: its int8 kernels would saturate with 8-bit weights (the stage records which it used).

    Course: Lesson 5, ONNX (post-training quantization).
    """
    _, _, X_test, y_test = models.mnist5k(0)
    x = models.to_nchw(X_test)
    acc, sizes = {}, {}
    for name in ("mlp_wide_fp32", "mlp_wide_dynamic", "cnn_fp32", "cnn_dynamic", "cnn_static"):
        path = model_file(f"{name}.onnx")
        acc[name] = top1_accuracy(onnx_tools.predict(onnx_tools.make_session(path), x), y_test)
        sizes[name] = path.stat().st_size
    claim.record(accuracy=acc, bytes=sizes, cnn_static_reduce_range=stage_metrics("train_models")["cnn_static_reduce_range"])
    claim.expect("mlp_dynamic_over_float", sizes["mlp_wide_dynamic"] / sizes["mlp_wide_fp32"], "<=", "max_dynamic_ratio")
    claim.expect("mlp_dynamic_drop_pp", 100 * (acc["mlp_wide_fp32"] - acc["mlp_wide_dynamic"]), "<=",
                 "max_dynamic_drop_pp")
    judge(claim, "cnn_static", acc["cnn_fp32"], acc["cnn_static"], "max_static_drop_pp")


def _big_mlp_files(tmp_path, seed: int):
    """The catalog's MLP 784-2048-2048-10 (random init, seed): fp32, dynamic int8 and static int8 (QDQ) ONNX."""
    net = models.make_mlp(seed, (2048, 2048))
    x = np.random.default_rng(seed).random((200, 1, 28, 28), dtype=np.float32)
    fp32 = onnx_tools.export(net, x[:2], tmp_path / "mlp_fp32.onnx", exporter="dynamo", opset=18)
    dynamic = onnx_tools.quantize_dynamic(fp32, tmp_path / "mlp_dynamic.onnx", per_channel=False, preprocess=True)
    static = onnx_tools.quantize_static(fp32, x, tmp_path / "mlp_static.onnx", method="MinMax", per_channel=True,
                                        reduce_range=False, preprocess=True, batch_size=50)
    return {"fp32": fp32, "dynamic": dynamic, "static": static}, x


@pytest.mark.cpu
@pytest.mark.perf
def test_latency(claim, tmp_path):
    """On the ONNX Runtime CPU EP (2 intra-op threads), for an MLP 784-2048-2048-10 at the serving batch of
    64, int8 is never a material regression: fp32 median latency / int8 median latency >= 0.8 (int8 <= 1.25x
    fp32) for dynamic and for static (QDQ) quantization; and on a CPU whose flags list avx512_vnni, avx_vnni
    or amx_int8, both int8 models are >= 2x faster than fp32. Batch-1 ratios and the CPU flags are recorded.

    Course: Lesson 5, ONNX (compare inference speeds across platforms).
    """
    files, x = _big_mlp_files(tmp_path, claim.use_seed(0))
    sessions = {name: onnx_tools.make_session(path, threads=2) for name, path in files.items()}
    comparisons, details = {}, {}
    for batch in (1, SERVING_BATCH):
        xb = x[:batch]
        for name in ("dynamic", "static"):
            result = timing.compare(lambda: onnx_tools.predict(sessions[name], xb),
                                    lambda: onnx_tools.predict(sessions["fp32"], xb), name_a=name, name_b="fp32")
            comparisons[f"{name}_b{batch}"], details[f"{name}_b{batch}"] = result, result.summary()
    claim.record(timings=details)
    claim.plot("MLP 784-2048-2048-10 on ONNX Runtime: fp32 time / int8 time", list(comparisons),
               {"speed-up": [c.ratio for c in comparisons.values()]}, kind="bar", ylabel="x faster than fp32", hline=1.0)
    judge_speed(claim, comparisons, (f"dynamic_b{SERVING_BATCH}", f"static_b{SERVING_BATCH}"))


@pytest.mark.gpu
@pytest.mark.perf
def test_latency_gpu(claim, tmp_path):
    """On a GPU, ONNX Runtime's CUDA execution provider runs the fp32 MLP 784-2048-2048-10 at batch 64
    faster than its CPU EP (2 threads): CPU median / CUDA median >= 1. No int8-on-CUDA claim is made.
    Skipped with the reason when this onnxruntime build has no CUDA EP.

    Course: Lesson 5, ONNX (compare inference speeds across platforms).
    """
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip(f"this onnxruntime build has no CUDA EP (providers: {ort.get_available_providers()})")
    files, x = _big_mlp_files(tmp_path, claim.use_seed(0))
    cpu = onnx_tools.make_session(files["fp32"], threads=2)
    cuda = onnx_tools.make_session(files["fp32"], providers=("CUDAExecutionProvider",))
    xb = x[:SERVING_BATCH]
    result = timing.compare(lambda: onnx_tools.predict(cuda, xb), lambda: onnx_tools.predict(cpu, xb),
                            name_a="cuda_ep", name_b="cpu_ep")
    claim.record(timings=result.summary())
    result.judge(claim, "cpu_over_cuda", ">=", "min_ratio")
