"""Serving latency of an ONNX Runtime session by the performance protocol's SLO rule (P1.5):
single requests timed one by one with perf_counter_ns after a warm-up, reported as p50/p99, and
throughput at a serving batch as the median of repeated timed batches.

A contended host inflates the tail, so each measurement also reports its own noise: the robust
CV (1.4826 MAD / median) of the per-block medians of the single-call times (blocks of 100 calls)
and of the repeated batch timings. The protocol's gate is a CV above 20%: then it is no verdict.
"""
from __future__ import annotations

import itertools
import statistics
import time
from typing import NamedTuple

import numpy as np

from impl import timing
from impl.checks import as_float_array, as_int

__all__ = ["Latency", "Throughput", "single_request_latency", "batch_throughput"]

BLOCK = 100  # single calls per block for the noise estimate


class Latency(NamedTuple):
    p50_ms: float
    p99_ms: float
    calls: int
    block_cv: float  # robust CV of the block medians


class Throughput(NamedTuple):
    samples_per_s: float
    batch: int
    repeats: int
    cv: float


def _runner(session):
    if not hasattr(session, "run") or not hasattr(session, "get_inputs"):
        raise TypeError(f"session must be an onnxruntime.InferenceSession, got {type(session).__name__}")
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})


def single_request_latency(session, X, *, warmup: int = 200, calls: int = 2000) -> Latency:
    """p50/p99 (ms) of `calls` batch-1 requests cycling through the rows of X, after `warmup` calls."""
    run = _runner(session)
    X = as_float_array(X, "X", ndim=2, dtype=np.float32)
    warmup = as_int(warmup, "warmup", minimum=1, maximum=10**6)
    calls = as_int(calls, "calls", minimum=BLOCK, maximum=10**7)
    rows = [X[i: i + 1] for i in range(len(X))]
    for i in range(warmup):
        run(rows[i % len(rows)])
    cycle = itertools.cycle(rows)  # the timed calls start again at row 0
    times = timing.single_call_seconds(lambda: run(next(cycle)), calls=calls)
    blocks = [float(np.median(times[s: s + BLOCK])) for s in range(0, calls - BLOCK + 1, BLOCK)]
    figures = timing.percentiles(times * 1e3)
    return Latency(figures["p50"], figures["p99"], calls, timing.robust_cv(blocks))


def batch_throughput(session, X, *, batch: int = 256, repeats: int = 15, warmup: int = 5) -> Throughput:
    """Samples per second at `batch` rows per call: batch / median seconds per call."""
    run = _runner(session)
    X = as_float_array(X, "X", ndim=2, dtype=np.float32)
    batch = as_int(batch, "batch", minimum=1, maximum=len(X))
    repeats = as_int(repeats, "repeats", minimum=3, maximum=10**5)
    warmup = as_int(warmup, "warmup", minimum=1, maximum=10**5)
    block = np.ascontiguousarray(X[:batch])
    for _ in range(warmup):
        run(block)
    loops = 10
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(loops):
            run(block)
        seconds.append((time.perf_counter_ns() - start) / 1e9 / loops)
    return Throughput(batch / statistics.median(seconds), batch, repeats, timing.robust_cv(seconds))
