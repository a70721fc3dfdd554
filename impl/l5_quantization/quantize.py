"""NumPy reference for uniform quantization: the arithmetic every toolchain in Lesson 5 is checked against.

A real value x is stored as an integer code q = clip(round(x / scale) + zero_point, qmin, qmax) and read
back as x_hat = (q - zero_point) * scale. Two schemes fix (scale, zero_point) from a range:

- affine (asymmetric, unsigned codes 0..2^b - 1): the range [lo, hi] is first widened to contain 0,
  scale = (hi - lo) / (2^b - 1) and zero_point = round(-lo / scale), an integer, so 0.0 maps exactly;
- symmetric (signed codes, zero_point 0): scale = max|x| / (2^(b-1) - 1), so in-range codes lie in
  -(2^(b-1) - 1)..2^(b-1) - 1 (int8: +-127); out-of-range values saturate to the full signed range
  (int8: -128..127), as ONNX's QuantizeLinear does.

Rounding is half to even (`np.rint`), ONNX's and PyTorch's rule. Scales may be one per tensor or one per
channel (`axis`). Arithmetic keeps float32 in float32 (a float32 x with a float32 scale gives the same
bits as `torch.round(x / scale)`), anything else is done in float64.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from impl.checks import MAX_DIM, as_bool, as_float_array, as_int, as_str

__all__ = [
    "SCHEMES", "qrange", "affine_qparams", "symmetric_qparams", "calibrate", "quantize", "dequantize",
    "fake_quantize", "quantization_mse",
]

SCHEMES = ("affine", "symmetric")
MIN_BITS, MAX_BITS = 2, 16


def qrange(bits: int = 8, signed: bool = False) -> tuple[int, int]:
    """The integer code range: 0..2^b - 1 unsigned, -2^(b-1)..2^(b-1) - 1 signed."""
    bits, signed = as_int(bits, "bits", minimum=MIN_BITS, maximum=MAX_BITS), as_bool(signed, "signed")
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


def _float(x: Any, name: str) -> np.ndarray:
    """A finite float array of any rank (scalars too), float32 kept as float32 and everything else as
    float64; booleans are refused."""
    if isinstance(x, (bool, np.bool_)) or getattr(x, "dtype", None) == np.bool_:
        raise TypeError(f"{name} must be real numbers, got booleans")
    dtype = np.float32 if getattr(x, "dtype", None) == np.float32 else np.float64
    if np.ndim(x) == 0:  # as_float_array wants at least one dimension
        return as_float_array(np.atleast_1d(x), name, dtype=dtype).reshape(())
    return as_float_array(x, name, dtype=dtype)


def affine_qparams(x_min: Any, x_max: Any, *, bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Asymmetric unsigned (scale, zero_point) for the range [x_min, x_max], widened to contain 0.

    Scalars give one pair, arrays one pair per element (per channel). A range that is all zero gets
    scale 1 (any scale represents 0 exactly). Scales are float64, zero points int64 in 0..2^b - 1.
    """
    lo, hi = _float(x_min, "x_min").astype(np.float64), _float(x_max, "x_max").astype(np.float64)
    bits = as_int(bits, "bits", minimum=MIN_BITS, maximum=MAX_BITS)
    if lo.shape != hi.shape:
        raise ValueError(f"x_min and x_max must have the same shape, got {lo.shape} and {hi.shape}")
    if np.any(lo > hi):
        raise ValueError("x_min must be <= x_max elementwise")
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    qmax = 2**bits - 1
    scale = (hi - lo) / qmax
    scale = np.where(scale > 0, scale, 1.0)
    zero_point = np.clip(np.rint(-lo / scale), 0, qmax).astype(np.int64)
    return scale, zero_point


