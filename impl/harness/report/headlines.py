"""The report's headline speed figures: what a reader asks first ("how fast is it here?"), each beside its anchor.

Every figure and every anchor is read from one claim's latest record on this host (its `observed`
values and its thresholds from claims.yaml), measured by the performance protocol in that claim's
run: nothing here is typed or recomputed. They are benchmark figures, not assertions; the claim the
row links to holds the verdict. A figure whose record is absent, or lacks the field (an older
record, a claim not run here), is shown as "not measured" with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from impl.harness.report.text import number

NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Headline:
    figure: str     # what was measured
    value: str      # this host's figure, or NOT_MEASURED
    anchor: str     # what it stands beside (a reference timed in the same run, a source's figure, an SLO)
    claim: str      # the claim id whose record holds both
    verdict: str    # that claim's verdict ("" when it has no record)
    run: str        # the run that measured it
    host: str       # where


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(mapping, dict) or key not in mapping:
            raise KeyError("/".join(path))
        mapping = mapping[key]
    return mapping


def _s(value: Any) -> str:
    return f"{float(value):.2f} s"


def _ms(value: Any) -> str:
    return f"{float(value):.3g} ms"


def _x(value: Any) -> str:
    return f"{float(value):.2f}x"


def _interval(pair: Any) -> str:
    low, high = pair
    return f"[{float(low):.2f}, {float(high):.2f}]"


def _mlp_to_97(observed: dict, thresholds: dict) -> tuple[str, str]:
    return (f"{_s(_get(observed, 'ours_time_to_target_s'))} ({_get(observed, 'epochs_to_target')} epochs, "
            f"{_get(observed, 'steps_to_target')} steps)",
            f"the course's training loop on the same steps, timed in the same run: "
            f"{_s(_get(observed, 'course_extrapolated_s'))} ({_x(_get(observed, 'course_over_ours_step_time'))} "
            f"slower per step; the claim asks >= {number(_get(thresholds, 'min_speedup'))}x)")


def _cnn_to_99(observed: dict, thresholds: dict) -> tuple[str, str]:
    return (f"{_s(_get(observed, 'ours_train_seconds'))} ({_get(observed, 'ours_num_steps')} steps, test accuracy "
            f"{number(_get(observed, 'ours_test_accuracy'))})",
            f"the notes' Keras recipe ({_get(thresholds, 'keras_epochs')} epochs, batch "
            f"{_get(thresholds, 'keras_batch_size')}) timed in the same run: "
            f"{_s(_get(observed, 'keras_recipe_seconds'))}; the issue's target: "
            f"{_s(_get(thresholds, 'benchmark_seconds'))}")


def _speedup(variant: str) -> Callable[[dict, dict], tuple[str, str]]:
    """fp32 time / int8 time at the serving batch (64, the ratio the claim judges) and at batch 1 (recorded)."""
    def figure(observed: dict, thresholds: dict) -> tuple[str, str]:
        served, single = _get(observed, "timings", f"{variant}_b64"), _get(observed, "timings", f"{variant}_b1")
        return (f"{_x(_get(served, 'ratio'))} faster than fp32 at batch 64 (95% interval "
                f"{_interval(_get(served, 'ratio_interval'))}); {_x(_get(single, 'ratio'))} at batch 1 "
                f"(int8 {_ms(float(_get(single, 'median_a')) * 1e3)}, fp32 {_ms(float(_get(single, 'median_b')) * 1e3)})",
                f"the speed-up asked at batch 64 where the CPU has VNNI/AMX: >= "
                f"{_x(_get(thresholds, 'min_speedup_vnni'))} (this CPU: "
                f"{'has' if _get(observed, 'int8_dot_product') else 'has not, so not asked'}); "
                f"everywhere int8 no slower than fp32 / {number(_get(thresholds, 'min_ratio_no_regression'))}")
    return figure


def _served(observed: dict, thresholds: dict) -> tuple[str, str]:
    int8, fp32 = _get(observed, "figures", "int8"), _get(observed, "figures", "fp32")
    return (f"p50 {_ms(_get(int8, 'p50_ms'))}, p99 {_ms(_get(int8, 'p99_ms'))}, "
            f"{float(_get(int8, 'throughput_rps')):.0f} requests/s ({_get(thresholds, 'n_clients')} clients)",
            f"the SLO: p99 <= {_ms(_get(thresholds, 'max_p99_ms'))}; the fp32 model served in the same run: "
            f"p50 {_ms(_get(fp32, 'p50_ms'))}, p99 {_ms(_get(fp32, 'p99_ms'))}")


# (figure, claim id, how its value and anchor are read from the record's observed values and thresholds)
HEADLINES: tuple[tuple[str, str, Callable[[dict, dict], tuple[str, str]]], ...] = (
    ("MLP to 97% test accuracy on MNIST (2 threads)", "L3.perf.time_to_97", _mlp_to_97),
    ("The notes' CNN to 99% test accuracy on full MNIST (2 threads)", "B.cnn.time_to_99", _cnn_to_99),
    ("LiteRT int8 (full-integer) vs fp32, Lesson 5's CNN", "L5.tflite.latency", _speedup("int8")),
    ("ONNX Runtime int8 (dynamic) vs fp32, a 784-2048-2048-10 MLP", "L5.onnx.latency", _speedup("dynamic")),
    ("ONNX Runtime int8 (static QDQ) vs fp32, the same MLP", "L5.onnx.latency", _speedup("static")),
    ("Lesson 8's int8 model served over HTTP", "L8.serve.load", _served),
)


def _host(record: dict[str, Any]) -> str:
    hw = record.get("hardware") or {}
    return f"{hw.get('cpu_model', 'unknown CPU')}, {hw.get('cpu_count', '?')} cores"


def build_headlines(records: dict[str, dict[str, Any]]) -> list[Headline]:
    """One row per headline figure, read from the latest record of its claim (records keyed by record key)."""
    if not isinstance(records, dict):
        raise TypeError(f"build_headlines takes the records keyed by record key, got {type(records).__name__}")
    latest: dict[str, dict[str, Any]] = {}
    for record in records.values():
        claim = record.get("id")
        if claim and str(record.get("timestamp", "")) >= str(latest.get(claim, {}).get("timestamp", "")):
            latest[claim] = record
    rows = []
    for figure, claim, read in HEADLINES:
        record = latest.get(claim)
        if record is None:
            rows.append(Headline(figure, NOT_MEASURED, "no record of this claim yet", claim, "", "", ""))
            continue
        try:
            value, anchor = read(record.get("observed") or {}, record.get("thresholds") or {})
        except (KeyError, TypeError, ValueError) as missing:
            value, anchor = NOT_MEASURED, f"its {record.get('verdict')} record has no {missing.args[0] if missing.args else 'such'} figure"
        rows.append(Headline(figure, value, anchor, claim, str(record.get("verdict", "")), str(record.get("run", "")),
                             _host(record)))
    return rows
