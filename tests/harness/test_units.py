"""Unit tests of the pure helpers: the harness's, the timing protocol's (`impl.timing`) and the shared modules'."""
import time

import numpy as np
import pytest
from scipy import stats as sps

from impl import timing
from impl.harness import ids, stats
from impl.harness.claim import Claim, plain
from impl.pipeline import params
from impl.scoring import classifier_accuracy, top1_accuracy


@pytest.mark.parametrize("relpath, function, expected", [
    ("specs/l1_linalg/test_svd.py", "test_eckart_young", "L1.svd.eckart_young"),
    ("specs/l12_x/test_a_b.py", "test_c_d", "L12.a_b.c_d"),
    ("specs/beyond/test_trees.py", "test_gini", "B.trees.gini"),
    ("specs/data/test_mnist.py", "test_counts", "D.mnist.counts"),
])
def test_claim_ids(relpath, function, expected):
    assert ids.claim_id(relpath, function) == expected


@pytest.mark.parametrize("relpath, function", [
    ("tests/l1_x/test_a.py", "test_b"), ("specs/misc/test_a.py", "test_b"),
    ("specs/l1_x/a.py", "test_b"), ("specs/l1_x/test_a.py", "check_b"),
])
def test_bad_claim_locations_are_rejected(relpath, function):
    with pytest.raises(ValueError):
        ids.claim_id(relpath, function)


def test_record_key_keeps_parameters():
    assert ids.record_key("specs/l2_s/test_p.py::test_q[3]") == "L2.p.q[3]"


def test_profile_values_resolve():
    value = {"a": {"quick": 1, "full": 2}, "b": [1], "c": {"quick": {"d": {"quick": 3, "full": 4}}, "full": 0}}
    assert params.resolve_profile(value, "quick") == {"a": 1, "b": [1], "c": {"d": 3}}
    assert params.resolve_profile(value, "full") == {"a": 2, "b": [1], "c": 0}


def test_binomial_acceptance_tails_are_within_budget():
    for n, p in [(4000, 0.05), (100, 0.5), (20, 0.01), (1000, 0.95)]:
        lo, hi = stats.binomial_acceptance(n, p, 1e-3)
        assert sps.binom.cdf(lo - 1, n, p) <= 5e-4 and sps.binom.sf(hi, n, p) <= 5e-4
        assert sps.binom.cdf(lo, n, p) > 5e-4 or lo == 0  # tight: one step in would exceed the budget


def test_binomial_acceptance_rejects_bad_arguments():
    with pytest.raises(ValueError, match="false_fail"):
        stats.binomial_acceptance(10, 0.5, 0.0)
    with pytest.raises(ValueError, match="n must"):
        stats.binomial_acceptance(0, 0.5)
    with pytest.raises(ValueError, match="p must"):
        stats.binomial_acceptance(10, float("nan"))


def test_timing_ratio_sees_a_known_slowdown():
    fast = lambda: time.sleep(0.001)  # noqa: E731
    slow = lambda: time.sleep(0.003)  # noqa: E731
    result = timing.compare(fast, slow, repeats=7, min_time=0.01)
    assert 2.0 < result.ratio < 4.5
    assert len(result.times_a) == len(result.times_b) == 7
    with pytest.raises(ValueError, match="repeats"):
        timing.compare(fast, slow, repeats=1)


def _sleeper(log, name, seconds_per_unit, units):
    """A stateful 'window' of `units` steps that logs its calls."""
    def window():
        log.append(name)
        time.sleep(seconds_per_unit * units)
    return window


def test_timing_windows_see_a_known_slowdown_per_unit():
    log = []
    result = timing.compare_windows(_sleeper(log, "a", 0.001, 5), _sleeper(log, "b", 0.003, 5), units_per_call=5,
                                    repeats=7, settle_s=0.0)
    assert 2.0 < result.ratio < 4.5
    assert 0.0009 < result.median_a < 0.002  # seconds per unit, not per call
    assert result.units_per_call == 5 and result.summary()["units_per_call"] == 5
    with pytest.raises(ValueError, match="units_per_call"):
        timing.compare_windows(lambda: None, lambda: None, units_per_call=0)


def test_timing_windows_are_interleaved_abba_after_the_warmup():
    log = []
    timing.compare_windows(_sleeper(log, "a", 0.0, 1), _sleeper(log, "b", 0.0, 1), units_per_call=1, repeats=8,
                           warmup=1, settle_s=0.0, retry_if_noisy=False)
    assert log == ["a", "b"] + ["a", "b", "b", "a"] * 4