def symmetric_qparams(max_abs: Any, *, bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric signed (scale, zero_point = 0) with scale = max_abs / (2^(b-1) - 1); max_abs 0 gets scale 1."""
    max_abs = _float(max_abs, "max_abs").astype(np.float64)
    bits = as_int(bits, "bits", minimum=MIN_BITS, maximum=MAX_BITS)
    if np.any(max_abs < 0):
        raise ValueError("max_abs must be >= 0")
    scale = max_abs / (2 ** (bits - 1) - 1)
    scale = np.where(scale > 0, scale, 1.0)
    return scale, np.zeros(scale.shape, dtype=np.int64)


def _reduce_axes(ndim: int, axis: int | None) -> tuple[int, ...] | None:
    if axis is None:
        return None
    axis = as_int(axis, "axis", minimum=-ndim, maximum=ndim - 1)
    return tuple(a for a in range(ndim) if a != axis % ndim)


def calibrate(x: Any, *, scheme: str = "affine", bits: int = 8, axis: int | None = None):
    """(scale, zero_point) from the min-max range of `x`: per tensor, or per channel along `axis`."""
    x = _float(x, "x")
    scheme = as_str(scheme, "scheme", choices=SCHEMES)
    if axis is not None and x.ndim == 0:
        raise ValueError("axis needs an x with at least one dimension")
    axes = _reduce_axes(x.ndim, axis)
    if scheme == "affine":
        return affine_qparams(x.min(axis=axes), x.max(axis=axes), bits=bits)
    return symmetric_qparams(np.abs(x).max(axis=axes), bits=bits)


def _params(x: np.ndarray, scale: Any, zero_point: Any, axis: int | None, qmin: int, qmax: int):
    """scale and zero_point checked and shaped to broadcast against x (per tensor or along `axis`)."""
    if isinstance(scale, (bool, np.bool_)) or getattr(scale, "dtype", None) == np.bool_:
        raise TypeError("scale must be real numbers, got booleans")
    scale = as_float_array(np.atleast_1d(scale), "scale", ndim=1, dtype=x.dtype)
    if np.any(scale <= 0):
        raise ValueError("scale must be > 0")
    zp = np.atleast_1d(np.asarray(zero_point))
    if zp.dtype == object or not np.issubdtype(zp.dtype, np.integer):
        raise TypeError(f"zero_point must be an integer or integer array, got dtype {zp.dtype}")
    if zp.ndim != 1:
        raise ValueError(f"zero_point must be a scalar or 1-D, got shape {zp.shape}")
    if np.any(zp < qmin) or np.any(zp > qmax):
        raise ValueError(f"zero_point must lie in the code range {qmin}..{qmax}")
    if axis is None:
        if scale.size != 1 or zp.size != 1:
            raise ValueError("per-channel scale/zero_point need an axis")
        return scale.reshape(()), zp.astype(np.int64).reshape(())
    if x.ndim == 0:
        raise ValueError("axis needs an x with at least one dimension")
    axis = as_int(axis, "axis", minimum=-x.ndim, maximum=x.ndim - 1) % x.ndim
    channels = x.shape[axis]
    if scale.size not in (1, channels) or zp.size not in (1, channels):
        raise ValueError(f"scale and zero_point need 1 or {channels} entries (x.shape[{axis}]), "
                         f"got {scale.size} and {zp.size}")
    shape = [1] * x.ndim
    shape[axis] = -1
    return (np.broadcast_to(scale, (channels,)).reshape(shape),
            np.broadcast_to(zp.astype(np.int64), (channels,)).reshape(shape))


def quantize(x: Any, scale: Any, zero_point: Any = 0, *, bits: int = 8, signed: bool = False,
             axis: int | None = None) -> np.ndarray:
    """Integer codes clip(rint(x / scale) + zero_point, qmin, qmax) as int64 (round half to even)."""
    x = _float(x, "x")
    qmin, qmax = qrange(bits, signed)
    scale, zp = _params(x, scale, zero_point, axis, qmin, qmax)
    with np.errstate(over="ignore"):  # a tiny scale may overflow x / scale to inf: it saturates like any big value
        codes = np.rint(x / scale) + zp
    return np.clip(codes, qmin, qmax).astype(np.int64)  # clipped before the cast, which would wrap


def dequantize(q: Any, scale: Any, zero_point: Any = 0, *, bits: int = 8, signed: bool = False,
               axis: int | None = None, dtype: Any = np.float64) -> np.ndarray:
    """Real values (q - zero_point) * scale, computed in `dtype` (float32 or float64)."""
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")
    codes = np.asarray(q) if not isinstance(q, (str, bytes)) and q is not None else None
    if codes is None or codes.dtype == object or not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"q must be an integer array of codes, got {type(q).__name__}")
    if codes.size == 0:
        raise ValueError("q must not be empty")
    qmin, qmax = qrange(bits, signed)
    if np.any(codes < qmin) or np.any(codes > qmax):
        raise ValueError(f"q must lie in the code range {qmin}..{qmax}")
    scale, zp = _params(codes.astype(dtype), scale, zero_point, axis, qmin, qmax)
    return ((codes.astype(np.int64) - zp).astype(dtype) * scale).astype(dtype)


def fake_quantize(x: Any, scale: Any, zero_point: Any = 0, *, bits: int = 8, signed: bool = False,
                  axis: int | None = None) -> np.ndarray:
    """dequantize(quantize(x)): x rounded to the nearest representable value, in x's float dtype."""
    x = _float(x, "x")
    q = quantize(x, scale, zero_point, bits=bits, signed=signed, axis=axis)
    return dequantize(q, np.asarray(scale, dtype=x.dtype), zero_point, bits=bits, signed=signed,
                      axis=axis, dtype=x.dtype.type)


def quantization_mse(x: Any, *, scheme: str = "symmetric", bits: int = 8, axis: int | None = None) -> float:
    """Mean squared error of min-max fake quantization of x (per tensor, or per channel along `axis`)."""
    x = _float(x, "x").astype(np.float64)
    if x.size > MAX_DIM * MAX_DIM:
        raise ValueError(f"x must have at most {MAX_DIM ** 2} elements, got {x.size}")
    scale, zp = calibrate(x, scheme=scheme, bits=bits, axis=axis)
    x_hat = fake_quantize(x, scale, zp, bits=bits, signed=scheme == "symmetric", axis=axis)
    return float(np.mean((x - x_hat) ** 2))
