"""Argument kinds for the bad-input sweep (`impl.harness.sweep`): a valid value and the bad values it implies.

`Matrix(good)` knows NaN, inf, empty, one rank less and more, text, complex, object and None;
`Count(good, minimum, maximum)` knows minimum - 1, maximum + 1, 2**62, 1.5, "3", None and True;
and so on. A spec names each argument's kind once; it never lists bad values itself.

A kind with a stated range also knows its legal *edges* (`edges()`: a count's minimum, a real's closed
lower bound, seed 0 and the largest seed, and the upper end where the table declares it cheap, `cheap_max`
and `cheap_high`), which the function must not refuse by that argument's name.

Each kind also knows values *equivalent* to its good one (`equivalent()`): equal in value, only
spelled differently (a nested list, a strided, Fortran-ordered or negatively strided view, the
other float dtype where every entry is exactly representable, NumPy scalars for counts, reals and
flags, int32 labels). A function must answer them as it answers the good value.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from impl.checks import MAX_SEED

HUGE = 2**62  # a count no lesson needs: must be refused up front, not looped over or allocated
ABSURD = 1e300  # a legal real no lesson means: a learning rate, a noise scale or a weight that large


class Lazy:
    """A good value built on first use (e.g. an object whose library is slow to import)."""

    def __init__(self, factory: Callable[[], Any]):
        self.factory = factory

    def __repr__(self) -> str:
        return f"Lazy({getattr(self.factory, '__name__', self.factory)!r})"


class Kind:
    """An argument's valid value (`good`, possibly `Lazy`) and the invalid values it knows for itself."""

    def __init__(self, good: Any):
        self._good = good

    @property
    def good(self) -> Any:
        if isinstance(self._good, Lazy):
            self._good = self._good.factory()
        return self._good

    def bad(self) -> list[tuple[str, Any]]:
        """(label, value) pairs, each of which the function must refuse."""
        raise NotImplementedError

    def probes(self, name: str) -> list[tuple[str, Any, str]]:
        """(label, bad value, name the error message must carry)."""
        return [(label, value, name) for label, value in self.bad()]

    def equivalent(self) -> list[tuple[str, Any]]:
        """(label, value) pairs equal in value to `good`, each of which must get the good value's answer."""
        return []

    def edges(self) -> list[tuple[str, Any]]:
        """(label, value) pairs at the stated range's lower end (and a seed's upper end), each legal: the function
        must not refuse them by this argument's name (a bound written one off refuses a value the table allows)."""
        return []

    def absurd(self) -> list[tuple[str, Any]]:
        """(label, value) pairs that are legal but absurd (a learning rate of 1e300): each must get a finite
        answer or a clear error (the argument named, or that the computation diverged), never NaN or inf."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.good!r})"


class Fixed(Kind):
    """Passed as given and never swept (e.g. an object another case already sweeps)."""

    def bad(self):
        return []


class Optional(Kind):
    """Another kind for which None is a valid value (an omitted optional argument)."""

    def __init__(self, kind: Kind):
        super().__init__(kind.good)
        self.kind = kind

    def bad(self):
        return [(label, value) for label, value in self.kind.bad() if value is not None]

    def equivalent(self):
        return self.kind.equivalent()


def _exact(good: np.ndarray, dtype: Any) -> bool:
    """Does casting `good` to `dtype` keep every entry's value exactly?"""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.array_equal(good.astype(dtype).astype(good.dtype), good))


def _other_dtype(good: np.ndarray, pairs: dict) -> list[tuple[str, Any]]:
    """`good` in the paired dtype (float64 <-> float32, int64 <-> int32) when every entry survives the cast."""
    other = pairs.get(good.dtype.type)
    return [(np.dtype(other).name, good.astype(other))] if other is not None and _exact(good, other) else []


_FLOATS = {np.float64: np.float32, np.float32: np.float64}
_INTS = {np.int64: np.int32, np.int32: np.int64}


def _views(good: np.ndarray) -> list[tuple[str, Any]]:
    """Views equal in value to `good`: every other row of a doubled array, Fortran order, a negative stride."""
    out = [("strided", np.repeat(good, 2, axis=0)[::2])]
    if good.ndim >= 2:
        out.append(("fortran", np.asfortranarray(good)))
    out.append(("reversed-view", good[::-1].copy()[::-1]))
    return out