def test_timing_measures_once_more_when_noisy():
    noisy_then_steady = iter([0.002, 0.006, 0.010, 0.014, 0.018, 0.022, 0.026] + [0.005] * 7)
    result = timing.compare_windows(lambda: time.sleep(0.005), lambda: time.sleep(next(noisy_then_steady)),
                                    units_per_call=1, repeats=7, settle_s=0.0)
    assert result.attempts == 2 and not result.noisy and len(result.times_b) == 7


def test_median_interval_is_distribution_free():
    """Order statistics: n = 7 at 95% is [min, max] (coverage 1 - 2/128); n = 15 is [x(4), x(12)]."""
    assert timing.median_interval([5, 1, 3, 2, 4, 7, 6]) == (1, 7)
    assert timing.median_interval(list(range(1, 16))) == (4, 12)
    with pytest.raises(ValueError, match="measure more"):
        timing.median_interval([1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="confidence"):
        timing.median_interval(list(range(9)), confidence=1.5)


def _comparison(ratios, foreign_cores=0.0):
    return timing.Comparison("a", "b", [1.0] * len(ratios), list(ratios), 1, 1, foreign_cores=foreign_cores)


def _claim(**thresholds):
    from impl.harness.claim import Claim

    return Claim("L9.demo.timed", "", thresholds, "quick")


@pytest.mark.parametrize("ratios, outcome", [
    ([2.2, 2.4, 2.3, 2.5, 2.6, 2.2, 2.3, 2.4, 2.5], "holds"),       # the whole interval is above 2
    ([1.6, 1.7, 1.8, 1.7, 1.6, 1.9, 1.8, 1.7, 1.6], "refuted"),     # the whole interval is below 2
    ([1.6, 2.4, 1.8, 2.3, 1.7, 2.5, 1.9, 2.2, 2.1], "inconclusive"),  # it straddles 2
])
def test_a_ratio_is_judged_only_when_its_interval_clears_the_bar(ratios, outcome):
    claim = _claim(min_ratio=2.0)
    comparison = _comparison(ratios)
    if outcome == "holds":
        assert comparison.judge(claim, "ratio", ">=", "min_ratio") == pytest.approx(2.4)
        assert claim.observed["ratio_interval"] == [2.2, 2.5]
    elif outcome == "refuted":
        with pytest.raises(AssertionError, match="ratio = 1.7 is not >= min_ratio = 2.0"):
            comparison.judge(claim, "ratio", ">=", "min_ratio")
    else:
        with pytest.raises(timing.Inconclusive, match=r"interval \[1.7, 2.4\] straddles min_ratio 2"):
            comparison.judge(claim, "ratio", ">=", "min_ratio")


@pytest.mark.parametrize("interval, outcome", [
    ((3.7, 4.9), "holds"), ((3.7, 5.0), "holds"),        # wholly at or below the 5 ms SLO
    ((5.1, 6.3), "refuted"),                             # wholly above it (a CI host's six rounds)
    ((3.75, 5.40), "inconclusive"), ((5.0, 5.4), "inconclusive"),
])
def test_an_slo_is_judged_only_when_its_interval_lies_on_one_side(interval, outcome):
    claim = _claim(max_p99_ms=5.0)
    point = round(sum(interval) / 2, 2)
    if outcome == "holds":
        assert timing.judge_interval(claim, "p99_ms", point, interval, "<=", "max_p99_ms") == point
        assert claim.observed["p99_ms_interval"] == list(interval)
    elif outcome == "refuted":
        with pytest.raises(AssertionError, match="p99_ms = 5.7 is not <= max_p99_ms = 5.0"):
            timing.judge_interval(claim, "p99_ms", point, interval, "<=", "max_p99_ms")
    else:
        with pytest.raises(timing.Inconclusive, match=r"straddles max_p99_ms 5 \(over six rounds\)$"):
            timing.judge_interval(claim, "p99_ms", point, interval, "<=", "max_p99_ms", over="(over six rounds)")


@pytest.mark.parametrize("interval, op, error", [
    ((1.0, 2.0), "==", ValueError), ((2.0, 1.0), "<=", ValueError), ((1.0,), "<=", TypeError), (1.0, "<=", TypeError),
])
def test_judge_interval_rejects_a_bad_interval_or_operator(interval, op, error):
    with pytest.raises(error):
        timing.judge_interval(_claim(max_p99_ms=5.0), "p99_ms", 1.5, interval, op, "max_p99_ms")


def test_a_busy_host_is_inconclusive_never_refuted():
    claim = _claim(min_ratio=2.0)
    with pytest.raises(timing.Inconclusive, match="busy host"):
        _comparison([1.0] * 9, foreign_cores=0.9).judge(claim, "ratio", ">=", "min_ratio")
    assert not [c for c in claim.checks if not c["ok"]]


def test_host_load_sees_another_process_spinning():
    import os
    import signal
    import subprocess
    import sys

    # Started through a shell that exits at once, so the spinner is no child of this process: foreign load.
    spin = "import time\nend = time.time() + 3\nwhile time.time() < end: pass"
    pid = int(subprocess.run(["sh", "-c", f'"{sys.executable}" -c "$0" >/dev/null 2>&1 & echo $!', spin],
                             capture_output=True, text=True, check=True).stdout)
    try:
        time.sleep(0.3)
        with timing.HostLoad() as load:
            time.sleep(1.0)
        assert load.foreign_cores > 0.5
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_host_load_waits_out_a_window_too_short_for_the_kernels_ticks():
    start = time.monotonic()
    with timing.HostLoad() as load:
        pass  # a few microseconds: the 10 ms tick accounting alone would read noise
    assert time.monotonic() - start >= timing.HostLoad.MIN_WINDOW_S
    assert load.foreign_cores is not None and load.foreign_cores >= 0.0


def test_judge_all_judges_every_ratio_before_calling_it_inconclusive():
    claim = _claim(min_ratio=2.0)
    straddles = _comparison([1.6, 2.4, 1.8, 2.3, 1.7, 2.5, 1.9, 2.2, 2.1])
    clears = _comparison([2.2, 2.4, 2.3, 2.5, 2.6, 2.2, 2.3, 2.4, 2.5])
    with pytest.raises(timing.Inconclusive):
        timing.judge_all(claim, [(straddles, "first", ">=", "min_ratio", False), (clears, "second", ">=", "min_ratio", False)])
    assert [c["name"] for c in claim.checks] == ["second"]


def test_require_quiet_gates_on_foreign_load_then_on_spread():
    timing.require_quiet(0.0, 0.05)  # quiet and steady: judged
    with pytest.raises(timing.Inconclusive, match="busy host: other processes used 0.90 cores during the load test"):
        timing.require_quiet(0.9, 0.05, what="the load test")
    with pytest.raises(timing.Inconclusive, match="noisy host: .* robust CV 30% > 20%"):
        timing.require_quiet(0.0, 0.30)
    timing.require_quiet(0.0, 0.30, max_cv=0.35)
    for bad in (float("nan"), -0.1, "0.1", True):
        with pytest.raises(ValueError, match="foreign_cores"):
            timing.require_quiet(bad, 0.1)


def test_robust_cv_ignores_one_outlier():
    assert timing.robust_cv([1.0, 1.0, 1.01, 0.99, 1.0, 5.0, 1.0]) < 0.05


def test_claim_expect_keeps_the_worst_case_and_names_the_gap():
    claim = Claim("L0.x.y", "s", {"tol": 1.0}, "quick")
    claim.expect("err", 0.2, "<=", "tol")
    claim.expect("err", 0.7, "<=", "tol")
    claim.expect("err", 0.1, "<=", "tol")
    assert claim.observed["err"] == 0.7 and len(claim.checks) == 1
    with pytest.raises(AssertionError, match=r"err = 1.5 is not <= tol = 1.0 \(off by \+0.5"):
        claim.expect("err", 1.5, "<=", "tol")
    with pytest.raises(KeyError, match="no threshold 'missing'"):
        claim.t["missing"]


def test_plain_converts_numpy_values():
    assert plain({"a": np.float32(1.5), "b": np.arange(2), "c": (np.int64(3),)}) == {"a": 1.5, "b": [0, 1], "c": [3]}
    with pytest.raises(TypeError):
        plain(object())


def test_repeat_table_counts_judged_runs_and_names_the_tightest_check():
    from impl.harness import repeat

    check = lambda name, observed, limit: {"name": name, "observed": observed, "limit": limit}  # noqa: E731
    runs = [{"L9.a": {"verdict": "holds", "checks": [check("far", 10.0, 1.0), check("near", 2.1, 2.0)]}},
            {"L9.a": {"verdict": "not run", "checks": []}}]
    text = repeat.table(runs)
    assert "| L9.a | holds | not run | 1/2 | near=2.1, - |" in text


def test_file_md5_matches_hashlib_across_block_boundaries_and_refuses_non_files(tmp_path):
    import hashlib

    from impl.digests import BLOCK_BYTES, file_md5

    data = bytes(range(256)) * (BLOCK_BYTES // 128 + 3)  # two full blocks and a tail
    (tmp_path / "blob").write_bytes(data)
    assert file_md5(tmp_path / "blob") == hashlib.md5(data).hexdigest()
    with pytest.raises(ValueError, match="not a file"):
        file_md5(tmp_path)
    with pytest.raises(TypeError, match="path"):
        file_md5(3)


def test_free_port_is_bindable_on_loopback():
    import socket

    from impl.ports import LOOPBACK, free_port

    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, port))
    assert 1024 <= port <= 65535


