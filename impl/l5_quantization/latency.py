"""Latency helpers for Lesson 5: per-call percentiles, and whether this CPU has int8 dot-product instructions.

Int8 inference is not faster on every x86 CPU: the speed-up comes from instructions that multiply int8
pairs and accumulate into int32 in one step (AVX-512 VNNI `vpdpbusd`, its AVX2-encoded twin AVX-VNNI, or
AMX tiles). Without them an int8 GEMM widens to int16 first, and dynamic quantization also pays for
quantizing activations at run time, so a speed-up claim is asserted only where `int8_dot_product` says so.
"""
from __future__ import annotations

import gc
import time
from typing import Any, Callable

import numpy as np

from impl.checks import MAX_STEPS, as_callable, as_int

__all__ = ["INT8_DOT_FLAGS", "MIN_CALLS", "int8_dot_product", "percentiles"]

INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")  # /proc/cpuinfo names
MIN_CALLS = 1000  # the protocol: a latency SLO's p50/p99 come from at least 1,000 single calls (a p99 from fewer
                  # rests on a handful of calls)


def int8_dot_product(cpu_flags) -> bool:
    """Does this list of CPU flags (`hardware.cpu_info()["cpu_flags"]`) include a VNNI/AMX int8 dot product?"""
    if isinstance(cpu_flags, (str, bytes)) or not isinstance(cpu_flags, (list, tuple, set, frozenset)):
        raise TypeError(f"cpu_flags must be a list of flag names, got {type(cpu_flags).__name__}")
    if not all(isinstance(flag, str) for flag in cpu_flags):
        raise TypeError("cpu_flags must hold str flag names")
    return any(flag in cpu_flags for flag in INT8_DOT_FLAGS)


def percentiles(fn: Callable[[], Any], *, calls: int = MIN_CALLS, warmup: int = 50) -> dict[str, float]:
    """p50 and p99 seconds of `calls` (>= MIN_CALLS) single calls of `fn`, each timed with `perf_counter_ns`,
    after `warmup` untimed calls (garbage collector paused)."""
    fn = as_callable(fn, "fn")
    calls = as_int(calls, "calls", minimum=MIN_CALLS, maximum=MAX_STEPS)
    warmup = as_int(warmup, "warmup", minimum=0, maximum=MAX_STEPS)
    for _ in range(warmup):
        fn()
    times = np.empty(calls, dtype=np.int64)
    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(calls):
            start = time.perf_counter_ns()
            fn()
            times[i] = time.perf_counter_ns() - start
    finally:
        if enabled:
            gc.enable()
    return {"p50": float(np.percentile(times, 50)) / 1e9, "p99": float(np.percentile(times, 99)) / 1e9}