def _wrong_ranks(good: np.ndarray) -> list[tuple[str, Any]]:
    """One rank less (the first row, or the first entry of a vector) and one more (a trailing axis)."""
    return [(f"{good.ndim - 1}-D", good[0]), (f"{good.ndim + 1}-D", good[..., None])]


class Array(Kind):
    """A finite real array of the good value's rank.

    Bad: a NaN and an infinite entry, empty (no rows), one rank less and more, text, complex and
    object dtypes, None; with `linked=True` (its length must match another argument) one row short.
    """

    def __init__(self, good: Any, *, linked: bool = False):
        super().__init__(np.asarray(good))
        if self.good.ndim == 0 or self.good.size == 0:
            raise ValueError(f"good must be a non-empty array, got shape {self.good.shape}")
        self.linked = linked

    def bad(self):
        good = self.good
        nan, inf = good.astype(np.float64), good.astype(np.float64)
        nan.flat[0], inf.flat[-1] = np.nan, np.inf
        out = [("nan", nan), ("inf", inf), ("empty", good[:0])] + _wrong_ranks(good)
        out += [("text", np.full(good.shape, "a")), ("complex", good + 1j),
                ("object", good.astype(object)), ("None", None)]
        if self.linked:
            out.append(("one-row-short", good[:-1]))
        return out

    def equivalent(self):
        """The nested list, strided / Fortran / negatively strided views, the other float dtype (if exact)."""
        return [("list", self.good.tolist())] + _views(self.good) + _other_dtype(self.good, _FLOATS)


def Matrix(good: Any, *, linked: bool = False) -> Array:
    """A finite 2-D real array (see `Array`)."""
    kind = Array(good, linked=linked)
    if kind.good.ndim != 2:
        raise ValueError(f"Matrix needs a 2-D good value, got shape {kind.good.shape}")
    return kind


def Vector(good: Any, *, linked: bool = False) -> Array:
    """A finite 1-D real array (see `Array`)."""
    kind = Array(good, linked=linked)
    if kind.good.ndim != 1:
        raise ValueError(f"Vector needs a 1-D good value, got shape {kind.good.shape}")
    return kind


class Labels(Kind):
    """1-D integer class labels (in 0..num_classes-1 when given).

    Bad: non-integer floats, a negative label, a label >= num_classes, empty, 2-D, text, None;
    with `linked=True` one label short.
    """

    def __init__(self, good: Any, num_classes: int | None = None, *, linked: bool = False):
        super().__init__(np.asarray(good))
        if self.good.ndim != 1 or self.good.size == 0 or not np.issubdtype(self.good.dtype, np.integer):
            raise ValueError("good must be non-empty 1-D integer labels")
        self.num_classes, self.linked = num_classes, linked

    def bad(self):
        good = self.good
        negative, above = good.copy(), good.copy()
        negative[0] = -1
        out = [("fractional", good + 0.5), ("negative", negative), ("empty", good[:0]),
               ("2-D", good[:, None]), ("text", np.full(good.shape, "a")), ("None", None)]
        if self.num_classes is not None:
            above[-1] = self.num_classes
            out.append((f"label-{self.num_classes}", above))
        if self.linked:
            out.append(("one-short", good[:-1]))
        return out

    def equivalent(self):
        """The list, a strided and a negatively strided view, int32 for int64 labels (and back)."""
        return [("list", self.good.tolist())] + _views(self.good) + _other_dtype(self.good, _INTS)


class Images(Kind):
    """A non-empty uint8 image stack (n, h, w[, c]).

    Bad: float dtype, one pixel row short per image, flattened images, empty, text, None;
    with `linked=True` one image short.
    """

    def __init__(self, good: Any, *, linked: bool = False):
        super().__init__(np.asarray(good))
        if self.good.dtype != np.uint8 or self.good.ndim < 3 or self.good.shape[0] == 0:
            raise ValueError("good must be a non-empty uint8 image stack (n, h, w[, c])")
        self.linked = linked

    def bad(self):
        good = self.good
        out = [("float", good.astype(np.float64)), ("wrong-size", good[:, :-1]),
               ("flattened", good.reshape(len(good), -1)), ("empty", good[:0]),
               ("text", np.full(good.shape, "a")), ("None", None)]
        if self.linked:
            out.append(("one-short", good[:-1]))
        return out

    def equivalent(self):
        """Strided and negatively strided views (still uint8: a list would lose the dtype)."""
        return [(label, value) for label, value in _views(self.good) if label != "fortran"]