def test_single_call_seconds_times_each_call_with_the_collector_paused():
    import gc

    seen = []
    times = timing.single_call_seconds(lambda: seen.append(gc.isenabled()) or time.sleep(0.002), calls=5, warmup=2)
    assert times.shape == (5,) and np.all(times >= 0.0015) and np.all(times < 0.5)
    assert seen == [True, True, False, False, False, False, False]  # warm-up calls run with it on
    assert gc.isenabled()
    with pytest.raises(ValueError, match="calls"):
        timing.single_call_seconds(lambda: None, calls=0)
    with pytest.raises(TypeError, match="fn"):
        timing.single_call_seconds(3, calls=5)


def test_percentiles_read_per_call_seconds_and_the_slo_rule_needs_a_thousand_calls():
    assert timing.percentiles([1.0, 2.0, 3.0, 4.0, 5.0], qs=(0, 50, 100)) == {"p0": 1.0, "p50": 3.0, "p100": 5.0}
    for bad in ([], [1.0, float("nan")], [-1.0], [[1.0]]):
        with pytest.raises(ValueError, match="seconds"):
            timing.percentiles(bad)
    for bad in ("x", None, ["a", "b"]):  # refused by name, not by NumPy's conversion error
        with pytest.raises(TypeError, match="seconds"):
            timing.percentiles(bad)
    with pytest.raises(ValueError, match="qs"):
        timing.percentiles([1.0], qs=(101,))
    with pytest.raises(ValueError, match="calls"):
        timing.call_percentiles(lambda: None, calls=timing.MIN_SLO_CALLS - 1)
    figures = timing.call_percentiles(lambda: None, calls=timing.MIN_SLO_CALLS, warmup=0)
    assert 0 <= figures["p50"] <= figures["p99"]


