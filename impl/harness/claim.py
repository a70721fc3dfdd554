"""The `claim` fixture's object: thresholds in, observations and checks out."""
from __future__ import annotations

import math
import operator
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq,
}


def plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples to plain JSON-able Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and callable(value.item):  # torch / jax 0-d arrays
        return plain(value.item())
    if hasattr(value, "tolist"):
        return plain(value.tolist())
    raise TypeError(f"cannot record a value of type {type(value).__name__}")


class Claim:
    """One claim under test.

    - `claim.t["name"]` / `claim.threshold("name")`: a threshold from specs/<lesson>/claims.yaml
      `<id>:`; a missing one is an error naming the claim and the key.
    - `claim.record(name=value, ...)`: what was measured (recorded even on a pass).
    - `claim.expect(name, observed, op, limit)`: record and assert one comparison;
      `limit` is a threshold name (preferred) or a number for exact identities.
    - `claim.track_max(name, value)`: keep the worst case over hypothesis examples.
    - `claim.plot(...)`: a declarative plot the report renders.
    - `claim.rng(seed)`: a seeded generator; the seed is recorded.

    A claim marked `@pytest.mark.known_refuted("check", source=...)` names the one check that refutes
    the sources' statement: when that `expect` fails it is recorded and does not raise, so the spec goes
    on and every other check must still hold; `known_refuted_outcome` says what became of it.
    """

    def __init__(self, claim_id: str, statement: str, thresholds: Mapping[str, Any], profile: str,
                 known_refuted_check: str | None = None):
        if known_refuted_check is not None and (not isinstance(known_refuted_check, str) or not known_refuted_check):
            raise ValueError(f"known_refuted_check must be a non-empty check name, got {known_refuted_check!r}")
        self.id = claim_id
        self.known_refuted_check = known_refuted_check
        self.statement = statement
        self.profile = profile
        self._thresholds = dict(thresholds)
        self.observed: dict[str, Any] = {}
        self._checks: dict[tuple, dict[str, Any]] = {}
        self.plots: list[dict[str, Any]] = []
        self.seeds: list[int] = []

    # -- thresholds -------------------------------------------------------------
    def threshold(self, name: str) -> Any:
        if name not in self._thresholds:
            raise KeyError(
                f"claim {self.id} has no threshold {name!r} in specs/<lesson>/claims.yaml under `{self.id}:` "
                f"(defined: {sorted(self._thresholds) or 'none'})"
            )
        return self._thresholds[name]

    @property
    def t(self) -> "_ThresholdView":
        return _ThresholdView(self)

    # -- observations -----------------------------------------------------------
    def record(self, **observed: Any) -> None:
        for name, value in observed.items():
            self.observed[name] = plain(value)

    @property
    def known_refuted_outcome(self) -> str | None:
        """For a known-refuted claim: "failed" (as expected), "held", or "not run" (the check never ran)."""
        if self.known_refuted_check is None:
            return None
        named = [check for check in self._checks.values() if check["name"] == self.known_refuted_check]
        if not named:
            return "not run"
        return "held" if all(check["ok"] for check in named) else "failed"

    @property
    def checks(self) -> list[dict[str, Any]]:
        """One entry per distinct check, holding its worst observation (over hypothesis examples)."""
        return list(self._checks.values())

    def track_max(self, name: str, value: float) -> None:
        """Keep the largest value seen under `name` (e.g. the worst error over examples)."""
        value = float(value)
        previous = self.observed.get(name)
        if previous is None or value > previous or math.isnan(value):
            self.observed[name] = value

    def expect(self, name: str, observed: Any, op: str, limit: str | float) -> None:
        """Record `observed` and assert `observed <op> limit`, saying by how much it missed."""
        if op not in _OPS:
            raise ValueError(f"op must be one of {sorted(_OPS)}, got {op!r}")
        limit_name = limit if isinstance(limit, str) else None
        limit_value = self.threshold(limit) if limit_name else limit
        observed = plain(observed)
        ok = bool(_OPS[op](observed, limit_value)) if not _is_nan(observed) else False
        key = (name, op, limit_name if limit_name else repr(limit_value))
        previous = self._checks.get(key)
        if previous is None or (previous["ok"] and not ok) or (ok == previous["ok"] and _worse(op, observed, previous["observed"])):
            self._checks[key] = {
                "name": name, "observed": observed, "op": op,
                "limit": plain(limit_value), "limit_name": limit_name, "ok": ok,
            }
        self.observed[name] = self._checks[key]["observed"]
        if name == self.known_refuted_check:
            self._checks[key]["known_refuted"] = True
            return  # the sources' statement fails here, as expected: recorded, and the spec goes on
        if not ok:
            label = f"{limit_name} = {limit_value!r}" if limit_name else repr(limit_value)
            gap = _gap(observed, limit_value)
            raise AssertionError(
                f"{self.id}: {name} = {observed!r} is not {op} {label}{gap}"
            )

    def plot(
        self,
        title: str,
        x: Sequence[Any],
        series: Mapping[str, Sequence[float]],
        *,
        xlabel: str = "",
        ylabel: str = "",
        kind: str = "line",
        logx: bool = False,
        logy: bool = False,
        hline: float | None = None,
    ) -> None:
        """Declare a plot for the report: one x axis, one or more named y series."""
        if kind not in ("line", "bar", "scatter"):
            raise ValueError(f"kind must be line, bar or scatter, got {kind!r}")
        for label, values in series.items():
            if len(values) != len(x):
                raise ValueError(f"series {label!r} has {len(values)} points, x has {len(x)}")
        self.plots.append({
            "title": title, "x": plain(list(x)),
            "series": {label: plain(list(values)) for label, values in series.items()},
            "xlabel": xlabel, "ylabel": ylabel, "kind": kind,
            "logx": logx, "logy": logy, "hline": hline,
        })

    def rng(self, seed: int) -> np.random.Generator:
        self.use_seed(seed)
        return np.random.default_rng(seed)

    def use_seed(self, seed: int) -> int:
        seed = int(seed)
        if seed not in self.seeds:
            self.seeds.append(seed)
        return seed


class _ThresholdView:
    def __init__(self, claim: Claim):
        self._claim = claim

    def __getitem__(self, name: str) -> Any:
        return self._claim.threshold(name)


def _worse(op: str, new: Any, old: Any) -> bool:
    """Is `new` closer to (or further past) the limit than `old`, for this comparison?"""
    try:
        if op in ("<=", "<"):
            return new > old
        if op in (">=", ">"):
            return new < old
        return new != old and old == old  # equality: keep the first mismatch
    except TypeError:
        return False


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _gap(observed: Any, limit: Any) -> str:
    if isinstance(observed, (int, float)) and isinstance(limit, (int, float)) and not _is_nan(observed):
        diff = observed - limit
        rel = f", {diff / limit:+.3g} relative" if limit else ""
        return f" (off by {diff:+.4g}{rel})"
    return ""
