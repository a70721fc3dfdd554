"""Whether this CPU has int8 dot-product instructions (per-call percentiles: `impl.timing.call_percentiles`).

Int8 inference is not faster on every x86 CPU: the speed-up comes from instructions that multiply int8
pairs and accumulate into int32 in one step (AVX-512 VNNI `vpdpbusd`, its AVX2-encoded twin AVX-VNNI, or
AMX tiles). Without them an int8 GEMM widens to int16 first, and dynamic quantization also pays for
quantizing activations at run time, so a speed-up claim is asserted only where `int8_dot_product` says so.
"""
from __future__ import annotations

__all__ = ["INT8_DOT_FLAGS", "int8_dot_product"]

INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")  # /proc/cpuinfo names


def int8_dot_product(cpu_flags) -> bool:
    """Does this list of CPU flags (`hardware.cpu_info()["cpu_flags"]`) include a VNNI/AMX int8 dot product?"""
    if isinstance(cpu_flags, (str, bytes)) or not isinstance(cpu_flags, (list, tuple, set, frozenset)):
        raise TypeError(f"cpu_flags must be a list of flag names, got {type(cpu_flags).__name__}")
    if not all(isinstance(flag, str) for flag in cpu_flags):
        raise TypeError("cpu_flags must hold str flag names")
    return any(flag in cpu_flags for flag in INT8_DOT_FLAGS)
