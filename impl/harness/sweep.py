"""The bad-input sweep: every exported function of a package, every argument, every bad value.

Like scikit-learn's `test_common.py`, the targets are discovered, not listed: `discover` imports
every module of a package and takes the functions named in its `__all__`. A lesson's spec holds
only data, one valid call template per function (`Case`), whose arguments are *kinds* that know
their own bad values (`impl.harness.kinds`: `Matrix(good)` knows NaN, inf, empty, wrong rank, text,
complex, None; `Count(good, minimum, maximum)` knows 0, 2**62, 1.5, "3", None, True; ...).

The sweep replaces one argument at a time by each of its bad values. The call must raise
ValueError or TypeError whose message names that argument (the exact parameter name, or the
field name for a swept NamedTuple field). Anything else is a failure: accepting the value,
another exception type, a message that does not name the argument, or still running after the
time limit (an unbounded count). Each call runs under a SIGALRM deadline, so a count that would
loop for hours is reported, not waited for; work stuck inside native code is only interrupted
when it returns to Python.

Structural failures too: a module without `__all__` ("declare the public API"), an exported
function without a case, a case for a function that is not exported, a parameter without a kind,
and a valid template that raises (for cases not marked heavy, the good call is made once).

Equivalent inputs, same answer: for a case not marked heavy, each argument is also replaced, one
at a time, by each value its kind knows as *equivalent* to the good one (`Kind.equivalent`: a
nested list, a strided or negatively strided view, the other float dtype, NumPy scalars, ...).
The answer must equal the good call's (`same_answer`: arrays within the precision of the lower
float dtype involved, exactly when integer; containers field by field; other objects only need
the call to succeed). A case may declare that an equivalent is refused because its type truly
matters (`case.rejects_equivalent("x", "float32", reason=...)`): then the call must raise
ValueError/TypeError naming the argument; or that its answer depends on the type by design
(`case.depends_on_type(...)`, `case.answers_vary(...)` for a timing): then it need only succeed.
An undeclared refusal, a declared one that is accepted, another answer, or any other exception is
a failure, named `function(argument~equivalent)`. A generator argument is copied for every call,
so each call draws the same numbers, and so is a torch model or optimizer (each trains from the
same weights). A length mismatch between linked arrays is a bad value (`linked=True`: one row short).

Legal edges: for a case not marked heavy, each argument is also set, one at a time, to the ends of
its stated range that its kind knows (`Kind.edges`: a count's minimum, a real's closed lower bound,
seed 0 and the largest seed, and an upper end the table declares cheap). A refusal naming that argument alone is a failure, `function(argument@edge)`:
the function's bound and the one the table states disagree (a bound written one off, a negative axis
refused). A refusal that also names another argument is a limit met jointly (indices in a table past a
count) and passes; so does one naming other arguments only.
A table declares the legal ends its kinds cannot reach with `case.accepts(label, naming=..., **values)`: a
bound on the items inside a list, or an upper end that is cheap for this function (the kinds leave upper ends
out, as a cap is often hours of work away). Each is probed the same way, `function(label)`.

A `HeavyCase` (sampling, training, loading artifacts) is never called with good values; its bad
calls must be refused before any work: one that opens a data file, starts a process or changes the
filesystem first (seen through Python's audit hooks) is a failure too.
"""
from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import os
import pkgutil
import re
import signal
import sys
import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from impl.harness.answers import input_bits, non_finite, same_answer
from impl.harness.kinds import Fields, Kind

# A call still running after this long accepted an unbounded count. Generous, because a good
# call may import a framework first (TensorFlow: 6-9 s quiet, several times that beside a CPU hog).
TIME_LIMIT_S = 60.0
_EXPECTED = (ValueError, TypeError)


