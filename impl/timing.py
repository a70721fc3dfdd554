"""Thread control and the performance protocol: how every timed figure in the project is measured.

Runner-free: no test runner and no `impl.harness` import, so a DVC stage (`impl/beyond/cnn_speed.py`) times
with the same code as a spec. What cannot be judged raises `Inconclusive` (a ratio's interval straddling
its bar) or its subclass `NoisyHost` (other processes busy, or repeats too spread); the test plugin reports
either as "not run", never as refuted.

Threads. `pinned_threads` sets torch's intra-op threads for a block and restores them, and pins
TensorFlow's pools (`pin_tf_threads`), which TensorFlow fixes once it has run an op. ONNX Runtime's
threads are a session option (`impl.onnx_tools.make_session(threads=...)`); NumPy's BLAS pool is sized at
import by OMP_NUM_THREADS, so work that must pin it runs in a process started with that variable.

Comparisons. Both sides run in one process on the same inputs: warm-up calls first (JIT
compilation, allocators, sessions), each side's loop count sized so one timing
lasts at least `min_time`, then repeats interleaved A B B A ... to cancel drift,
with a short settle pause before each timing (idle thread pools stop spinning)
and the garbage collector paused inside it, device work synchronised before the
clock stops, and the ratio of medians reported. A noisy measurement (robust CV above
`NOISY_CV`) is repeated once. Absolute seconds are recorded, never asserted.

Judging (`Comparison.judge`): the ratio is estimated with a distribution-free confidence interval
(the median of the per-repeat paired ratios B_i / A_i, whose neighbours in time share the host's
drift, bounded by order statistics), and a claim is judged only when that interval lies wholly on
one side of its bar; otherwise it is `Inconclusive` ("not run", with the interval). CPU time that
other processes used during the timing is measured too: a busy host is `NoisyHost`, never refuted.

`compare` times cheap stateless calls (many loops per timing); `compare_windows` times
stateful callables that each run a window of several units of work per call (e.g. N
training steps drawn from an iterator), reported per unit. Both share one protocol loop.

Single calls (an SLO's p50/p99): `single_call_seconds` times each call on its own with `perf_counter_ns`,
the garbage collector paused, after untimed warm-up calls; `percentiles` reads them; `call_percentiles`
does both under the protocol's minimum of `MIN_SLO_CALLS` calls.
"""
from __future__ import annotations

import contextlib
import gc
import math
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from impl.checks import MAX_STEPS, as_callable, as_float_array, as_int
from impl.isolation import torch_state
from impl.pipeline.hardware import cpu_info

__all__ = [
    "NOISY_CV", "CONFIDENCE", "MAX_FOREIGN_CORES", "SETTLE_S", "MIN_SLO_CALLS",
    "pinned_threads", "pin_tf_threads",
    "block", "gc_paused", "robust_cv", "median_interval", "judge_interval", "Inconclusive", "NoisyHost", "HostLoad",
    "require_quiet",
    "Comparison", "judge_all", "compare", "compare_windows", "time_first_call", "median_call_time",
    "single_call_seconds", "percentiles", "call_percentiles",
]

NOISY_CV = 0.20  # protocol: a (robust) coefficient of variation above this is a noisy host
CONFIDENCE = 0.95  # of the ratio's interval: a judged verdict is wrong with probability <= 5% per side
# Cores' worth of CPU that other processes may use while a claim is timed: above it, the host is busy
# and the timing measures the neighbour (a system's own background stays far below 0.25).
MAX_FOREIGN_CORES = 0.25
# BLAS/OpenMP pools busy-wait after a call (OpenBLAS: ~2^28 cycles, ~0.1 s) before they park;
# switching sides without a pause would bill that spinning to the other library's timing.
SETTLE_S = 0.15
MIN_SLO_CALLS = 1000  # a latency SLO's p50/p99 come from at least 1,000 single calls (a p99 from fewer rests on a handful)


