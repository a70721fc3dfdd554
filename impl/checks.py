"""Input validation shared by every public impl function.

Each helper raises ValueError/TypeError whose message names the argument, so a
learner passing a NaN-filled or mis-shaped array is told what to fix.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np

# Upper bounds on counts. A count past them is a typo or an overflow, never a lesson's workload;
# refusing it up front beats an allocation error, an hours-long loop or an abort inside XLA.
MAX_STEPS = 10**7    # loop iterations (optimizer steps, epochs, scan length): the course's longest run is 20,000
MAX_SAMPLES = 10**8  # values drawn or held at once (800 MB of float64): the course's largest is 10^6 people
MAX_DIM = 10**5      # one side of a dense matrix or a layer's width (a 10^5-square float64 matrix is 80 GB)
MAX_SEED = 2**32 - 1  # the seeds every framework here takes: NumPy's legacy RandomState (so sklearn and Optuna's
                      # samplers), PyMC, torch and TF; torch overflows past 2**64, RandomState past 2**32


FLOAT32_MAX = float(np.finfo(np.float32).max)  # a torch/TF hyperparameter above this cannot even be represented


class DivergedError(ValueError):
    """A legal but absurd setting (a learning rate or a noise scale of 1e300) drove a computation to NaN or inf."""


def finite_or_diverged(value: Any, what: str, cause: str, *, verb: str = "diverged") -> Any:
    """`value` (an array, tensor or number) unchanged when every entry is finite; otherwise a DivergedError
    saying that `what` diverged (or `verb`: "overflowed" for a closed form) to NaN/inf and naming the likely
    `cause` (e.g. "lr = 1e+300"), never a NaN answer."""
    array = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
    if np.issubdtype(array.dtype, np.number) and not np.all(np.isfinite(array)):
        raise DivergedError(f"{what} {verb} to NaN/inf with {cause}: lower it")
    return value


def _forward(array: np.ndarray) -> np.ndarray:
    """`array`, copied when a stride is negative (a reversed view): `torch.from_numpy` and other
    frameworks refuse negative strides, and a learner's `x[::-1]` is as good an array as any."""
    return array.copy() if any(stride < 0 for stride in array.strides) else array


def as_float_array(
    value: Any, name: str, *, ndim: int | None = None, min_shape: tuple[int, ...] | None = None,
    dtype: Any = np.float64, allow_empty: bool = False,
) -> np.ndarray:
    """`value` as a finite floating array of the given rank; rejects NaN/inf, empty, wrong rank.
    A negatively strided view comes back copied (see `_forward`)."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of numbers: {exc}") from exc
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real, got dtype {array.dtype}")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    if array.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if min_shape is not None:
        for axis, (have, need) in enumerate(zip(array.shape, min_shape)):
            if have < need:
                raise ValueError(f"{name} needs at least {need} along axis {axis}, got shape {array.shape}")
    array = array.astype(dtype, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return _forward(array)


def as_matrix(value: Any, name: str, **kwargs: Any) -> np.ndarray:
    """A finite 2-D float64 array."""
    return as_float_array(value, name, ndim=2, **kwargs)


def as_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (not bool) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def as_seed(value: Any, name: str = "seed") -> int:
    """A random seed: an integer in [0, MAX_SEED], the range every framework of the course takes."""
    return as_int(value, name, minimum=0, maximum=MAX_SEED)


def as_float(
    value: Any, name: str, *, low: float | None = None, high: float | None = None,
    low_open: bool = False, high_open: bool = False,
) -> float:
    """A finite real number within the given (open or closed) bounds."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return value


def as_learning_rate(value: Any, name: str = "lr") -> float:
    """A learning rate for a torch optimizer: a finite real > 0 that float32 can hold (torch keeps it in float32)."""
    return as_float(value, name, low=0.0, low_open=True, high=FLOAT32_MAX)


def same_length(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} must have the same length, got {len(a)} and {len(b)}")