# -- call templates ---------------------------------------------------------------
class Case:
    """A valid call of `function`, every argument given as a kind: `Case(svd.truncate, Matrix(A), Count(1, 0, 3))`.

    Every parameter must be given (Fixed opts one out of the sweep); the good call is made once.
    """

    heavy = False

    def __init__(self, function: Callable, /, *args: Any, **kwargs: Any):
        self.function = function
        self.signature = inspect.signature(function)
        self.bound = self.signature.bind_partial(*args, **kwargs)  # unknown names raise here; missing ones: problems()
        self.refused: dict[tuple[str, str], str] = {}  # (argument, equivalent's label) -> why its type matters
        self.type_dependent: dict[tuple[str, str], str] = {}  # answers by design depend on the type: only succeed
        self.varies: str | None = None
        self.divergence: str | None = None
        self.together: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []  # (label, values, names)
        self.legal: list[tuple[str, dict[str, Any], str]] = []  # (label, values, the argument at its edge)

    def refuses(self, label: str, *, naming: tuple[str, ...], **values: Any) -> "Case":
        """Declare a bad call the one-at-a-time sweep cannot reach: arguments each valid alone but not together
        (`simulations * n_per_group` over the sample cap), or a value bad for a reason only this function knows
        (a negative count in a contingency table). The call with `values` replacing the good ones must raise a
        ValueError/TypeError naming every argument in `naming`. Returns the case, for use inside a CASES list."""
        unknown = sorted(set(values) - set(self.signature.parameters))
        if not label or not values or unknown:
            raise ValueError(f"refuses needs a label and values for parameters of {self.name}"
                             + (f"; unknown: {unknown}" if unknown else ""))
        naming = tuple(naming) if isinstance(naming, (tuple, list)) else (naming,)
        if not naming or not all(isinstance(name, str) and name for name in naming):
            raise ValueError("naming must list the argument names the message must carry")
        self.together.append((label, dict(values), naming))
        return self

    def accepts(self, label: str, *, naming: str, **values: Any) -> "Case":
        """Declare a legal call at the end of a stated range that the kinds cannot reach: a bound on the items
        of a list (`layer_shapes=[(10**6, 1)]`), or an upper end that is cheap for this function. The call with
        `values` replacing the good ones must not be refused by argument `naming` (a bound written one off).
        Returns the case, for use inside a CASES list."""
        unknown = sorted(set(values) - set(self.signature.parameters))
        if not label or not values or unknown:
            raise ValueError(f"accepts needs a label and values for parameters of {self.name}"
                             + (f"; unknown: {unknown}" if unknown else ""))
        if naming not in values:
            raise ValueError(f"naming must be one of the arguments given a value, {sorted(values)}; got {naming!r}")
        if self.heavy:
            raise ValueError(f"{self.name} is a HeavyCase, never called with legal values: accepts would not run")
        self.legal.append((label, dict(values), naming))
        return self

    def rejects_equivalent(self, argument: str, label: str, *, reason: str) -> "Case":
        """Declare that `argument`'s equivalent `label` is refused (ValueError/TypeError naming it) because
        its type truly matters; `reason` says why. Returns the case, for use inside a CASES list."""
        if not reason:
            raise ValueError("reason must say why the type matters")
        self.refused[(argument, label)] = reason
        return self

    def depends_on_type(self, argument: str, label: str, *, reason: str) -> "Case":
        """Declare that `argument`'s equivalent `label` gets another answer by design (e.g. a tolerance
        scaled by the input's float eps); the call need only succeed. `reason` says why."""
        if not reason:
            raise ValueError("reason must say why the answer depends on the type")
        self.type_dependent[(argument, label)] = reason
        return self

    def answers_vary(self, *, reason: str) -> "Case":
        """Declare that two good calls answer differently (a timing, a fresh temporary path): equivalent
        calls then need only succeed. `reason` says why."""
        if not reason:
            raise ValueError("reason must say why the answer varies")
        self.varies = reason
        return self

    def reports_divergence(self, *, reason: str) -> "Case":
        """Declare that the answer reports divergence by design (an error norm that grows to inf is what a
        claim reads): a legal but absurd value may then be answered with inf or NaN, and need only not raise
        anything but a clean ValueError/TypeError. `reason` says why."""
        if not reason:
            raise ValueError("reason must say why the answer reports divergence")
        self.divergence = reason
        return self

    @property
    def name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"

    def problems(self) -> list[str]:
        """What is wrong with the template itself: missing parameters, values that are not kinds."""
        found = []
        for pname, parameter in self.signature.parameters.items():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            if pname not in self.bound.arguments:
                found.append(f"{self.name}: parameter {pname!r} has no kind in its case")
        for pname, value in self._arguments():
            if not isinstance(value, Kind):
                found.append(f"{self.name}: argument {pname!r} is {value!r}, not a kind (use Fixed to opt out)")
        return found

    def _arguments(self) -> Iterator[tuple[str, Any]]:
        for pname, value in self.bound.arguments.items():
            kind = self.signature.parameters[pname].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                yield from value.items()
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                yield from ((f"{pname}[{i}]", item) for i, item in enumerate(value))
            else:
                yield pname, value

    def _call(self, replace: dict[str, Any] | None = None) -> Callable[[], Any]:
        """A thunk calling the function with good values, except those in `replace` (name -> value).

        Generators, torch modules and optimizers are deep-copied per call, all with one memo, so that every
        call starts from the same state and objects that share parts (a model and its optimizer) still do."""
        args, kwargs, memo = [], {}, {}
        for pname, value in self.bound.arguments.items():
            kind = self.signature.parameters[pname].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                kwargs.update({key: _good(key, item, replace, memo) for key, item in value.items()})
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                args.extend(_good(f"{pname}[{i}]", item, replace, memo) for i, item in enumerate(value))
            elif kind is inspect.Parameter.KEYWORD_ONLY:
                kwargs[pname] = _good(pname, value, replace, memo)
            else:
                args.append(_good(pname, value, replace, memo))
        return lambda: self.function(*args, **kwargs)

    def probes(self) -> Iterator[tuple[str, Callable[[], Any], str | tuple[str, ...]]]:
        """(label, thunk, name(s) the message must carry) for every bad value of every argument, then for
        every bad combination declared with `refuses`."""
        for pname, kind in self._arguments():
            if isinstance(kind, Kind):
                for label, bad, expected in kind.probes(pname):
                    yield f"{pname}={label}", self._call({pname: bad}), expected
        for label, values, naming in self.together:
            yield label, self._call(values), naming

    def absurd_probes(self) -> Iterator[tuple[str, Callable[[], Any], str]]:
        """(label, thunk, argument) for every legal but absurd value of every argument (`Kind.absurd`)."""
        for pname, kind in self._arguments():
            if isinstance(kind, Kind):
                for label, value in kind.absurd():
                    yield f"{pname}={label}", self._call({pname: value}), pname

    def edge_probes(self) -> Iterator[tuple[str, Callable[[], Any], str, str]]:
        """(label, thunk, argument or field at its edge, the argument holding it) for every legal edge value of
        every argument (`Kind.edges`; of every listed field of a record, `Fields.field_edges`, held by the
        record's argument), then for every legal call declared with `accepts`."""
        for pname, kind in self._arguments():
            if isinstance(kind, Fields):
                for field_name, label, record in kind.field_edges():
                    yield f"{pname}.{field_name}@{label}", self._call({pname: record}), field_name, pname
            elif isinstance(kind, Kind):
                for label, value in kind.edges():
                    yield f"{pname}@{label}", self._call({pname: value}), pname, pname
        for label, values, name in self.legal:
            yield label, self._call(values), name, name

    def good_call(self) -> Callable[[], Any]:
        return self._call()

    def equivalents(self) -> Iterator[tuple[str, str, Any, Callable[[], Any]]]:
        """(argument, label, value, thunk) for every equivalent value of every argument."""
        for pname, kind in self._arguments():
            if isinstance(kind, Kind):
                for label, value in kind.equivalent():
                    yield pname, label, value, self._call({pname: value})