def pin_tf_threads(num_threads: int) -> dict[str, int]:
    """Run TensorFlow ops on `num_threads` intra-op threads and one inter-op thread; returns the pool sizes
    TensorFlow reports afterwards ({"intra_op": ..., "inter_op": ...}), for the caller to record.

    TensorFlow fixes its pools when it first runs an op. Where it already ran with other sizes, this raises
    RuntimeError naming the sizes in force, rather than leaving them as they are unnoticed: TF work that
    must be pinned runs in a process of its own (`impl.l5_quantization.tflite_tools.in_fresh_process`).
    Pinning to the sizes already in force is accepted.
    """
    num_threads = as_int(num_threads, "num_threads", minimum=1, maximum=1024)
    import tensorflow as tf

    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(num_threads)
        threading.set_inter_op_parallelism_threads(1)
    except RuntimeError as exc:  # "cannot be modified after initialization"
        if (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()) != (num_threads, 1):
            raise RuntimeError(
                f"TensorFlow already ran in this process with {threading.get_intra_op_parallelism_threads()} intra-op "
                f"and {threading.get_inter_op_parallelism_threads()} inter-op threads (0: one per core) and cannot be "
                f"pinned to {num_threads} and 1 now; run this work in a fresh process") from exc
    return {"intra_op": threading.get_intra_op_parallelism_threads(),
            "inter_op": threading.get_inter_op_parallelism_threads()}


@contextlib.contextmanager
def pinned_threads(num_threads: int, *, tensorflow: bool = False) -> Iterator[dict[str, int]]:
    """torch on `num_threads` intra-op threads inside the block, restored on exit (`isolation.torch_state`);
    with `tensorflow`, TensorFlow's pools pinned too (`pin_tf_threads`: not restorable, so a fresh process's
    job). Yields the thread counts in force ({"torch": ..., and "tf_intra_op"/"tf_inter_op"}), to record."""
    num_threads = as_int(num_threads, "num_threads", minimum=1, maximum=1024)
    if not isinstance(tensorflow, bool):
        raise TypeError(f"tensorflow must be a bool, got {type(tensorflow).__name__}")
    tf_threads = pin_tf_threads(num_threads) if tensorflow else {}
    with torch_state(num_threads=num_threads):
        import torch

        yield {"torch": torch.get_num_threads(), **{f"tf_{name}": value for name, value in tf_threads.items()}}


def block(result: Any) -> Any:
    """Wait for asynchronous device work in `result` (JAX arrays, CUDA tensors, pytrees)."""
    if isinstance(result, (list, tuple)):
        for item in result:
            block(item)
    elif isinstance(result, dict):
        for item in result.values():
            block(item)
    elif hasattr(result, "block_until_ready"):
        result.block_until_ready()
    elif getattr(result, "is_cuda", False):
        import torch

        torch.cuda.synchronize()
    return result


@contextlib.contextmanager
def gc_paused():
    """Pause Python's garbage collector inside a timed region (as `timeit` does).

    Late in a long test session the heap is large, and a collection landing in one
    side's timing window would be charged to that side.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _loops_for(fn: Callable[[], Any], min_time: float) -> int:
    """Smallest power-of-ten-ish loop count whose total time reaches `min_time`."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            block(fn())
        if time.perf_counter() - start >= min_time or loops >= 1_000_000:
            return loops
        loops *= 2 if loops < 10 else 5


def _time_per_unit(fn: Callable[[], Any], loops: int, units_per_call: int = 1) -> float:
    """Seconds per unit of work over `loops` synchronised calls of `units_per_call` units each."""
    with gc_paused():
        start = time.perf_counter()
        for _ in range(loops):
            block(fn())
        return (time.perf_counter() - start) / (loops * units_per_call)


def robust_cv(values: list[float]) -> float:
    """Dispersion of the repeats as 1.4826 * MAD / median (equals the CV for Gaussian noise).

    The verdict rests on medians, so the noise gate uses the matching robust spread: a
    single page-fault or scheduler outlier moves neither the median nor this figure.
    """
    if len(values) < 2:
        return 0.0
    median = statistics.median(values)
    mad = statistics.median(abs(value - median) for value in values)
    return 1.4826 * mad / median if median > 0 else 0.0


