"""Helpers shared by Lesson 5's specs: the lesson's model files and the two readings of "within 1%"."""
import json

import numpy as np

from impl import timing
from impl.l5_quantization import int8_cpu, tflite_tools
from impl.pipeline import artifacts
from impl.pipeline.hardware import cpu_info

MODELS = "data/models/l5_quantization"
SERVING_BATCH = 64  # the serving batch of the latency claims


def model_file(name: str):
    """The path of one of the lesson's DVC outputs, brought up to date (and its hash recorded)."""
    return artifacts.require(f"{MODELS}/{name}")


def stage_metrics(stage: str) -> dict:
    """The summary one of the lesson's stages wrote (data/metrics/l5_quantization/<stage>.json), brought up to date."""
    return json.loads(artifacts.require(f"data/metrics/l5_quantization/{stage}.json").read_text())


def tflite_scores(name: str, x: np.ndarray) -> np.ndarray:
    return tflite_tools.TFLiteRunner(model_file(name).read_bytes())(x)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64) - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def judge(claim, name: str, float_acc: float, quant_acc: float, max_drop: str) -> None:
    """"int8 within 1% accuracy", read both ways and both asserted: MLPerf's rule (quantized accuracy >= 99%
    of float, threshold `mlperf_min_ratio`) and an absolute drop of at most `max_drop` points."""
    claim.expect(f"{name}_mlperf_ratio", quant_acc / float_acc, ">=", "mlperf_min_ratio")
    claim.expect(f"{name}_drop_pp", 100 * (float_acc - quant_acc), "<=", max_drop)


def judge_speed(claim, comparisons: dict, asserted: tuple[str, ...]) -> None:
    """No-regression bound everywhere; the speed-up target only where the CPU has VNNI/AMX. Each ratio
    (fp32 time / int8 time, `timing.Comparison.ratio`) is judged on its 95% interval (timing.judge_all)."""
    flags = cpu_info()["cpu_flags"]
    vnni = int8_cpu.int8_dot_product(flags)
    claim.record(cpu_flags=flags, int8_dot_product=vnni, speedups={k: c.ratio for k, c in comparisons.items()},
                 speedup_asserted=vnni)
    judgements = []
    for name in asserted:
        judgements.append((comparisons[name], f"{name}_fp32_over_int8", ">=", "min_ratio_no_regression", False))
        if vnni:
            judgements.append((comparisons[name], f"{name}_speedup_vnni", ">=", "min_speedup_vnni", False))
    timing.judge_all(claim, judgements)