class HeavyCase(Case):
    """A case whose good call is expensive (sampling, training, loading artifacts): only its bad
    calls are made, and they must be refused before any heavy work starts."""

    heavy = True


def _good(pname: str, value: Any, replace: dict[str, Any] | None, memo: dict) -> Any:
    if replace and pname in replace:
        return replace[pname]
    value = value.good if isinstance(value, Kind) else value
    if not _stateful(value):
        return value
    try:
        return copy.deepcopy(value, memo)
    except Exception:  # noqa: BLE001 - an object that cannot be copied is shared, as before
        return value


def _stateful(value: Any) -> bool:
    """Is `value` state a call advances and a deep copy resets: a NumPy or torch generator, a torch module
    (trained in place) or optimizer? Copied per call, every call starts from the same state. Other objects
    (a study on a database, a session) are shared: copying them is neither cheap nor always possible."""
    if isinstance(value, np.random.Generator):
        return True
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, (torch.nn.Module, torch.optim.Optimizer, torch.Generator))


# -- discovery --------------------------------------------------------------------
Packages = ModuleType | str | tuple  # a package, a plain module, or a tuple of either (a lesson and a shared module)


def _modules(package: Packages) -> list[ModuleType]:
    """`package` and every module under it (a plain module alone); each in turn for a tuple."""
    if isinstance(package, tuple):
        return [module for each in package for module in _modules(each)]
    package = importlib.import_module(package) if isinstance(package, str) else package
    found = [package]
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), package.__name__ + "."):
        found.append(importlib.import_module(info.name))
    return found