class Inconclusive(Exception):
    """The measurement cannot judge the claim either way (an interval straddling the bar, or a `NoisyHost`):
    the plugin reports the claim as "not run", with this message, never as refuted."""


class NoisyHost(Inconclusive):
    """Other processes used the CPU during a timing, or its repeats varied too much, to read a verdict from it."""


def median_interval(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Distribution-free interval for the median: order statistics x_(k), x_(n+1-k), with the largest k
    such that P(Binomial(n, 1/2) < k) <= (1 - confidence) / 2. Needs n >= 6 at 95%."""
    if not 0.5 < confidence < 1:
        raise ValueError(f"confidence must be in (0.5, 1), got {confidence!r}")
    ordered = sorted(values)
    n = len(ordered)
    tail = (1 - confidence) / 2
    k, cumulative = 0, 0.0
    while True:
        cumulative += math.comb(n, k) / 2 ** n  # P(X <= k)
        if cumulative > tail:
            break
        k += 1
    if k == 0:
        raise ValueError(f"{n} values cannot bound a median at {confidence:.0%}; measure more repeats")
    return ordered[k - 1], ordered[n - k]


class HostLoad:
    """CPU used by other processes (cores' worth) between `start()` and `stop()`: all CPUs' busy time
    minus this process tree's own, over the wall time. As a context manager, `foreign_cores` holds
    it after the block: `with HostLoad() as load: ...` then `require_quiet(load.foreign_cores, cv)`.

    The kernel counts CPU time in ticks of 10 ms, so over a window of a few milliseconds the reading is
    noise (a 2,000-call window of 5 us calls read 0.35 foreign cores on an idle host). A window shorter
    than `MIN_WINDOW_S` is therefore extended to it by waiting, idle, before the second sample."""

    MIN_WINDOW_S = 0.5  # 2 CPUs x 0.5 s = 100 ticks: a few ticks of rounding stay under 0.05 cores

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._start: tuple[float, float, float] | None = None
        self.foreign_cores: float | None = None

    def __enter__(self) -> "HostLoad":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _sample(self) -> tuple[float, float, float]:
        psutil = self._psutil
        total = psutil.cpu_times()
        busy = sum(total) - total.idle - getattr(total, "iowait", 0.0)
        me = psutil.Process()
        mine = me.cpu_times()  # children_*: those already exited and waited for (a server stopped meanwhile)
        own = mine.user + mine.system + mine.children_user + mine.children_system
        for proc in me.children(recursive=True):
            try:
                times = proc.cpu_times()
                own += times.user + times.system
            except psutil.Error:
                continue
        return time.monotonic(), busy, own

    def start(self) -> "HostLoad":
        self._start = self._sample()
        return self

    def stop(self) -> float:
        if self._start is None:
            raise RuntimeError("HostLoad.stop() before start()")
        short = self.MIN_WINDOW_S - (time.monotonic() - self._start[0])
        if short > 0:
            time.sleep(short)
        wall, busy, own = (b - a for a, b in zip(self._start, self._sample()))
        self.foreign_cores = max(0.0, (busy - own) / wall) if wall > 0 else 0.0
        return self.foreign_cores


def require_quiet(foreign_cores: float, cv: float, *, max_cv: float | None = None, what: str = "the timing") -> None:
    """The protocol's gate for figures judged on their own (an SLO's p50/p99, a throughput) rather than a
    ratio's interval: `Inconclusive` when other processes used more than MAX_FOREIGN_CORES during the
    timing, or when its repeats varied by a robust CV above `max_cv` (default NOISY_CV)."""
    limit = NOISY_CV if max_cv is None else max_cv
    for name, value in (("foreign_cores", foreign_cores), ("cv", cv), ("max_cv", limit)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if foreign_cores > MAX_FOREIGN_CORES:
        raise NoisyHost(f"busy host: other processes used {foreign_cores:.2f} cores during {what}")
    if cv > limit:
        raise NoisyHost(f"noisy host: {what} varied by robust CV {cv:.0%} > {limit:.0%}")


@dataclass
class Comparison:
    """Per-unit seconds of A and B (a unit is one call, or one step of a window); `ratio` =
    median(B) / median(A) (>1: A is faster)."""

    name_a: str
    name_b: str
    times_a: list[float]
    times_b: list[float]
    loops_a: int
    loops_b: int
    attempts: int = 1
    units_per_call: int = 1
    foreign_cores: float = 0.0  # CPU other processes used during the timing (HostLoad)
    host: dict = field(default_factory=cpu_info)

    @property
    def median_a(self) -> float:
        return statistics.median(self.times_a)

    @property
    def median_b(self) -> float:
        return statistics.median(self.times_b)

    @property
    def ratio(self) -> float:
        return self.median_b / self.median_a

    @property
    def cv(self) -> float:
        return max(robust_cv(self.times_a), robust_cv(self.times_b))

    @property
    def noisy(self) -> bool:
        return self.cv > NOISY_CV

    def paired_ratios(self, invert: bool = False) -> list[float]:
        """B_i / A_i per repeat (A_i / B_i with `invert`): each pair was timed back to back."""
        return [(a / b) if invert else (b / a) for a, b in zip(self.times_a, self.times_b)]

    def interval(self, invert: bool = False, confidence: float = CONFIDENCE) -> tuple[float, float]:
        """Confidence interval of the paired ratio's median (`ratio`'s orientation; A/B with `invert`)."""
        return median_interval(self.paired_ratios(invert), confidence)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        low, high = self.interval()
        data.update(median_a=self.median_a, median_b=self.median_b, ratio=self.ratio, cv=self.cv,
                    noisy=self.noisy, ratio_interval=[low, high])
        return data

    def require_quiet(self) -> None:
        """A host busy with other processes during the timing is not a verdict either way."""
        if self.foreign_cores > MAX_FOREIGN_CORES:
            raise NoisyHost(f"busy host: other processes used {self.foreign_cores:.2f} cores during the "
                               f"timing (> {MAX_FOREIGN_CORES})")

    def judge(self, claim: Any, name: str, op: str, limit: str | float, *, invert: bool = False) -> float:
        """Judge `ratio <op> limit` (A/B with `invert`) on the ratio's confidence interval.

        Records the point estimate (median of paired ratios) and its interval under `name`; asserts
        through `claim.expect` only when the whole interval is on one side of the limit; otherwise
        raises `Inconclusive` naming the interval. A busy host is inconclusive first.
        """
        if op not in (">=", ">", "<=", "<"):
            raise ValueError(f"a ratio is judged with >=, >, <= or <, got {op!r}")
        return judge_interval(claim, name, statistics.median(self.paired_ratios(invert)), self.interval(invert), op,
                              limit, foreign_cores=self.foreign_cores, over=f"over {len(self.times_a)} paired repeats")


def judge_interval(claim: Any, name: str, point: float, interval: tuple[float, float], op: str, limit: str | float,
                   *, foreign_cores: float | None = None, over: str = "") -> float:
    """Judge `point <op> limit` by `interval`, the point's confidence interval: records both (the interval as
    `<name>_interval`) and asserts through `claim.expect` only when the whole interval lies on one side of
    the limit; otherwise raises `Inconclusive` naming the interval (`over` says what it rests on). The
    interval carries the repeats' spread, so no CV gate applies; with `foreign_cores` (the CPU other
    processes used during the timing, recorded as `<name>_foreign_cores`) a busy host is inconclusive first."""
    if op not in (">=", ">", "<=", "<"):
        raise ValueError(f"an interval is judged with >=, >, <= or <, got {op!r}")
    if not isinstance(interval, (tuple, list)) or len(interval) != 2:
        raise TypeError(f"interval must be a (low, high) pair, got {interval!r}")
    low, high = (float(v) for v in interval)
    if not low <= high:
        raise ValueError(f"interval must have low <= high, got [{low}, {high}]")
    if foreign_cores is not None:
        require_quiet(foreign_cores, 0.0, what=f"the timing of {name}")
        claim.record(**{f"{name}_foreign_cores": foreign_cores})
    limit_value = claim.threshold(limit) if isinstance(limit, str) else float(limit)
    claim.record(**{f"{name}_interval": [low, high]})
    above = op in (">=", ">")
    clears = (low >= limit_value) if above else (high <= limit_value)
    misses = (high < limit_value) if above else (low > limit_value)
    if not (clears or misses):
        raise Inconclusive(f"{name} = {point:.3g}, its {CONFIDENCE:.0%} interval [{low:.3g}, {high:.3g}] "
                           f"straddles {limit if isinstance(limit, str) else ''} {limit_value:g} {over}"
                           .replace("  ", " ").rstrip())
    claim.expect(name, point, op, limit)
    return point


def judge_all(claim: Any, judgements: list[tuple["Comparison", str, str, "str | float", bool]]) -> None:
    """Judge several ratios of one claim: (comparison, name, op, limit, invert) each. A refuted one fails at
    once; inconclusive ones are collected, so every ratio that can be judged is, and the claim is
    inconclusive only when none failed and at least one could not be judged."""
    undecided = []
    for comparison, name, op, limit, invert in judgements:
        try:
            comparison.judge(claim, name, op, limit, invert=invert)
        except Inconclusive as exc:
            undecided.append(str(exc))
    if undecided:
        raise Inconclusive("; ".join(undecided))


def _check_protocol(repeats: int, settle_s: float) -> None:
    if repeats < 7:
        raise ValueError(f"repeats must be >= 7 (the protocol's minimum; a 95% median interval needs 6), got {repeats}")
    if settle_s < 0:
        raise ValueError(f"settle_s must be >= 0, got {settle_s}")


def _interleaved(
    time_a: Callable[[], float], time_b: Callable[[], float], *, repeats: int, settle_s: float,
    retry_if_noisy: bool, make: Callable[[list[float], list[float], int], Comparison],
) -> Comparison:
    """The protocol loop: `repeats` timings of each side in A B, B A, A B ... order, a settle
    pause before each; measured again once when the result is noisy."""
    result = None
    for attempt in (1, 2) if retry_if_noisy else (1,):
        times_a: list[float] = []
        times_b: list[float] = []
        load = HostLoad().start()
        for rep in range(repeats):
            order = ((time_a, times_a), (time_b, times_b))
            for timer, sink in order if rep % 2 == 0 else reversed(order):
                time.sleep(settle_s)
                sink.append(timer())
        result = make(times_a, times_b, attempt)
        result.foreign_cores = load.stop()
        if not result.noisy and result.foreign_cores <= MAX_FOREIGN_CORES:
            break
    return result


def compare(
    fn_a: Callable[[], Any],
    fn_b: Callable[[], Any],
    *,
    name_a: str = "a",
    name_b: str = "b",
    repeats: int = 15,
    warmup: int = 3,
    min_time: float = 0.05,
    retry_if_noisy: bool = True,
    settle_s: float = SETTLE_S,
) -> Comparison:
    """Measure two zero-argument callables under the protocol; see the module docstring."""
    _check_protocol(repeats, settle_s)
    if warmup < 1:
        raise ValueError(f"warmup must be >= 1, got {warmup}")
    if min_time <= 0:
        raise ValueError(f"min_time must be > 0, got {min_time}")
    for _ in range(warmup):
        block(fn_a())
        block(fn_b())
    loops_a, loops_b = _loops_for(fn_a, min_time), _loops_for(fn_b, min_time)
    return _interleaved(
        lambda: _time_per_unit(fn_a, loops_a), lambda: _time_per_unit(fn_b, loops_b),
        repeats=repeats, settle_s=settle_s, retry_if_noisy=retry_if_noisy,
        make=lambda times_a, times_b, attempt: Comparison(name_a, name_b, times_a, times_b, loops_a, loops_b,
                                                          attempts=attempt),
    )


def compare_windows(
    fn_a: Callable[[], Any],
    fn_b: Callable[[], Any],
    *,
    units_per_call: int,
    name_a: str = "a",
    name_b: str = "b",
    repeats: int = 15,
    warmup: int = 0,
    retry_if_noisy: bool = True,
    settle_s: float = SETTLE_S,
) -> Comparison:
    """Time windows of work: each repeat calls each side once and reports seconds per unit.

    For stateful callables (each call runs the next `units_per_call` training steps, say)
    that cannot be looped freely. Warm-up defaults to none: a warm-up call consumes the
    callables' state, so callers usually warm both sides up (and check them) themselves.
    """
    _check_protocol(repeats, settle_s)
    if not isinstance(units_per_call, int) or isinstance(units_per_call, bool) or units_per_call < 1:
        raise ValueError(f"units_per_call must be a positive int, got {units_per_call!r}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    for _ in range(warmup):
        block(fn_a())
        block(fn_b())
    return _interleaved(
        lambda: _time_per_unit(fn_a, 1, units_per_call), lambda: _time_per_unit(fn_b, 1, units_per_call),
        repeats=repeats, settle_s=settle_s, retry_if_noisy=retry_if_noisy,
        make=lambda times_a, times_b, attempt: Comparison(name_a, name_b, times_a, times_b, 1, 1,
                                                          attempts=attempt, units_per_call=units_per_call),
    )


def time_first_call(fn: Callable[[], Any]) -> float:
    """Seconds for one synchronised call (e.g. the call that triggers JIT compilation)."""
    start = time.perf_counter()
    block(fn())
    return time.perf_counter() - start


def median_call_time(fn: Callable[[], Any], *, repeats: int = 7, min_time: float = 0.05) -> float:
    """Median per-call seconds of an already-warm callable."""
    loops = _loops_for(fn, min_time)
    return statistics.median(_time_per_unit(fn, loops) for _ in range(repeats))


def single_call_seconds(fn: Callable[[], Any], *, calls: int, warmup: int = 0) -> np.ndarray:
    """Seconds of each of `calls` calls of `fn`, timed one by one with `perf_counter_ns` (the garbage collector
    paused) after `warmup` untimed calls. `fn` must return when its work is done (wrap asynchronous work in
    `block`): a single call of a few microseconds has no room for the check."""
    fn = as_callable(fn, "fn")
    calls = as_int(calls, "calls", minimum=1, maximum=MAX_STEPS)
    warmup = as_int(warmup, "warmup", minimum=0, maximum=MAX_STEPS)
    for _ in range(warmup):
        fn()
    times = np.empty(calls, dtype=np.int64)
    with gc_paused():
        for i in range(calls):
            start = time.perf_counter_ns()
            fn()
            times[i] = time.perf_counter_ns() - start
    return times / 1e9


def percentiles(seconds: Any, qs: tuple[float, ...] = (50, 99)) -> dict[str, float]:
    """{"p50": s, "p99": s, ...} of a sequence of per-call seconds."""
    values = as_float_array(seconds, "seconds", ndim=1)
    if np.any(values < 0):
        raise ValueError(f"seconds must be non-negative, got a minimum of {values.min()}")
    if not isinstance(qs, tuple) or not qs or not all(isinstance(q, (int, float)) and not isinstance(q, bool)
                                                      and 0 <= q <= 100 for q in qs):
        raise ValueError(f"qs must be a non-empty tuple of percentiles in [0, 100], got {qs!r}")
    return {f"p{q:g}": float(np.percentile(values, q)) for q in qs}


def call_percentiles(fn: Callable[[], Any], *, calls: int = MIN_SLO_CALLS, warmup: int = 50) -> dict[str, float]:
    """p50 and p99 seconds of `calls` (>= MIN_SLO_CALLS) single calls of `fn` (`single_call_seconds`)."""
    calls = as_int(calls, "calls", minimum=MIN_SLO_CALLS, maximum=MAX_STEPS)
    return percentiles(single_call_seconds(fn, calls=calls, warmup=warmup))