class Tensor(Kind):
    """A torch tensor like `good`: finite floats, or integer labels in 0..num_classes-1.

    Bad: NaN and inf (float), a negative and a too-large label (integer), empty, one rank less and
    more, the other dtype, a NumPy array instead of a tensor, text, None; `linked`: one row short.
    """

    def __init__(self, good: Any, num_classes: int | None = None, *, linked: bool = False):
        super().__init__(good)
        self.num_classes, self.linked = num_classes, linked

    def bad(self):
        good = self.good
        out: list[tuple[str, Any]] = []
        if good.is_floating_point():
            nan, inf = good.clone(), good.clone()
            nan.view(-1)[0], inf.view(-1)[-1] = float("nan"), float("inf")
            out += [("nan", nan), ("inf", inf), ("integer-dtype", good.long())]
        else:
            negative = good.clone()
            negative.view(-1)[0] = -1
            out += [("negative", negative), ("float-dtype", good.double())]
            if self.num_classes is not None:
                above = good.clone()
                above.view(-1)[-1] = self.num_classes
                out.append((f"label-{self.num_classes}", above))
        lower = good.reshape(-1) if good.ndim > 1 else good[0]
        out += [("empty", good[:0]), (f"{good.ndim - 1}-D", lower), (f"{good.ndim + 1}-D", good.unsqueeze(-1)),
                ("numpy", good.numpy()), ("text", "tensor"), ("None", None)]
        if self.linked:
            out.append(("one-row-short", good[:-1]))
        return out

    def equivalent(self):
        """A non-contiguous view (every other row of a doubled tensor) and, for floats, the other
        float dtype when every entry survives the cast."""
        import torch

        good = self.good
        out = [("strided", torch.repeat_interleave(good, 2, dim=0)[::2])]
        if good.is_floating_point():
            other = {torch.float64: torch.float32, torch.float32: torch.float64}.get(good.dtype)
            if other is not None and bool(torch.equal(good.to(other).to(good.dtype), good)):
                out.append((str(other).replace("torch.", ""), good.to(other)))
        return out

    def __repr__(self) -> str:
        return f"Tensor(shape={tuple(self.good.shape)})"


class Count(Kind):
    """An integer in [minimum, maximum]. Bad: minimum - 1, maximum + 1, 2**62 (always: every count
    needs an upper bound), 1.5, "3", None, True. `cheap_max=True` says the maximum costs no more to call
    than the good value (an axis, a bit width, a kernel size), so it is probed as a legal edge too."""

    def __init__(self, good: int, minimum: int = 1, maximum: int | None = None, *, cheap_max: bool = False):
        super().__init__(good)
        if cheap_max and maximum is None:
            raise ValueError("cheap_max needs a maximum")
        self.minimum, self.maximum, self.cheap_max = minimum, maximum, cheap_max

    def bad(self):
        out = [(f"below-{self.minimum}", self.minimum - 1)]
        if self.maximum is not None and self.maximum + 1 < HUGE:
            out.append((f"above-{self.maximum}", self.maximum + 1))
        return out + [("2**62", HUGE), ("1.5", 1.5), ("'3'", "3"), ("None", None), ("True", True)]

    def edges(self):
        """The minimum, and the maximum where it is declared cheap (otherwise it is left out: an upper bound is
        often a cap, hours of work away)."""
        ends = [(f"minimum-{self.minimum}", self.minimum)]
        if self.cheap_max:
            ends.append((f"maximum-{self.maximum}", self.maximum))
        return [(label, value) for label, value in ends if value != self.good]

    def equivalent(self):
        return _integers(self.good)


def _integers(good: int) -> list[tuple[str, Any]]:
    """np.int64(good) and np.int32(good) (when it fits)."""
    out = [("int64", np.int64(good))]
    return out + [("int32", np.int32(good))] if abs(good) < 2**31 else out


