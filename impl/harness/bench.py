"""The performance protocol: compare two callables fairly and report a ratio.

Both sides run in one process on the same inputs: warm-up calls first (JIT
compilation, allocators, sessions), each side's loop count sized so one timing
lasts at least `min_time`, then repeats interleaved A B B A ... to cancel drift,
with a short settle pause before each timing (idle thread pools stop spinning)
and the garbage collector paused inside it, device work synchronised before the
clock stops, and the ratio of medians reported. Absolute seconds are recorded, never asserted.
"""
from __future__ import annotations

import contextlib
import gc
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import pytest

from impl.harness.hardware import cpu_info

NOISY_CV = 0.20  # protocol: a (robust) coefficient of variation above this is a noisy host
# BLAS/OpenMP pools busy-wait after a call (OpenBLAS: ~2^28 cycles, ~0.1 s) before they park;
# switching sides without a pause would bill that spinning to the other library's timing.
SETTLE_S = 0.15


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


def _time_per_call(fn: Callable[[], Any], loops: int) -> float:
    with gc_paused():
        start = time.perf_counter()
        for _ in range(loops):
            block(fn())
        return (time.perf_counter() - start) / loops


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


@dataclass
class Comparison:
    """Per-call seconds of A and B; `ratio` = median(B) / median(A) (>1: A is faster)."""

    name_a: str
    name_b: str
    times_a: list[float]
    times_b: list[float]
    loops_a: int
    loops_b: int
    attempts: int = 1
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

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(median_a=self.median_a, median_b=self.median_b, ratio=self.ratio, cv=self.cv,
                    noisy=self.noisy)
        return data

    def require_quiet(self) -> None:
        """Protocol step 6: a host too noisy to judge is not a verdict either way."""
        if self.noisy:
            pytest.xfail(f"noisy host: CV {self.cv:.0%} > {NOISY_CV:.0%} after {self.attempts} attempts")


def compare(
    fn_a: Callable[[], Any],
    fn_b: Callable[[], Any],
    *,
    name_a: str = "a",
    name_b: str = "b",
    repeats: int = 7,
    warmup: int = 3,
    min_time: float = 0.05,
    retry_if_noisy: bool = True,
    settle_s: float = SETTLE_S,
) -> Comparison:
    """Measure two zero-argument callables under the protocol; see the module docstring."""
    if repeats < 3:
        raise ValueError(f"repeats must be >= 3 for a median, got {repeats}")
    if warmup < 1:
        raise ValueError(f"warmup must be >= 1, got {warmup}")
    if min_time <= 0:
        raise ValueError(f"min_time must be > 0, got {min_time}")
    if settle_s < 0:
        raise ValueError(f"settle_s must be >= 0, got {settle_s}")
    for _ in range(warmup):
        block(fn_a())
        block(fn_b())
    loops_a, loops_b = _loops_for(fn_a, min_time), _loops_for(fn_b, min_time)
    result = None
    for attempt in (1, 2) if retry_if_noisy else (1,):
        times_a: list[float] = []
        times_b: list[float] = []
        for rep in range(repeats):
            order = ((fn_a, loops_a, times_a), (fn_b, loops_b, times_b))
            for fn, loops, sink in order if rep % 2 == 0 else reversed(order):
                time.sleep(settle_s)
                sink.append(_time_per_call(fn, loops))
        result = Comparison(name_a, name_b, times_a, times_b, loops_a, loops_b, attempts=attempt)
        if not result.noisy:
            break
    return result


def time_first_call(fn: Callable[[], Any]) -> float:
    """Seconds for one synchronised call (e.g. the call that triggers JIT compilation)."""
    start = time.perf_counter()
    block(fn())
    return time.perf_counter() - start


def median_call_time(fn: Callable[[], Any], *, repeats: int = 7, min_time: float = 0.05) -> float:
    """Median per-call seconds of an already-warm callable."""
    loops = _loops_for(fn, min_time)
    return statistics.median(_time_per_call(fn, loops) for _ in range(repeats))
