import numpy as np
import pytest

from impl import timing
from impl.l1_linalg import mf, workloads


@pytest.mark.cpu
@pytest.mark.perf
def test_jit_overhead(claim):
    """The first call of a jitted JAX function pays for tracing and compilation, at least 5x a
    cached call; JAX traces it once for fixed shapes and dtypes, and once more per new shape.

    Course: Lesson 1, practical performance comparisons (what JIT costs and when).
    """
    problem = mf.make_problem(200, 100, 10, 0.1, 0.1, claim.rng(0))
    args = [np.asarray(v, np.float32) for v in (problem.A, problem.W0, problem.H0)] + [np.float32(problem.lr)]
    step, traces = mf.make_jitted_step()
    first = timing.time_first_call(lambda: step(*args))
    cached = timing.median_call_time(lambda: step(*args))
    claim.record(first_call_s=first, cached_call_s=cached)
    claim.expect("first_over_cached", first / cached, ">=", "min_first_call_ratio")
    for _ in range(100):
        timing.block(step(*args))
    claim.expect("traces_after_100_calls", traces["count"], "==", 1)
    smaller = [a[: a.shape[0] // 2] if i in (0, 1) else a for i, a in enumerate(args)]
    timing.block(step(*smaller))
    claim.expect("traces_after_new_shape", traces["count"], "==", 2)


@pytest.mark.cpu
@pytest.mark.perf
def test_jax_vs_numpy(claim):
    """On a CPU, JAX is not a general speed-up over NumPy: a dense matmul is within 3x either
    way (both call optimised BLAS-class kernels), while a chain of ten cheap elementwise
    operations is faster in JAX because XLA fuses it into one pass over memory; each judged on the
    ratio's 95% interval (inconclusive when it straddles the bar). Reported only:
    the same chain with sin/tanh/exp (compute-bound, so fusion gains little) and the jitted
    `fori_loop` matrix factorization vs a Python loop.

    Ratios are t_numpy / t_jax (> 1: JAX faster), medians of interleaved repeats after warm-up.
    Course: Lesson 1, matrix factorization with JAX (scalability) and performance comparisons.
    """
    rng = claim.rng(0)
    problem = mf.make_problem(200, 100, 10, 0.1, 0.1, rng)
    pairs = {
        "matmul": workloads.matmul(claim.t["matmul_size"], rng),
        "elementwise_chain": workloads.elementwise_chain(claim.t["chain_length"], rng),
        "transcendental_chain": workloads.transcendental_chain(claim.t["chain_length"], rng),
        "mf_fori_loop": workloads.mf_steps(problem.A, problem.W0, problem.H0, problem.lr, claim.t["mf_steps"]),
    }
    results = {name: timing.compare(jax_fn, numpy_fn, name_a="jax", name_b="numpy")
               for name, (jax_fn, numpy_fn) in pairs.items()}
    for name, result in results.items():
        claim.record(**{name: result.summary()})
    ratios = {name: result.ratio for name, result in results.items()}
    claim.plot(
        "JAX vs NumPy on this CPU: t_numpy / t_jax (above 1: JAX faster)",
        list(ratios), {"t_numpy / t_jax": list(ratios.values())},
        kind="bar", ylabel="speed ratio", hline=1.0,
    )
    claim.record(mf_fori_loop_ratio=ratios["mf_fori_loop"],
                 transcendental_chain_ratio=ratios["transcendental_chain"])
    timing.judge_all(claim, [(results["matmul"], "matmul_ratio", ">=", "min_matmul_ratio", False),
                             (results["elementwise_chain"], "elementwise_chain_ratio", ">=", "min_chain_ratio", False)])


@pytest.mark.gpu
@pytest.mark.perf
def test_gpu_matmul_speedup(claim):
    """On a GPU, JAX multiplies two 4096 x 4096 float32 matrices at least 10x faster than
    NumPy on the host: the scalability the lesson attributes to JAX needs an accelerator.

    Course: Lesson 1, matrix factorization with JAX (scalability).
    """
    jax_fn, numpy_fn = workloads.matmul(claim.t["matmul_size"], claim.rng(0), device="gpu")
    result = timing.compare(jax_fn, numpy_fn, name_a="jax_gpu", name_b="numpy_cpu")
    claim.record(matmul=result.summary())
    result.judge(claim, "gpu_over_host_ratio", ">=", "min_ratio")