class Seed(Kind):
    """A seed: an integer in [0, maximum], by default `checks.MAX_SEED` (2**32 - 1), the range every framework
    of the course takes (`checks.as_seed`). Bad: -1, maximum + 1, 1.5, "0", None, True."""

    def __init__(self, good: int = 0, maximum: int | None = MAX_SEED):
        super().__init__(good)
        self.maximum = maximum

    def bad(self):
        above = [] if self.maximum is None else [(f"above-{self.maximum}", self.maximum + 1)]
        return [("-1", -1)] + above + [("1.5", 1.5), ("'0'", "0"), ("None", None), ("True", True)]

    def edges(self):
        """0 and the maximum: every seed in between is as cheap as the good one."""
        ends = [("0", 0)] + ([] if self.maximum is None else [(f"maximum-{self.maximum}", self.maximum)])
        return [(label, value) for label, value in ends if value != self.good]

    def equivalent(self):
        return _integers(self.good)


class Real(Kind):
    """A finite real number within [low, high] (open ends with `low_open` / `high_open`).

    Bad: NaN, +-inf, just outside each given bound, None, "x", True."""

    def __init__(self, good: float, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, high_open: bool = False, cheap_high: bool = False):
        super().__init__(good)
        if cheap_high and (high is None or high_open):
            raise ValueError("cheap_high needs a closed upper bound")
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        self.cheap_high = cheap_high

    def bad(self):
        out = [("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf)]
        if self.low is not None:
            out.append((f"below-{self.low}", self.low if self.low_open else self.low - 1.0))
        if self.high is not None:
            out.append((f"above-{self.high}", self.high if self.high_open else self.high + 1.0))
        return out + [("None", None), ("'x'", "x"), ("True", True)]

    def edges(self):
        """A closed lower bound, and a closed upper one where it is declared cheap (`cheap_high`: a probability's
        1.0; otherwise it is left out, often a cap, like float32's largest learning rate)."""
        ends = [] if self.low is None or self.low_open else [(f"minimum-{self.low}", self.low)]
        if self.cheap_high:
            ends.append((f"maximum-{self.high}", self.high))
        return [(label, value) for label, value in ends if value != self.good]

    def absurd(self):
        """1e300 where no upper bound is given, -1e300 where no lower bound is."""
        return ([("1e300", ABSURD)] if self.high is None else []) + ([("-1e300", -ABSURD)] if self.low is None else [])

    def equivalent(self):
        """np.float64(good) and np.float32(good) when float32 holds it exactly."""
        out = [("float64", np.float64(self.good))]
        return out + [("float32", np.float32(self.good))] if float(np.float32(self.good)) == self.good else out


class Flag(Kind):
    """A bool. Bad: None, "yes", 2."""

    def bad(self):
        return [("None", None), ("'yes'", "yes"), ("2", 2)]

    def equivalent(self):
        return [("bool_", np.bool_(self.good))]


class Choice(Kind):
    """One of a fixed set of names. Bad: an unknown name, None, 3."""

    def __init__(self, good: Any, choices: Sequence[Any]):
        super().__init__(good)
        self.choices = tuple(choices)

    def bad(self):
        return [("unknown", "no-such-choice"), ("None", None), ("3", 3)]


class Text(Kind):
    """A str. Bad: bytes, 3, None, and "" when `nonempty`."""

    def __init__(self, good: str, *, nonempty: bool = True):
        super().__init__(good)
        self.nonempty = nonempty

    def bad(self):
        out = [("bytes", b"text"), ("3", 3), ("None", None)]
        return out + [("empty", "")] if self.nonempty else out


class Bytes(Kind):
    """bytes. Bad: str, 3, None, and b"" when `nonempty`."""

    def __init__(self, good: bytes, *, nonempty: bool = True):
        super().__init__(good)
        self.nonempty = nonempty

    def bad(self):
        out = [("str", "text"), ("3", 3), ("None", None)]
        return out + [("empty", b"")] if self.nonempty else out


class PathArg(Kind):
    """A filesystem path (str or os.PathLike). Bad: "", 3, None."""

    def bad(self):
        return [("empty", ""), ("3", 3), ("None", None)]


class Instance(Kind):
    """An object of a given kind (a model, a fitted result, a callable, an iterator, ...).
    Bad: None, 3, "x". A record (a NamedTuple: a fitted PCA, a ratings table, a mixture) passed whole also has
    its fields probed: each float field with a NaN in it must be refused by the field's name, as a NaN argument
    is; `nan_fields` lists fields where NaN is a valid value (a pruned trial's missing score), with the reason."""

    def __init__(self, good: Any, *, nan_fields: dict[str, str] | None = None):
        super().__init__(good)
        self.nan_fields = dict(nan_fields or {})
        if not all(reason for reason in self.nan_fields.values()):
            raise ValueError("each of nan_fields needs the reason NaN is valid there")

    def bad(self):
        return [("None", None), ("3", 3), ("'x'", "x")]

    def probes(self, name: str) -> list[tuple[str, Any, str]]:
        good = self.good
        if not _is_record(good):
            return super().probes(name)
        unknown = sorted(set(self.nan_fields) - set(good._fields))
        if unknown:
            raise ValueError(f"{type(good).__name__} has no fields {unknown}")
        return super().probes(name) + [(f"{field}=nan", value, field) for field, value in _nan_fields(good)
                                       if field not in self.nan_fields]


def _is_record(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _nan_fields(record: Any) -> list[tuple[str, Any]]:
    """(field, a copy of `record` with a NaN in that field) for each non-empty float array or float field."""
    out = []
    for field in record._fields:
        value = getattr(record, field)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size:
            bad = value.copy()
            bad.flat[0] = np.nan
        elif isinstance(value, (float, np.floating)):
            bad = float("nan")
        else:
            continue
        out.append((field, record._replace(**{field: bad})))
    return out


class Rng(Kind):
    """A `numpy.random.Generator`. Bad: None, an int seed, a legacy RandomState, "rng"."""

    def __init__(self, good: np.random.Generator | None = None):
        super().__init__(np.random.default_rng(0) if good is None else good)

    def bad(self):
        return [("None", None), ("int", 0), ("RandomState", np.random.RandomState(0)), ("'rng'", "rng")]


class Counts(Kind):
    """A non-empty tuple of counts, each in [minimum, maximum].
    Bad: (), a count below minimum, (2**62,), a fractional count, a bare int, None."""

    def __init__(self, good: tuple[int, ...], minimum: int = 1):
        super().__init__(tuple(good))
        self.minimum = minimum

    def bad(self):
        return [("empty", ()), (f"below-{self.minimum}", (self.minimum - 1,) + self.good[1:]),
                ("2**62", (HUGE,) + self.good[1:]), ("1.5", (1.5,) + self.good[1:]),
                ("bare-int", self.good[0]), ("None", None)]


class ArrayDict(Kind):
    """A non-empty dict of name -> numeric array. Bad: {}, a non-str key, an object array, a list, None."""

    def bad(self):
        name = next(iter(self.good))
        return [("empty", {}), ("int-key", {3: self.good[name]}),
                ("object-array", {name: np.array([object()], dtype=object)}),
                ("list", list(self.good.values())), ("None", None)]


class Fields(Kind):
    """A NamedTuple whose listed fields are swept by their own kinds (the message must name the
    field); the whole argument is also replaced by None, 3 and "x" (the message names the argument).
    Each field's legal edges are probed too (`field_edges`)."""

    def __init__(self, good: Any, **fields: Kind):
        super().__init__(good)
        unknown = set(fields) - set(good._fields)
        if unknown:
            raise ValueError(f"{type(good).__name__} has no fields {sorted(unknown)}")
        self.fields = fields

    def bad(self):
        return Instance(self.good).bad()

    def probes(self, name):
        out = super().probes(name)
        for field_name, kind in self.fields.items():
            out += [(f"{field_name}={label}", self.good._replace(**{field_name: value}), field_name)
                    for label, value in kind.bad()]
        return out

    def field_edges(self) -> list[tuple[str, str, Any]]:
        """(field, label, record) for every legal edge of every listed field (`Kind.edges`), the others good:
        the function must not refuse the record by that field's name."""
        return [(field_name, label, self.good._replace(**{field_name: value}))
                for field_name, kind in self.fields.items() for label, value in kind.edges()]

    def __repr__(self) -> str:
        return f"Fields({type(self.good).__name__})"
