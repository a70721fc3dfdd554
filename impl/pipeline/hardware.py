"""What machine a verdict came from: CPU model and flags, cores, memory, OS, Python, threads, GPUs."""
from __future__ import annotations

import functools
import os
import platform
import sys

# Flags that decide whether a CPU speed claim can hold (SIMD width, int8 dot products).
RELEVANT_CPU_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
# `CLAIMS_MAX_CPU_ISA=avx2` makes this process report the CPU as an AVX2-only one (the flags above
# AVX2 hidden), as the libraries' own caps do for their kernels (`make test-capped-isa`).
ISA_CAP_ENV = "CLAIMS_MAX_CPU_ISA"
ABOVE_AVX2 = ("avx512", "avx_vnni", "amx")


def isa_cap() -> str | None:
    """The instruction-set cap this process runs under ('avx2'), or None; anything else is refused."""
    cap = os.environ.get(ISA_CAP_ENV, "").strip().lower() or None
    if cap not in (None, "avx2"):
        raise ValueError(f"{ISA_CAP_ENV} must be 'avx2' or unset, got {cap!r}")
    return cap


@functools.lru_cache(maxsize=1)
def cpu_info() -> dict:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and value.strip():
                    model = value.strip()
                elif key == "flags":
                    flags = set(value.split())
                    if isa_cap() == "avx2":
                        flags = {flag for flag in flags if not flag.startswith(ABOVE_AVX2)}
                if model and flags:
                    break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "physical_cores": physical_cores(),
        "cpu_flags": [flag for flag in RELEVANT_CPU_FLAGS if flag in flags],
        "isa_cap": isa_cap(),
        "machine": platform.machine(),
        "memory_gib": memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def memory_gib() -> float | None:
    """Total physical memory in GiB (from /proc/meminfo; None where it cannot be read)."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


def physical_cores() -> int:
    """Distinct physical cores among the CPUs this process may run on, from the kernel's topology
    (two vCPUs that are hyper-threads of one core count once); the CPU count where topology is absent."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    cores = set()
    for cpu in cpus:
        base = f"/sys/devices/system/cpu/cpu{cpu}/topology"
        try:
            with open(f"{base}/physical_package_id", encoding="utf-8") as package, \
                    open(f"{base}/core_id", encoding="utf-8") as core:
                cores.add((package.read().strip(), core.read().strip()))
        except OSError:
            return len(cpus)
    return len(cores)


def thread_settings() -> dict:
    """Thread counts of the numeric libraries this process has already imported (none imported here)."""
    threads = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if os.environ.get(name)}
    if "torch" in sys.modules:
        threads["torch_intra_op"] = sys.modules["torch"].get_num_threads()
    if "tensorflow" in sys.modules:
        config = sys.modules["tensorflow"].config.threading
        threads["tf_intra_op"] = config.get_intra_op_parallelism_threads()
        threads["tf_inter_op"] = config.get_inter_op_parallelism_threads()
    return threads


@functools.lru_cache(maxsize=1)
def gpus() -> list[str]:
    """Names of usable GPUs, found through torch and then jax (imported only here).

    Costs an import of torch/jax, so it is called only when a `gpu` claim is about
    to run or a record is written after one did.
    """
    names: list[str] = []
    try:
        import torch

        if torch.cuda.is_available():
            names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # noqa: BLE001 - a broken torch means no torch GPU, not a crash
        pass
    if not names:
        try:
            import jax

            names = [str(device.device_kind) for device in jax.devices("gpu")]
        except Exception:  # noqa: BLE001 - jax raises RuntimeError when no GPU backend exists
            pass
    return names


def gpu_available() -> bool:
    return bool(gpus())
