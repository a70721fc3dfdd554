"""Comparing two answers of one function: the equivalent-input and absurd-value probes of the bad-input
sweep (`impl.harness.sweep`) ask whether an answer equals the valid call's (`same_answer`, at the precision
the inputs carry: `input_bits`) and whether it holds a NaN or infinity the valid answer has not (`non_finite`).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

__all__ = ["same_answer", "non_finite", "input_bits"]


def _as_array(value: Any) -> np.ndarray | None:
    """A NumPy view of an array-like answer (NumPy, torch, JAX, NumPy scalar), else None."""
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "__array__") and hasattr(value, "shape") and hasattr(value, "dtype"):
        return np.asarray(value)
    return None


def _float_bits(dtype: np.dtype) -> int:
    return np.dtype(dtype).itemsize * 8 if np.issubdtype(dtype, np.floating) else 64


def input_bits(value: Any) -> int:
    """The float precision an equivalent input carries (64 unless it is a float32/float16 array, scalar or tensor)."""
    if isinstance(value, (list, tuple)) or value is None:
        return 64
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return 64
    if type(value).__module__.startswith("torch"):
        return {"torch.float32": 32, "torch.float16": 16, "torch.bfloat16": 8}.get(str(dtype), 64)
    return _float_bits(dtype) if np.issubdtype(np.dtype(dtype), np.floating) else 64


# A field or key named like a wall-clock reading (epoch_seconds, fit_time, latency_ms, elapsed) differs
# between two identical calls: only its type and shape are compared.
_TIMING = re.compile(r"(^|_)(seconds|secs|time|times|ms|latency|elapsed|wall)($|_)|_s$", re.IGNORECASE)


def _timing(where: str) -> bool:
    last = re.split(r"[.\[]", re.sub(r"\[\d+\]", "", where))[-1].strip("]'\"")  # the innermost name, not an index
    return bool(_TIMING.search(last))


def same_answer(good: Any, other: Any, bits: int = 64, where: str = "answer") -> str | None:
    """None if `other` equals `good`: arrays and numbers within the precision of the lower float dtype
    involved (`bits` from the input; rtol = sqrt(eps), atol = rtol * the good answer's largest entry),
    exactly when both are integer or bool; tuples, lists, dicts, NamedTuples and dataclasses field by
    field; None, str and bytes exactly; any other object only by type; a field named like a timing
    (`epoch_seconds`, `fit_time`) only by type and shape. Otherwise where they differ."""
    if good is None or isinstance(good, (str, bytes)):
        return None if other == good else f"{where}: {other!r:.80} != {good!r:.80}"
    if dataclasses.is_dataclass(good) and not isinstance(good, type):
        if type(other) is not type(good):
            return f"{where}: {type(other).__name__} != {type(good).__name__}"
        for item in dataclasses.fields(good):
            found = same_answer(getattr(good, item.name), getattr(other, item.name), bits, f"{where}.{item.name}")
            if found:
                return found
        return None
    if isinstance(good, dict):
        if not isinstance(other, dict) or set(other) != set(good):
            return f"{where}: keys {sorted(map(str, other)) if isinstance(other, dict) else type(other).__name__} " \
                   f"!= {sorted(map(str, good))}"
        return next((found for key in good
                     if (found := same_answer(good[key], other[key], bits, f"{where}[{key!r}]"))), None)
    if isinstance(good, (tuple, list)):
        if not isinstance(other, (tuple, list)) or len(other) != len(good):
            return f"{where}: {type(other).__name__} of {len(other) if hasattr(other, '__len__') else '?'} " \
                   f"!= {type(good).__name__} of {len(good)}"
        names = getattr(good, "_fields", None)
        for index, (a, b) in enumerate(zip(good, other)):
            found = same_answer(a, b, bits, f"{where}.{names[index]}" if names else f"{where}[{index}]")
            if found:
                return found
        return None
    numeric = (int, float, bool, np.generic)
    a = np.asarray(good) if isinstance(good, numeric) else _as_array(good)
    if a is None:  # another object (a model, a session): the same class by name (a class built per call counts)
        same = (type(other).__module__, type(other).__qualname__) == (type(good).__module__, type(good).__qualname__)
        return None if same else f"{where}: {type(other).__name__} != {type(good).__name__}"
    b = np.asarray(other) if isinstance(other, numeric) else _as_array(other)
    if b is None:
        return f"{where}: {type(other).__name__} != {type(good).__name__}"
    if a.shape != b.shape:
        return f"{where}: shape {b.shape} != {a.shape}"
    if _timing(where):
        return None
    if a.dtype.kind not in "biuf" or b.dtype.kind not in "biuf":
        return None if np.array_equal(a, b) else f"{where}: {b!r:.80} != {a!r:.80}"
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        return None if np.array_equal(a, b) else f"{where}: integers differ ({int(np.sum(a != b))} of {a.size})"
    bits = min(bits, _float_bits(a.dtype), _float_bits(b.dtype))
    rtol = float(np.sqrt(np.finfo({64: np.float64, 32: np.float32}.get(bits, np.float16)).eps))
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    scale = float(np.max(np.abs(a64[np.isfinite(a64)]), initial=0.0))
    if np.allclose(b64, a64, rtol=rtol, atol=rtol * scale, equal_nan=True):
        return None
    worst = float(np.nanmax(np.abs(b64 - a64))) if a.size else 0.0
    return f"{where}: differs by up to {worst:.3g} (rtol {rtol:.2g} at float{bits})"


def non_finite(answer: Any, good: Any = None, where: str = "answer") -> str | None:
    """Where `answer` (arrays, tensors and numbers, inside tuples, lists, dicts, NamedTuples and dataclasses)
    holds a NaN or an infinity that the valid call's answer `good` has not at the same place (a NaN that
    marks a missing value by design, as in the valid answer, is not a finding), or None."""
    if dataclasses.is_dataclass(answer) and not isinstance(answer, type):
        return next((found for item in dataclasses.fields(answer)
                     if (found := non_finite(getattr(answer, item.name), getattr(good, item.name, None),
                                             f"{where}.{item.name}"))), None)
    if isinstance(answer, dict):
        good = good if isinstance(good, dict) else {}
        return next((found for key, value in answer.items()
                     if (found := non_finite(value, good.get(key), f"{where}[{key!r}]"))), None)
    if isinstance(answer, (tuple, list)):
        names = getattr(answer, "_fields", None)
        good = good if isinstance(good, (tuple, list)) and len(good) == len(answer) else [None] * len(answer)
        return next((found for index, (value, model) in enumerate(zip(answer, good))
                     if (found := non_finite(value, model, f"{where}.{names[index]}" if names else f"{where}[{index}]"))),
                    None)
    array = np.asarray(answer) if isinstance(answer, (int, float, np.generic)) else _as_array(answer)
    if array is None or array.dtype.kind not in "fc" or np.all(np.isfinite(array)):
        return None
    bad = ~np.isfinite(array)
    reference = np.asarray(good) if isinstance(good, (int, float, np.generic)) else _as_array(good)
    if reference is not None and reference.shape == array.shape and reference.dtype.kind in "fc":
        bad &= np.isfinite(reference)
    return f"{where} holds {int(np.sum(bad))} non-finite value(s)" if bad.any() else None