def test_pinned_threads_sets_torch_inside_and_restores_it():
    import torch

    before = torch.get_num_threads()
    with timing.pinned_threads(1) as threads:
        assert threads == {"torch": 1} and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="num_threads"):
        with timing.pinned_threads(0):
            pass


def test_a_noisy_host_is_inconclusive_and_named_so():
    with pytest.raises(timing.NoisyHost, match="busy host"):
        timing.require_quiet(0.9, 0.0)
    assert issubclass(timing.NoisyHost, timing.Inconclusive)


def test_top1_accuracy_counts_argmax_hits_and_names_bad_arguments():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]])  # the tie goes to class 0, as arg-max does
    assert top1_accuracy(scores, [1, 1, 0]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="labels"):
        top1_accuracy(scores, [1, 2, 0])  # class 2 of a 2-class score
    with pytest.raises(ValueError, match="scores and labels"):
        top1_accuracy(scores, [1, 1])


def test_classifier_accuracy_batches_and_restores_the_training_mode():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.5))
    inputs = torch.randn(50, 3)
    labels = model.eval()(inputs).argmax(1).numpy()
    model.train()
    assert classifier_accuracy(model, inputs, labels) == 1.0  # dropout off while scoring
    assert classifier_accuracy(model, inputs, torch.from_numpy(labels), batch_size=7) == 1.0
    assert model.training
    with pytest.raises(ValueError, match="inputs"):
        classifier_accuracy(model, torch.randn(50, 5), labels)
    with pytest.raises(ValueError, match="inputs contains NaN or infinite values"):
        classifier_accuracy(model, torch.full((50, 3), float("nan")), labels)
    with pytest.raises(ValueError, match="labels must be below the model's 4 classes"):
        classifier_accuracy(model, inputs, np.full(50, 4))