def discover(package: Packages) -> tuple[dict[Callable, str], list[str]]:
    """(exported function -> 'module.name', problems) over every module of `package` (or of each
    package or module of a tuple).

    Exported = named in the module's `__all__` and a plain function (classes and constants
    are API too, but not swept). A module without `__all__` and a name in `__all__` that the
    module lacks are problems.
    """
    exported: dict[Callable, str] = {}
    problems = []
    for module in _modules(package):
        names = getattr(module, "__all__", None)
        if names is None:
            problems.append(f"{module.__name__}: no __all__ (declare the public API; [] for stage modules)")
            continue
        for name in names:
            if not hasattr(module, name):
                problems.append(f"{module.__name__}: __all__ names {name!r}, which the module lacks")
                continue
            value = getattr(module, name)
            if inspect.isfunction(value):
                exported.setdefault(value, f"{value.__module__}.{value.__qualname__}")
    return exported, problems


# -- running ----------------------------------------------------------------------
_CODE_SUFFIXES = (".py", ".pyc", ".so", ".pyd")
_SYSTEM_PREFIXES = ("/proc/", "/sys/", "/dev/")
_FS_EVENTS = ("os.mkdir", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree")  # not listdir: imports list folders
_PROCESS_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork")
_touched: list[str] | None = None  # what a watched call did to the outside world; None: not watching
_hook_installed = False


def _audit(event: str, args: tuple) -> None:
    if _touched is None:
        return
    if event == "open" and isinstance(args[0], (str, os.PathLike)):
        path = os.fspath(args[0])
        if not path.endswith(_CODE_SUFFIXES) and not path.startswith(_SYSTEM_PREFIXES):
            _touched.append(f"opened {path}")
    elif event in _FS_EVENTS or event in _PROCESS_EVENTS:
        _touched.append(f"{event} {args[0] if args else ''}".strip())


class _watch:
    """Record file opens, filesystem changes and process starts inside the block (audit hooks)."""

    def __enter__(self):
        global _touched, _hook_installed
        if not _hook_installed:  # an audit hook cannot be removed: install one, switch it by `_touched`
            sys.addaudithook(_audit)
            _hook_installed = True
        _touched = []
        return self

    def __exit__(self, *exc):
        global _touched
        self.touched, _touched = _touched, None
        return False


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so `except Exception` in the code under test cannot swallow it."""


class _deadline:
    """Interrupt the block after `seconds` (SIGALRM; a no-op off the main thread or without SIGALRM)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.armed = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def __enter__(self):
        if self.armed:
            self.previous = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def _fire(self, signum, frame):
        raise _Timeout

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def names_argument(message: str, name: str) -> bool:
    """Does `message` name `name` as a word (so 'n' is not found inside 'an')?"""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", message) is not None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}{'...' if len(text) > 160 else ''}"


@dataclass
class _Outcome:
    """What one call under a deadline did: answered, refused cleanly (`refusal`), or `went_wrong` (timed out,
    raised another type); `touched` is the first heavy thing it did, when watched."""
    answer: Any = None
    refusal: BaseException | None = None
    went_wrong: str | None = None
    touched: str | None = None


def _attempt(call: Callable[[], Any], time_limit: float, *, watched: bool = False, timeout_hint: str = "") -> _Outcome:
    watch = _watch()
    try:
        with _deadline(time_limit), watch if watched else contextlib.nullcontext():
            return _Outcome(answer=call())
    except _Timeout:
        return _Outcome(went_wrong=f"still running after {time_limit:g} s{timeout_hint}")
    except _EXPECTED as exc:
        return _Outcome(refusal=exc, touched=watch.touched[0] if watched and watch.touched else None)
    except Exception as exc:  # noqa: BLE001 - any other type is itself the finding
        return _Outcome(went_wrong=f"raised {_short(exc)}")


def check_rejected(call: Callable[[], Any], name: str | tuple[str, ...], time_limit: float = TIME_LIMIT_S,
                   untouched: bool = False) -> str | None:
    """None if `call` raises ValueError/TypeError naming `name` (each of them, for a tuple) within
    `time_limit` (and, when `untouched`, without opening a data file, changing the filesystem or starting
    a process first); otherwise what went wrong."""
    outcome = _attempt(call, time_limit, watched=untouched, timeout_hint=" (unbounded?)")
    if outcome.went_wrong is not None:
        return outcome.went_wrong
    if outcome.refusal is None:
        return "accepted"
    message = str(outcome.refusal)
    unnamed = [one for one in ((name,) if isinstance(name, str) else name) if not names_argument(message, one)]
    if unnamed:
        return f"message does not name {' or '.join(map(repr, unnamed))}: {_short(outcome.refusal)}"
    if outcome.touched is not None:
        return f"refused only after heavy work ({outcome.touched}; validate first)"
    return None


def check_equivalent(call: Callable[[], Any], good_answer: Any, name: str, bits: int, refused: str | None,
                     varies: str | None, time_limit: float = TIME_LIMIT_S) -> str | None:
    """None if `call` (an equivalent input for argument `name`) answers `good_answer` (only succeeds when
    `varies`), or, when `refused` (declared, with its reason), raises ValueError/TypeError naming `name`;
    otherwise what went wrong."""
    outcome = _attempt(call, time_limit)
    if outcome.went_wrong is not None:
        return outcome.went_wrong
    if outcome.refusal is not None:
        if refused is None:
            return f"refused an equivalent value (undeclared): {_short(outcome.refusal)}"
        if not names_argument(str(outcome.refusal), name):
            return f"declared refusal does not name {name!r}: {_short(outcome.refusal)}"
        return None
    if refused is not None:
        return f"accepted, but declared refused ({refused})"
    if varies is not None:
        return None
    found = same_answer(good_answer, outcome.answer, bits)
    return None if found is None else f"another answer: {found}"


def check_edge(call: Callable[[], Any], name: str, others: tuple[str, ...] = (),
               time_limit: float = TIME_LIMIT_S) -> str | None:
    """None if `call` (argument `name` at a legal edge of its stated range) answers, or refuses with a
    ValueError/TypeError naming another of the call's arguments (`others`: a limit met jointly, like indices
    in a table past a count) or not naming `name`; otherwise what went wrong: refused by `name` alone (the
    function's bound and the stated one disagree), a timeout or another exception type from inside."""
    outcome = _attempt(call, time_limit)
    if outcome.went_wrong is not None:
        return outcome.went_wrong
    message = "" if outcome.refusal is None else str(outcome.refusal)
    if names_argument(message, name) and not any(names_argument(message, other) for other in others):
        return f"refused a value at the edge of its stated range: {_short(outcome.refusal)}"
    return None


def check_absurd(call: Callable[[], Any], name: str, good_answer: Any = None, time_limit: float = TIME_LIMIT_S,
                 divergence: str | None = None) -> str | None:
    """None if `call` (argument `name` legal but absurd) answers with finite values only, or refuses with a
    ValueError/TypeError naming `name` or saying that the computation diverged or overflowed (with a declared
    `divergence`, an answer holding NaN or inf is what it reports); otherwise what went wrong."""
    outcome = _attempt(call, time_limit)
    if outcome.went_wrong is not None:
        return outcome.went_wrong
    if outcome.refusal is not None:
        message = str(outcome.refusal)
        if names_argument(message, name) or any(word in message.lower() for word in ("diverged", "overflowed")):
            return None
        return f"message neither names {name!r} nor says it diverged or overflowed: {_short(outcome.refusal)}"
    found = None if divergence is not None else non_finite(outcome.answer, good_answer)
    return None if found is None else f"answered NaN/inf ({found}): say it diverged (checks.finite_or_diverged)"


@dataclass
class Report:
    functions: int = 0
    calls: int = 0
    good_calls: int = 0
    equivalent_calls: int = 0
    absurd_calls: int = 0
    edge_calls: int = 0
    failures: list[str] = field(default_factory=list)
    equivalence_failures: list[str] = field(default_factory=list)

    @property
    def failing_functions(self) -> list[str]:
        return sorted({line.split("(", 1)[0].split(":", 1)[0] for line in self.failures})


def sweep(package: Packages, cases: Iterable[Case], time_limit: float = TIME_LIMIT_S) -> Report:
    """Discover `package`'s exported functions and run every case's bad calls (and cheap good calls)."""
    exported, problems = discover(package)
    cases = list(cases)
    report = Report(functions=len(exported), failures=list(problems))
    covered = {case.function for case in cases}
    report.failures += [f"{name}: exported function without a case"
                        for fn, name in exported.items() if fn not in covered]
    for case in cases:
        if case.function not in exported:
            report.failures.append(f"{case.name}: case for a function that is not exported "
                                   "(add it to __all__ or drop the case)")
            continue
        template = case.problems()
        report.failures += template
        if template:
            continue
        if not case.heavy:
            report.good_calls += 1
            try:
                with _deadline(time_limit):
                    answer = case.good_call()()
            except _Timeout:
                report.failures.append(f"{case.name}: valid call template still running after {time_limit:g} s "
                                       "(mark it HeavyCase)")
            except Exception as exc:  # noqa: BLE001 - a template that fails proves nothing about bad input
                report.failures.append(f"{case.name}: valid call template raised {_short(exc)}")
            else:
                _sweep_equivalents(case, answer, report, time_limit)
                _sweep_absurd(case, answer, report, time_limit)
                _sweep_edges(case, report, time_limit)
        for label, call, expected in case.probes():
            report.calls += 1
            problem = check_rejected(call, expected, time_limit, untouched=case.heavy)
            if problem is not None:
                report.failures.append(f"{case.name}({label}): {problem}")
    return report


def _sweep_equivalents(case: Case, answer: Any, report: Report, time_limit: float) -> None:
    """Call `case` with each equivalent value, one argument at a time, and compare with `answer`."""
    labels = set()
    for pname, label, value, call in case.equivalents():
        labels.add((pname, label))
        report.equivalent_calls += 1
        problem = check_equivalent(call, answer, pname, input_bits(value), case.refused.get((pname, label)),
                                   case.varies or case.type_dependent.get((pname, label)), time_limit)
        if problem is not None:
            report.equivalence_failures.append(f"{case.name}({pname}~{label}): {problem}")
    for pname, label in sorted((set(case.refused) | set(case.type_dependent)) - labels):
        report.equivalence_failures.append(f"{case.name}({pname}~{label}): declared refused, "
                                           "but the kind has no such equivalent")


def _sweep_absurd(case: Case, answer: Any, report: Report, time_limit: float) -> None:
    """Call `case` with each legal but absurd value, one argument at a time (`Kind.absurd`)."""
    for label, call, name in case.absurd_probes():
        report.absurd_calls += 1
        problem = check_absurd(call, name, answer, time_limit, case.divergence)
        if problem is not None:
            report.failures.append(f"{case.name}({label}): {problem}")


def _sweep_edges(case: Case, report: Report, time_limit: float) -> None:
    """Call `case` with each legal edge value, one argument at a time (`Kind.edges`)."""
    arguments = tuple(pname for pname, _ in case._arguments())
    for label, call, name, owner in case.edge_probes():
        report.edge_calls += 1
        # A record's field is named alone: the record's own name in its message ("test.prevalence") is no joint limit.
        others = tuple(other for other in arguments if other not in (name, owner))
        problem = check_edge(call, name, others, time_limit)
        if problem is not None:
            report.failures.append(f"{case.name}({label}): {problem}")


def run_sweep(claim, package: Packages, cases: Iterable[Case], time_limit: float = TIME_LIMIT_S) -> Report:
    """Sweep `package`, record functions, calls, equivalent calls and failures on the claim, and expect
    no failure of either kind."""
    report = sweep(package, cases, time_limit)
    claim.record(functions=report.functions, calls=report.calls, good_calls=report.good_calls,
                 failing_functions=report.failing_functions, failures=report.failures,
                 equivalent_calls=report.equivalent_calls, equivalence_failures=report.equivalence_failures,
                 absurd_calls=report.absurd_calls, edge_calls=report.edge_calls)
    claim.expect("cases_failing", len(report.failures), "==", 0)
    claim.expect("equivalents_answered_differently", len(report.equivalence_failures), "==", 0)
    return report
