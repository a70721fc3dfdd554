"""One comparison of every variant of the trained CNN, TFLite and ONNX side by side: size, accuracy and
single-threaded batch-1 p50/p99 latency."""
import numpy as np
import pytest

from impl import onnx_tools
from impl.l5_quantization import models, tflite_tools
from impl.timing import call_percentiles
from impl.scoring import top1_accuracy
from specs.l5_quantization.shared import model_file

TFLITE = {"fp32": "cnn_float32.tflite", "fp16": "cnn_float16.tflite", "dynamic int8": "cnn_dynamic.tflite",
          "static int8": "cnn_int8.tflite", "QAT int8": "cnn_qat.tflite"}
ONNX = {"fp32": "cnn_fp32.onnx", "fp16": "cnn_fp16.onnx", "dynamic int8": "cnn_dynamic.onnx",
        "static int8": "cnn_static.onnx", "QAT int8": "cnn_qat.onnx"}
INT8 = ("dynamic int8", "static int8", "QAT int8")


def _row(toolchain: str, variant: str, path, predict, x: np.ndarray, y: np.ndarray, claim) -> dict:
    timing = call_percentiles(lambda: predict(x[:1]), calls=claim.t["calls"], warmup=claim.t["warmup"])
    return {"toolchain": toolchain, "variant": variant, "bytes": path.stat().st_size,
            "accuracy": top1_accuracy(predict(x), y), "p50_ms": 1e3 * timing["p50"], "p99_ms": 1e3 * timing["p99"]}


@pytest.mark.cpu
@pytest.mark.perf
def test_table(claim):
    """For the trained ResNet-style CNN, one table over fp32 / fp16 / dynamic int8 / static int8 / QAT int8,
    TFLite (LiteRT) and ONNX Runtime side by side, on the 1,000 mnist5k test images: in each toolchain the
    sizes fall fp32 > fp16 > every int8 variant; in each toolchain QAT's accuracy drop from fp32 is <= the
    static post-training int8 drop + 0.5 points; and every variant answers one image with a
    single-threaded p50 latency <= 20 ms (an edge-device proxy; p99 reported). Nothing is claimed about
    int8 being faster here (that is `L5.tflite.latency` / `L5.onnx.latency`, tied to the CPU's flags).
    The ONNX fp16 file is `cnn_fp32.onnx` converted by onnxconverter-common; the ONNX QAT file is the
    TFLite row's tfmot model converted by tf2onnx, its weights stored as int8.

    Course: Lesson 5, comparing quantization techniques; TensorFlow Lite (edge devices).
    """
    _, _, X_test, y_test = models.mnist5k(0)
    rows = []
    for variant, file in TFLITE.items():
        path = model_file(file)
        rows.append(_row("TFLite", variant, path, tflite_tools.TFLiteRunner(path.read_bytes(), threads=1),
                         models.to_nhwc(X_test), y_test, claim))
    for variant, file in ONNX.items():
        session = onnx_tools.make_session(model_file(file), threads=1)
        rows.append(_row("ONNX", variant, model_file(file), lambda x, s=session: onnx_tools.predict(s, x),
                         models.to_nchw(X_test), y_test, claim))
    table = ["| toolchain | variant | size (kB) | accuracy | p50 (ms) | p99 (ms) |", "|---|---|---|---|---|---|"]
    table += [f"| {r['toolchain']} | {r['variant']} | {r['bytes'] / 1e3:.1f} | {r['accuracy']:.3f} | "
              f"{r['p50_ms']:.3f} | {r['p99_ms']:.3f} |" for r in rows]
    claim.record(rows=rows, table="\n".join(table))
    labels = [f"{r['toolchain']} {r['variant']}" for r in rows]
    claim.plot("ResNet-style CNN: file size", labels, {"kB": [r["bytes"] / 1e3 for r in rows]}, kind="bar", ylabel="kB")
    claim.plot("ResNet-style CNN: test accuracy (1,000 mnist5k images)", labels, {"accuracy": [r["accuracy"] for r in rows]},
               kind="bar", ylabel="top-1 accuracy")
    claim.plot("ResNet-style CNN: batch-1 latency, 1 thread", labels,
               {"p50": [r["p50_ms"] for r in rows], "p99": [r["p99_ms"] for r in rows]}, kind="bar", ylabel="ms")

    size = {(r["toolchain"], r["variant"]): r["bytes"] for r in rows}
    acc = {(r["toolchain"], r["variant"]): r["accuracy"] for r in rows}
    for toolchain in ("TFLite", "ONNX"):
        prefix = toolchain.lower()
        claim.expect(f"{prefix}_fp16_over_fp32_size", size[toolchain, "fp16"] / size[toolchain, "fp32"], "<", 1.0)
        for variant in INT8:
            claim.expect(f"{prefix}_{variant}_over_fp16_size", size[toolchain, variant] / size[toolchain, "fp16"],
                         "<", 1.0)
        qat_drop = 100 * (acc[toolchain, "fp32"] - acc[toolchain, "QAT int8"])
        ptq_drop = 100 * (acc[toolchain, "fp32"] - acc[toolchain, "static int8"])
        name = "qat_drop_minus_ptq_drop_pp" if toolchain == "TFLite" else "onnx_qat_drop_minus_ptq_drop_pp"
        claim.expect(name, qat_drop - ptq_drop, "<=", "max_qat_excess_drop_pp")
    claim.expect("worst_p50_ms", max(r["p50_ms"] for r in rows), "<=", "max_p50_ms")
