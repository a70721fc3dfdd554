"""The report's headline speed figures are read from the latest record of their claims, never typed or guessed."""
import pytest

from impl.harness.report.headlines import HEADLINES, NOT_MEASURED, build_headlines
from impl.harness.report.html_overview import headlines_block
from impl.harness.report.overview import Overview


def _record(claim, observed, thresholds, timestamp="2026-12-06T10:00:00+00:00", verdict="holds"):
    return {"id": claim, "verdict": verdict, "run": f"run-{timestamp[11:13]}", "timestamp": timestamp,
            "observed": observed, "thresholds": thresholds,
            "hardware": {"cpu_model": "Test CPU <x>", "cpu_count": 2, "cpu_flags": ["avx2"]}}


MLP = ({"ours_time_to_target_s": 0.8868, "epochs_to_target": 2, "steps_to_target": 1876,
        "course_extrapolated_s": 3.9962, "course_over_ours_step_time": 4.4388}, {"min_speedup": 3.0})


def test_each_figure_and_its_anchor_come_from_the_latest_record_of_its_claim():
    records = {"old": _record("L3.perf.time_to_97", {**MLP[0], "ours_time_to_target_s": 9.0}, MLP[1],
                              "2026-12-05T10:00:00+00:00"),
               "new": _record("L3.perf.time_to_97", *MLP)}
    row = next(h for h in build_headlines(records) if h.claim == "L3.perf.time_to_97")
    assert row.value.startswith("0.89 s (2 epochs") and "4.00 s" in row.anchor and ">= 3x" in row.anchor
    assert (row.verdict, row.run, row.host) == ("holds", "run-10", "Test CPU <x>, 2 cores")


def test_a_claim_without_a_record_or_without_the_figure_is_not_measured_with_the_reason():
    rows = build_headlines({"a": _record("L8.serve.load", {"figures": {}}, {"max_p99_ms": 5.0}, verdict="not run")})
    served = next(h for h in rows if h.claim == "L8.serve.load")
    assert served.value == NOT_MEASURED and "not run record has no figures/int8" in served.anchor
    unmeasured = next(h for h in rows if h.claim == "B.cnn.time_to_99")
    assert unmeasured.value == NOT_MEASURED and unmeasured.verdict == "" and "no record" in unmeasured.anchor
    assert len(rows) == len(HEADLINES)


def test_speedups_show_the_judged_batch_and_whether_the_cpu_was_asked_for_it():
    timing = {"ratio": 2.7, "ratio_interval": [2.6, 2.8], "median_a": 2e-5, "median_b": 5e-5}
    observed = {"timings": {"int8_b64": timing, "int8_b1": {**timing, "ratio": 1.8}}, "int8_dot_product": False}
    rows = build_headlines({"t": _record("L5.tflite.latency", observed,
                                         {"min_speedup_vnni": 2.0, "min_ratio_no_regression": 0.8})})
    row = next(h for h in rows if h.claim == "L5.tflite.latency")
    assert row.value.startswith("2.70x faster than fp32 at batch 64") and "1.80x at batch 1" in row.value
    assert "has not, so not asked" in row.anchor


def test_the_block_escapes_and_links_each_claim():
    rows = build_headlines({"a": _record("L3.perf.time_to_97", *MLP)})
    html = headlines_block(Overview([], [], [], [], headlines=rows))
    assert '<a href="#L3.perf.time_to_97">' in html and "Test CPU &lt;x&gt;" in html and "<x>" not in html
    assert headlines_block(Overview([], [], [], [])) == ""


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="records keyed by record key"):
        build_headlines([])
