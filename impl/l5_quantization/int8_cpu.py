"""Whether this CPU has int8 dot-product instructions (per-call percentiles: `impl.timing.call_percentiles`).

Int8 inference is not faster on every x86 CPU: the speed-up comes from instructions that multiply int8
pairs and accumulate into int32 in one step (AVX-512 VNNI `vpdpbusd`, its AVX2-encoded twin AVX-VNNI, or
AMX tiles). Without them an int8 GEMM widens to int16 first, and dynamic quantization also pays for
quantizing activations at run time, so a speed-up claim is asserted only where `int8_dot_product` says so.

The widening costs accuracy too: ONNX Runtime's x86 kernels without VNNI multiply unsigned-by-signed 8-bit pairs
with `vpmaddubsw`, whose int16 pair sums saturate when full-range 8-bit weights meet large activations. ORT's
quantization guide advises `reduce_range` (7-bit weights) on AVX2 and AVX-512 machines without VNNI;
`static_reduce_range` says when. Measured on a 2-core AVX2 EPYC (no VNNI): Lesson 5's CNN quantized statically
per channel scored 0.960 with 8-bit weights against 0.982 in float, and 0.982 with 7-bit weights (1,000 test images).
"""
from __future__ import annotations

__all__ = ["INT8_DOT_FLAGS", "int8_dot_product", "static_reduce_range"]

INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")  # /proc/cpuinfo names


def int8_dot_product(cpu_flags) -> bool:
    """Does this list of CPU flags (`hardware.cpu_info()["cpu_flags"]`) include a VNNI/AMX int8 dot product?"""
    if isinstance(cpu_flags, (str, bytes)) or not isinstance(cpu_flags, (list, tuple, set, frozenset)):
        raise TypeError(f"cpu_flags must be a list of flag names, got {type(cpu_flags).__name__}")
    if not all(isinstance(flag, str) for flag in cpu_flags):
        raise TypeError("cpu_flags must hold str flag names")
    return any(flag in cpu_flags for flag in INT8_DOT_FLAGS)


def static_reduce_range(cpu_flags) -> bool:
    """`reduce_range` for ONNX Runtime's static int8 quantization on a CPU with these flags: True (7-bit weights)
    where there is no VNNI/AMX int8 dot product, so the u8 x s8 pair sums cannot saturate (ORT's advice)."""
    return not int8_dot_product(cpu_flags)