def as_bool(value: Any, name: str) -> bool:
    """A bool (NumPy's too); 1, "yes" or None are refused rather than read as truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def as_str(value: Any, name: str, *, choices: tuple[str, ...] | None = None) -> str:
    """A non-empty str, one of `choices` when given."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    if choices is not None and value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def as_bytes(value: Any, name: str, *, nonempty: bool = False) -> bytes:
    """bytes (bytearray and memoryview are read as bytes); str is refused: it has no byte encoding."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, got {type(value).__name__}")
    if nonempty and len(value) == 0:
        raise ValueError(f"{name} must not be empty")
    return value if isinstance(value, bytes) else bytes(value)


def as_path(value: Any, name: str):
    """A `pathlib.Path` from a non-empty str or an os.PathLike (an empty str would mean the CWD)."""
    import os
    from pathlib import Path

    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")
    if isinstance(value, str) and not value:
        raise ValueError(f"{name} must not be empty")
    return Path(value)


def as_callable(value: Any, name: str):
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def as_instance(value: Any, name: str, kind: type | tuple[type, ...]):
    """`value` itself when it is an instance of `kind`."""
    if not isinstance(value, kind):
        expected = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise TypeError(f"{name} must be a {expected}, got {type(value).__name__}")
    return value


def as_rng(value: Any, name: str) -> np.random.Generator:
    """A `numpy.random.Generator`: seeds are explicit, so an int or the legacy RandomState is refused."""
    if not isinstance(value, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(value).__name__}")
    return value


def as_labels(value: Any, name: str, *, num_classes: int | None = None) -> np.ndarray:
    """Non-empty 1-D integer class labels >= 0 (and < num_classes when given), returned unconverted
    (a negatively strided view copied)."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of integer labels, got {type(value).__name__}")
    labels = np.asarray(value)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must hold integer labels, got dtype {labels.dtype}")
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D label array, got shape {labels.shape}")
    if labels.min() < 0 or (num_classes is not None and labels.max() >= num_classes):
        bound = f"0..{num_classes - 1}" if num_classes is not None else ">= 0"
        raise ValueError(f"{name} must hold labels {bound}, got {int(labels.min())}..{int(labels.max())}")
    return _forward(labels)


def as_images(value: Any, name: str, *, shape: tuple[int, ...]) -> np.ndarray:
    """A non-empty uint8 stack (n, *shape), returned unconverted (a negatively strided view copied)."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a uint8 image array, got {type(value).__name__}")
    images = np.asarray(value)
    if images.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8 images, got dtype {images.dtype}")
    if images.shape[1:] != tuple(shape) or images.shape[0] == 0:
        expected = ", ".join(map(str, shape))
        raise ValueError(f"{name} must be non-empty images of shape (n, {expected}), got {images.shape}")
    return _forward(images)


def as_tensor(value: Any, name: str, *, ndim: int | None = None, min_ndim: int | None = None, floating: bool,
              num_classes: int | None = None, dtype: Any = None):
    """A non-empty torch tensor of rank `ndim` (or of rank `min_ndim` or more: give exactly one): finite
    floats, or integer labels in 0..num_classes-1; of exactly `dtype` when given (a model's weights' dtype:
    torch does not mix float dtypes in a matmul, and a silent cast would round the input)."""
    import torch

    if (ndim is None) == (min_ndim is None):
        raise ValueError("as_tensor needs exactly one of ndim and min_ndim")
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if floating != value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"{name} must be a {'floating-point' if floating else 'integer'} tensor, got {value.dtype}")
    if dtype is not None and value.dtype != dtype:
        raise TypeError(f"{name} must be a {dtype} tensor like the model's weights, got {value.dtype}")
    if (value.ndim != ndim if ndim is not None else value.ndim < min_ndim) or value.shape[0] == 0:
        rank = f"{ndim}-D" if ndim is not None else f"at least {min_ndim}-D"
        raise ValueError(f"{name} must be a non-empty {rank} tensor, got shape {tuple(value.shape)}")
    if floating and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    if not floating and (bool((value < 0).any()) or (num_classes is not None and bool((value >= num_classes).any()))):
        raise ValueError(f"{name} must hold labels in 0..{num_classes - 1 if num_classes else 'K-1'}")
    return value
