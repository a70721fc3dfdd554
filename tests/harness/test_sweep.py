"""The bad-input sweep engine (impl.harness.sweep) and the validators it relies on (impl.checks)."""
import importlib
import sys
import textwrap

import numpy as np
import pytest

from impl import checks
from impl.harness import answers, sweep
from impl.harness.claim import Claim
from impl.harness.kinds import Count, Fixed, Flag, Instance, Labels, Matrix, PathArg, Real, Rng, Seed, Vector
from impl.harness.sweep import Case, HeavyCase

TOY = {
    "__init__.py": "__all__ = []\n",
    "api.py": '''
        import time

        import numpy as np

        from impl.checks import as_float_array, as_int, as_path

        __all__ = ["CONSTANT", "clean", "accepts_nan", "index_error", "vague", "uncovered", "slow_count", "reads_first"]
        CONSTANT = 3  # exported, not a function: not swept


        def clean(x, n):
            x, n = as_float_array(x, "x", ndim=1), as_int(n, "n", minimum=1, maximum=3)
            return x[:n]


        def accepts_nan(x):
            values = np.asarray(x)
            return float(np.sum(values.real if values.dtype.kind == "c" else values.astype(float)))


        def index_error(k):
            k = as_int(k, "k", minimum=0)
            return [10, 20, 30][k]


        def vague(x):
            if not isinstance(x, np.ndarray) or x.dtype != float or x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
                raise ValueError("bad input")
            return x


        def uncovered(x):
            return x


        def slow_count(n):
            for _ in range(as_int(n, "n", minimum=1)):
                time.sleep(0.01)


        def reads_first(path, n):
            with open(as_path(path, "path"), "rb") as handle:
                handle.read()
            return as_int(n, "n", minimum=1, maximum=3)


        def not_exported(x):
            return x
    ''',
    "undeclared.py": "def helper(x):\n    return x\n",
}
EQUIV = {
    "__init__.py": "__all__ = []\n",
    "api.py": '''
        from typing import NamedTuple

        import numpy as np

        from impl.checks import as_bool, as_float, as_float_array, as_int, as_labels, as_rng

        __all__ = ["total", "first_row", "strict_int", "strict_float64", "declared_strict", "declared_but_accepts",
                   "draws", "deep_error", "scaled", "summary"]


        class Summary(NamedTuple):
            mean: float
            counts: dict


        def total(x, n, scale, flag):
            x, n = as_float_array(x, "x", ndim=2), as_int(n, "n", minimum=1, maximum=3)
            scale, flag = as_float(scale, "scale"), as_bool(flag, "flag")
            return (x[:n] * scale).sum(axis=0) if flag else x[:n]


        def first_row(x):
            x = as_float_array(x, "x", ndim=2)
            return x.ravel(order="K")[: x.shape[1]]  # memory order: the first column of a Fortran array


        def strict_int(n):
            if type(n) is not int:
                raise TypeError(f"n must be a Python int, got {type(n).__name__}")
            return n


        def strict_float64(x):
            if not isinstance(x, np.ndarray) or x.dtype != np.float64:
                raise TypeError("x must be a float64 ndarray")
            return x.sum()


        def declared_strict(x):
            return strict_float64(x)


        def declared_but_accepts(x):
            return as_float_array(x, "x").sum()


        def draws(rng, n):
            rng, n = as_rng(rng, "rng"), as_int(n, "n", minimum=1, maximum=10)
            return rng.normal(size=n)


        def deep_error(x):
            return x.view(np.float64)[0]


        def scaled(x):
            x = np.asarray(x)
            return x * np.finfo(x.dtype).eps


        def summary(y):
            y = as_labels(y, "y")
            return Summary(float(y.mean()), {int(k): int(v) for k, v in zip(*np.unique(y, return_counts=True))})
    ''',
}
CLEAN = {
    "__init__.py": "__all__ = []\n",
    "api.py": '''
        from impl.checks import as_float_array, as_int

        __all__ = ["clean"]


        def clean(x, n):
            x, n = as_float_array(x, "x", ndim=1), as_int(n, "n", minimum=1, maximum=3)
            return x[:n]
    ''',
}

ABSURD = {
    "__init__.py": "__all__ = []\n",
    "api.py": '''
        import numpy as np

        from impl.checks import as_float, finite_or_diverged

        __all__ = ["nan_answer", "diverges_cleanly", "raw_overflow", "missing_by_design", "reports_growth", "bounded"]


        def nan_answer(lr):
            lr = as_float(lr, "lr", low=0.0, low_open=True)
            with np.errstate(over="ignore"):
                return np.array([1.0, 2.0]) * lr * lr


        def diverges_cleanly(lr):
            lr = as_float(lr, "lr", low=0.0, low_open=True)
            with np.errstate(over="ignore"):
                steps = np.array([1.0, 2.0]) * lr * lr
            return finite_or_diverged(steps, "descent", f"lr = {lr:g}")


        def raw_overflow(x):
            return as_float(x, "x") ** 2


        def missing_by_design(noise):
            return np.array([np.nan, as_float(noise, "noise", low=0.0)])


        def reports_growth(lr):
            lr = as_float(lr, "lr", low=0.0)
            with np.errstate(over="ignore"):
                return np.array([np.float64(lr) * lr])  # inf past the edge: what the claim reads


        def bounded(lr):
            return as_float(lr, "lr", low=0.0, high=10.0) * np.ones(2)
    ''',
}

TOGETHER = {
    "__init__.py": "__all__ = []\n",
    "api.py": '''
        from typing import NamedTuple

        import numpy as np

        from impl.checks import as_int, as_matrix

        __all__ = ["guarded", "unguarded", "vague", "table_sum", "loose_table", "Fit", "fit_checked", "fit_unchecked"]


        class Fit(NamedTuple):
            mean: np.ndarray
            scale: float
            label: str


        def fit_checked(fit):
            if not isinstance(fit, Fit):
                raise TypeError(f"fit must be a Fit, got {type(fit).__name__}")
            if not np.all(np.isfinite(fit.mean)):
                raise ValueError("mean must be finite")
            if not np.isfinite(fit.scale):
                raise ValueError("scale must be finite")
            return float(fit.mean.sum() * fit.scale)


        def fit_unchecked(fit):
            if not isinstance(fit, Fit):
                raise TypeError(f"fit must be a Fit, got {type(fit).__name__}")
            return float(fit.mean.sum() * fit.scale)


        def guarded(rows, cols):
            rows, cols = as_int(rows, "rows", minimum=1, maximum=100), as_int(cols, "cols", minimum=1, maximum=100)
            if rows * cols > 1000:
                raise ValueError(f"rows * cols must be <= 1000, got {rows} * {cols}")
            return rows * cols


        def unguarded(rows, cols):
            return as_int(rows, "rows", minimum=1, maximum=100) * as_int(cols, "cols", minimum=1, maximum=100)


        def vague(rows, cols):
            rows, cols = as_int(rows, "rows", minimum=1, maximum=100), as_int(cols, "cols", minimum=1, maximum=100)
            if rows * cols > 1000:
                raise ValueError(f"rows too large: {rows * cols} cells")  # names rows, not cols
            return rows * cols


        def table_sum(table):
            table = as_matrix(table, "table")
            if np.any(table < 0):
                raise ValueError("table must hold non-negative counts")
            return float(table.sum())


        def loose_table(table):
            return float(as_matrix(table, "table").sum())
    ''',
}


EDGES = {
    "__init__.py": "__all__ = []\n",
    "api.py": '''
        import numpy as np

        from impl.checks import as_float, as_int

        __all__ = ["faithful", "off_by_one", "positive_axis_only", "crashes_at_edge", "joint_limit", "seeded",
                   "sizes_capped_right", "sizes_capped_one_off", "record_rate"]


        def faithful(n, axis, scale):
            n = as_int(n, "n", minimum=1, maximum=10)
            axis = as_int(axis, "axis", minimum=-2, maximum=1)
            return n * as_float(scale, "scale", low=0.0) + axis


        def off_by_one(n):
            return as_int(n, "n", minimum=2, maximum=10)


        def positive_axis_only(axis):
            return as_int(axis, "axis", minimum=0, maximum=1)


        def crashes_at_edge(n):
            n = as_int(n, "n", minimum=1, maximum=10)
            return 1.0 / (n - 1)


        def joint_limit(n, table):
            n = as_int(n, "n", minimum=1, maximum=10)
            if max(table) >= n:
                raise ValueError(f"table holds indices beyond n = {n}")
            return n


        def seeded(seed):
            return np.random.default_rng(as_int(seed, "seed", minimum=0, maximum=2**31 - 1)).random()


        def sizes_capped_right(sizes, bits):
            return sum(as_int(size, "sizes", minimum=1, maximum=10**6) for size in sizes) * as_int(bits, "bits", minimum=2, maximum=32)


        def record_rate(rec):
            low = as_float(rec.low, "low", low=0.0, high=1.0)
            return as_float(rec.high, "high", low=0.0, high=1.0, high_open=True) - low  # high's 1.0 refused


        def sizes_capped_one_off(sizes, bits):
            return sum(as_int(size, "sizes", minimum=1, maximum=9**6) for size in sizes) * as_int(bits, "bits", minimum=2, maximum=31)
    ''',
}


def _package(root, name, files):
    folder = root / name
    folder.mkdir()
    for filename, text in files.items():
        (folder / filename).write_text(textwrap.dedent(text))
    return name


def _lines(report, prefix):
    return [line for line in report.failures if line.startswith(prefix)]


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep_packages")
    names = (_package(root, "toy_sweep_dirty", TOY), _package(root, "toy_sweep_clean", CLEAN),
             _package(root, "toy_sweep_equiv", EQUIV), _package(root, "toy_sweep_absurd", ABSURD),
             _package(root, "toy_sweep_together", TOGETHER), _package(root, "toy_sweep_edges", EDGES))
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    yield {name: importlib.import_module(f"{name}.api") for name in names}
    sys.path.remove(str(root))
    for module in [m for m in sys.modules if m.startswith(names)]:
        del sys.modules[module]


@pytest.fixture
def dirty_report(packages, tmp_path):
    api = packages["toy_sweep_dirty"]
    data = tmp_path / "data.bin"
    data.write_bytes(b"x")
    cases = [
        Case(api.clean, Vector([1.0, 2.0, 3.0]), Count(2, 1, 3)),
        Case(api.accepts_nan, Vector([1.0, 2.0])),
        Case(api.index_error, Count(1, 0, 2)),
        Case(api.vague, Vector([1.0, 2.0])),
        Case(api.slow_count, Count(1)),
        HeavyCase(api.reads_first, PathArg(data), Count(1, 1, 3)),
        Case(api.not_exported, Vector([1.0])),
    ]
    return sweep.sweep("toy_sweep_dirty", cases, time_limit=0.5)


def test_discover_reads_all_and_flags_modules_without_it(packages):
    exported, problems = sweep.discover("toy_sweep_dirty")
    assert sorted(exported.values()) == sorted(f"toy_sweep_dirty.api.{name}" for name in (
        "clean", "accepts_nan", "index_error", "vague", "uncovered", "slow_count", "reads_first"))
    assert problems == ["toy_sweep_dirty.undeclared: no __all__ (declare the public API; [] for stage modules)"]


def test_discover_takes_a_plain_module_and_a_tuple(packages):
    alone, problems = sweep.discover("toy_sweep_clean.api")
    both, _ = sweep.discover(("toy_sweep_dirty", "toy_sweep_clean.api"))
    assert not problems and set(alone.values()) <= set(both.values())
    assert "toy_sweep_dirty.api.clean" in both.values() and len(both) == len(alone) + 7


def test_a_clean_function_passes(dirty_report):
    assert _lines(dirty_report, "toy_sweep_dirty.api.clean") == []
    assert dirty_report.functions == 7


def test_accepting_nan_is_flagged(dirty_report):
    assert "toy_sweep_dirty.api.accepts_nan(x=nan): accepted" in dirty_report.failures
    assert "toy_sweep_dirty.api.accepts_nan(x=inf): accepted" in dirty_report.failures


def test_another_exception_type_is_flagged(dirty_report):
    lines = _lines(dirty_report, "toy_sweep_dirty.api.index_error(k=")
    assert {line.split(":")[0] for line in lines} == {
        "toy_sweep_dirty.api.index_error(k=above-2)", "toy_sweep_dirty.api.index_error(k=2**62)"}
    assert all("raised IndexError" in line for line in lines)


def test_a_message_that_does_not_name_the_argument_is_flagged(dirty_report):
    lines = _lines(dirty_report, "toy_sweep_dirty.api.vague(")
    assert lines and all("message does not name 'x'" in line for line in lines)


def test_an_exported_function_without_a_case_is_flagged(dirty_report):
    assert "toy_sweep_dirty.api.uncovered: exported function without a case" in dirty_report.failures


def test_a_case_for_a_function_that_is_not_exported_is_flagged(dirty_report):
    assert any(line.startswith("toy_sweep_dirty.api.not_exported: case for a function that is not exported")
               for line in dirty_report.failures)


def test_an_unbounded_count_is_reported_not_waited_for(dirty_report):
    assert "toy_sweep_dirty.api.slow_count(n=2**62): still running after 0.5 s (unbounded?)" in dirty_report.failures


def test_a_heavy_case_that_reads_before_refusing_is_flagged(dirty_report):
    lines = _lines(dirty_report, "toy_sweep_dirty.api.reads_first(n=")
    assert lines and all("refused only after heavy work (opened" in line for line in lines)
    assert _lines(dirty_report, "toy_sweep_dirty.api.reads_first(path=") == []  # refused before open()


def test_a_module_without_all_is_flagged(dirty_report):
    assert any("undeclared: no __all__" in line for line in dirty_report.failures)


def test_template_problems_are_flagged(packages):
    api = packages["toy_sweep_clean"]
    missing = sweep.sweep("toy_sweep_clean", [Case(api.clean, Vector([1.0, 2.0]))])
    assert missing.failures == ["toy_sweep_clean.api.clean: parameter 'n' has no kind in its case"]
    raw = sweep.sweep("toy_sweep_clean", [Case(api.clean, [1.0, 2.0], Count(1, 1, 3))])
    assert raw.failures == ["toy_sweep_clean.api.clean: argument 'x' is [1.0, 2.0], not a kind (use Fixed to opt out)"]
    failing = sweep.sweep("toy_sweep_clean", [Case(api.clean, Vector([1.0, 2.0]), Count(9, 1, 3))])
    assert any("valid call template raised ValueError" in line for line in failing.failures)


def test_run_sweep_records_on_the_claim_and_expects_no_failure(packages):
    api = packages["toy_sweep_clean"]
    claim = Claim("T.sweep.clean", "statement", {}, "quick")
    report = sweep.run_sweep(claim, "toy_sweep_clean", [Case(api.clean, Vector([1.0, 2.0, 3.0]), Count(2, 1, 3))])
    assert report.failures == [] and claim.observed["functions"] == 1 and claim.observed["good_calls"] == 1
    assert claim.observed["calls"] == report.calls == len(Vector([1.0]).bad()) + len(Count(2, 1, 3).bad())
    assert claim.observed["cases_failing"] == 0
    dirty = Claim("T.sweep.dirty", "statement", {}, "quick")
    with pytest.raises(AssertionError, match="cases_failing"):
        sweep.run_sweep(dirty, "toy_sweep_clean", [Case(api.clean, Vector([1.0, 2.0, 3.0]), Count(5, 1, 9))])
    assert dirty.observed["failing_functions"] == ["toy_sweep_clean.api.clean"]


# -- legal but absurd values ---------------------------------------------------------
def test_absurd_values_get_finite_answers_or_a_clear_error(packages):
    """1e300 where a real has no upper bound (and -1e300 with no lower one): NaN/inf answers and raw
    OverflowErrors are findings; a DivergedError, a refusal naming the argument, a NaN the valid answer has at the
    same place, and a declared divergence report are not."""
    api = packages["toy_sweep_absurd"]
    assert Real(1.0).absurd() == [("1e300", 1e300), ("-1e300", -1e300)] and Real(1.0, 0.0).absurd() == [("1e300", 1e300)]
    assert Real(1.0, 0.0, 10.0).absurd() == [] and Count(3).absurd() == []
    cases = [Case(api.nan_answer, Real(0.1, 0.0, low_open=True)), Case(api.diverges_cleanly, Real(0.1, 0.0, low_open=True)),
             Case(api.raw_overflow, Real(2.0)), Case(api.missing_by_design, Real(0.1, 0.0)),
             Case(api.reports_growth, Real(0.1, 0.0)).reports_divergence(reason="the claim reads the growth"),
             Case(api.bounded, Real(1.0, 0.0, 10.0))]
    report = sweep.sweep("toy_sweep_absurd", cases, time_limit=5)
    absurd = [line for line in report.failures if "1e300" in line]
    assert report.absurd_calls == 6
    assert len(absurd) == 3, absurd
    assert any(line.startswith("toy_sweep_absurd.api.nan_answer(lr=1e300): answered NaN/inf") for line in absurd)
    assert {line.split("(")[0] for line in absurd} == {"toy_sweep_absurd.api.nan_answer", "toy_sweep_absurd.api.raw_overflow"}
    assert all("OverflowError" in line for line in absurd if "raw_overflow" in line)
    with pytest.raises(ValueError, match="reason"):
        Case(api.reports_growth, Real(0.1, 0.0)).reports_divergence(reason="")


def test_bad_combinations_declared_with_refuses_must_be_refused_by_name(packages):
    """A combination of arguments each valid alone (rows * cols over a cap) or a value bad for a reason only
    the function knows (a negative count) is tried as declared: accepted, or refused without naming every
    argument listed, is a finding."""
    api = packages["toy_sweep_together"]
    big = dict(rows=50, cols=50)
    negative = dict(table=np.array([[1.0, -1.0], [2.0, 3.0]]))
    cases = [Case(api.guarded, Count(2, 1, 100), Count(3, 1, 100)).refuses("area", naming=("rows", "cols"), **big),
             Case(api.unguarded, Count(2, 1, 100), Count(3, 1, 100)).refuses("area", naming=("rows", "cols"), **big),
             Case(api.vague, Count(2, 1, 100), Count(3, 1, 100)).refuses("area", naming=("rows", "cols"), **big),
             Case(api.table_sum, Matrix(np.ones((2, 2)))).refuses("negative", naming=("table",), **negative),
             Case(api.loose_table, Matrix(np.ones((2, 2)))).refuses("negative", naming=("table",), **negative)]
    report = sweep.sweep("toy_sweep_together", cases, time_limit=5)
    joint = sorted(line for line in report.failures if "(area)" in line or "(negative)" in line)
    assert joint == ["toy_sweep_together.api.loose_table(negative): accepted",
                     "toy_sweep_together.api.unguarded(area): accepted",
                     "toy_sweep_together.api.vague(area): message does not name 'cols': "
                     "ValueError: rows too large: 2500 cells"], joint
    with pytest.raises(ValueError, match="unknown"):
        Case(api.guarded, Count(2, 1, 100), Count(3, 1, 100)).refuses("x", naming=("rows",), depth=3)
    with pytest.raises(ValueError, match="naming"):
        Case(api.guarded, Count(2, 1, 100), Count(3, 1, 100)).refuses("x", naming=(), rows=50)


def test_a_nan_inside_a_record_passed_in_must_be_refused_by_the_fields_name(packages):
    """A NamedTuple passed whole (Instance) has each float field probed with a NaN; a field where NaN is
    valid is declared with its reason; string fields are left alone."""
    api = packages["toy_sweep_together"]
    fit = api.Fit(np.array([1.0, 2.0]), 0.5, "a")
    cases = [Case(api.fit_checked, Instance(fit)), Case(api.fit_unchecked, Instance(fit)), Case(api.guarded, Count(2, 1, 100),
             Count(3, 1, 100)), Case(api.unguarded, Count(2, 1, 100), Count(3, 1, 100)), Case(api.vague, Count(2, 1, 100),
             Count(3, 1, 100)), Case(api.table_sum, Matrix(np.ones((2, 2)))), Case(api.loose_table, Matrix(np.ones((2, 2))))]
    report = sweep.sweep("toy_sweep_together", cases, time_limit=5)
    assert sorted(line for line in report.failures if "fit_" in line) == [
        "toy_sweep_together.api.fit_unchecked(fit=mean=nan): accepted",
        "toy_sweep_together.api.fit_unchecked(fit=scale=nan): accepted"]
    declared = Instance(fit, nan_fields={"scale": "a missing scale is NaN by design"})
    assert [label for label, _, _ in declared.probes("fit")] == ["None", "3", "'x'", "mean=nan"]
    with pytest.raises(ValueError, match="reason"):
        Instance(fit, nan_fields={"scale": ""})


def test_finite_or_diverged_says_what_diverged_and_why():
    values = np.array([1.0, 2.0])
    assert checks.finite_or_diverged(values, "descent", "lr = 1") is values
    with pytest.raises(checks.DivergedError, match=r"descent diverged to NaN/inf with lr = 1e\+300"):
        checks.finite_or_diverged(np.array([1.0, np.inf]), "descent", "lr = 1e+300")
    with pytest.raises(ValueError, match="the variance overflowed"):
        checks.finite_or_diverged(np.float64(np.inf), "the variance", "sigma = 1e+300", verb="overflowed")


# -- equivalent inputs, same answer --------------------------------------------------
@pytest.fixture
def equiv_report(packages):
    api = packages["toy_sweep_equiv"]
    X = np.arange(6.0).reshape(3, 2)
    cases = [
        Case(api.total, Matrix(X), Count(2, 1, 3), Real(0.5), Flag(True)),
        Case(api.first_row, Matrix(X)),
        Case(api.strict_int, Count(2)),
        Case(api.strict_float64, Vector([1.0, 2.0])),
        Case(api.declared_strict, Vector([1.0, 2.0])).rejects_equivalent("x", "list", reason="test").rejects_equivalent(
            "x", "float32", reason="test"),
        Case(api.declared_but_accepts, Vector([1.0, 2.0])).rejects_equivalent("x", "list", reason="test"),
        Case(api.draws, Rng(), Count(3, 1, 10)),
        Case(api.deep_error, Vector([1.0, 2.0])),
        Case(api.scaled, Vector([1.0, 2.0])).depends_on_type("x", "float32", reason="eps of x's type"),
        Case(api.summary, Labels([0, 1, 1])),
    ]
    return sweep.sweep("toy_sweep_equiv", cases, time_limit=5)


def test_kinds_know_their_equivalent_values():
    X = np.arange(6.0).reshape(3, 2)
    matrix = dict(Matrix(X).equivalent())
    assert set(matrix) == {"list", "strided", "fortran", "reversed-view", "float32"}
    assert matrix["list"] == X.tolist() and matrix["float32"].dtype == np.float32
    for label in ("strided", "fortran", "reversed-view"):
        assert np.array_equal(matrix[label], X) and not matrix[label].flags.c_contiguous, label
    assert matrix["reversed-view"].strides[0] < 0
    assert "float32" not in dict(Vector([0.1]).equivalent())  # 0.1 is not a float32: not equal in value
    assert dict(Vector(np.float32([0.1])).equivalent())["float64"].dtype == np.float64
    assert dict(Labels(np.array([0, 1])).equivalent())["int32"].dtype == np.int32
    assert [type(v) for _, v in Count(3).equivalent()] == [np.int64, np.int32]
    assert [label for label, _ in Real(0.1).equivalent()] == ["float64"] and len(Real(0.5).equivalent()) == 2
    assert dict(Flag(False).equivalent())["bool_"] is np.bool_(False)
    assert Instance(object()).equivalent() == []


def test_equivalents_answered_alike_pass(equiv_report):
    assert _eq_lines(equiv_report, "toy_sweep_equiv.api.total") == []
    assert _eq_lines(equiv_report, "toy_sweep_equiv.api.summary") == []  # NamedTuple with a dict, int32 labels
    assert _eq_lines(equiv_report, "toy_sweep_equiv.api.draws") == []  # each call gets the generator's same state
    assert _eq_lines(equiv_report, "toy_sweep_equiv.api.declared_strict") == []
    assert _eq_lines(equiv_report, "toy_sweep_equiv.api.scaled") == []  # declared type-dependent: only succeeds
    assert equiv_report.equivalent_calls == 10 + 5 + 2 + 4 * 5 + 2 + 4


def _eq_lines(report, prefix):
    return [line for line in report.equivalence_failures if line.startswith(prefix)]


def test_another_answer_for_an_equivalent_input_is_caught(equiv_report):
    lines = _eq_lines(equiv_report, "toy_sweep_equiv.api.first_row(")
    assert [line.split(":")[0] for line in lines] == ["toy_sweep_equiv.api.first_row(x~fortran)"]
    assert "another answer: answer: differs by up to" in lines[0]


def test_an_undeclared_refusal_is_caught(equiv_report):
    assert {line.split(":")[0] for line in _eq_lines(equiv_report, "toy_sweep_equiv.api.strict_int(")} == {
        "toy_sweep_equiv.api.strict_int(n~int64)", "toy_sweep_equiv.api.strict_int(n~int32)"}
    assert all("refused an equivalent value (undeclared): TypeError" in line
               for line in _eq_lines(equiv_report, "toy_sweep_equiv.api.strict_"))
    assert {line.split(":")[0] for line in _eq_lines(equiv_report, "toy_sweep_equiv.api.strict_float64(")} == {
        "toy_sweep_equiv.api.strict_float64(x~list)", "toy_sweep_equiv.api.strict_float64(x~float32)"}


def test_a_declared_refusal_that_is_accepted_is_caught(equiv_report):
    assert _eq_lines(equiv_report, "toy_sweep_equiv.api.declared_but_accepts(") == [
        "toy_sweep_equiv.api.declared_but_accepts(x~list): accepted, but declared refused (test)"]


def test_an_error_from_deep_inside_is_caught(equiv_report):
    lines = _eq_lines(equiv_report, "toy_sweep_equiv.api.deep_error(")
    assert "toy_sweep_equiv.api.deep_error(x~float32): another answer: answer: differs by up to" in " ".join(lines)
    assert any(line.startswith("toy_sweep_equiv.api.deep_error(x~list): raised AttributeError") for line in lines)


def test_declarations_need_a_reason_and_an_existing_equivalent(packages):
    api = packages["toy_sweep_equiv"]
    with pytest.raises(ValueError, match="reason"):
        Case(api.strict_int, Count(2)).rejects_equivalent("n", "int64", reason="")
    report = sweep.sweep("toy_sweep_equiv", [Case(api.strict_int, Count(2)).rejects_equivalent(
        "n", "int64", reason="a").rejects_equivalent("n", "int32", reason="a").rejects_equivalent("n", "int8", reason="a")])
    assert "toy_sweep_equiv.api.strict_int(n~int8): declared refused, but the kind has no such equivalent" in \
        report.equivalence_failures
    assert not any(line.startswith("toy_sweep_equiv.api.strict_int(n~int64)") for line in report.equivalence_failures)


def test_a_torch_model_and_its_optimizer_are_copied_together_per_call():
    torch = pytest.importorskip("torch")

    def fit(model, optimizer, steps):
        losses = []
        for _ in range(steps):
            loss = (model(torch.ones(1, 2)) - 1.0).pow(2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        return losses

    model = torch.nn.Linear(2, 1)
    before = [p.detach().clone() for p in model.parameters()]
    case = Case(fit, Instance(model), Instance(torch.optim.SGD(model.parameters(), lr=0.1)), Count(3))
    first, second = case.good_call()(), case.good_call()()
    assert first == second and first[-1] < first[0]  # the copied optimizer trains the copied model
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # the kind's own model untouched


def test_same_answer_compares_recursively_at_the_lower_precision():
    from typing import NamedTuple

    class Pair(NamedTuple):
        a: np.ndarray
        b: int

    x = np.linspace(0.0, 1.0, 5)
    assert answers.same_answer(Pair(x, 3), Pair(x + 1e-12, 3)) is None
    assert "answer.b" in answers.same_answer(Pair(x, 3), Pair(x, 4))
    assert "answer.a: differs" in answers.same_answer(Pair(x, 3), Pair(x + 1e-6, 3))
    assert answers.same_answer(x, (x + 1e-6).astype(np.float32)) is None  # float32 answer: float32 precision
    assert answers.same_answer(x, x + 1e-6, bits=32) is None
    assert "integers differ" in answers.same_answer(np.array([1, 2]), np.array([1, 3], np.int32))
    assert "shape" in answers.same_answer(x, x[:-1])
    assert "keys" in answers.same_answer({"a": 1}, {"b": 1})
    assert answers.same_answer(object(), object()) is None  # another object: only that the call succeeded
    assert answers.same_answer({"fit_time": [0.1], "s": x}, {"fit_time": [0.3], "s": x}) is None  # a timing: shape only
    assert "answer['s']" in answers.same_answer({"s": x}, {"s": x + 1.0})  # singular values are no timing


# -- kinds ------------------------------------------------------------------------
def test_kinds_know_their_bad_values():
    labels = dict(Count(2, 1, 5).bad())
    assert labels["below-1"] == 0 and labels["above-5"] == 6 and labels["2**62"] == 2**62 and labels["True"] is True
    vector = dict(Vector([1.0, 2.0], linked=True).bad())
    assert np.isnan(vector["nan"][0]) and np.isinf(vector["inf"][-1]) and vector["empty"].shape == (0,)
    assert vector["0-D"].ndim == 0 and vector["2-D"].shape == (2, 1) and vector["one-row-short"].shape == (1,)
    assert vector["text"].dtype.kind == "U" and vector["complex"].dtype.kind == "c" and vector["None"] is None
    real = dict(Real(0.5, 0.0, 1.0, low_open=True).bad())
    assert real["below-0.0"] == 0.0 and real["above-1.0"] == 2.0 and np.isnan(real["nan"])
    assert Instance(object()).bad() == [("None", None), ("3", 3), ("'x'", "x")]
    assert all(not isinstance(value, np.random.Generator) for _, value in Rng().bad())
    seed = dict(Seed().bad())
    assert seed["-1"] == -1 and seed[f"above-{checks.MAX_SEED}"] == 2**32 and "above-None" not in dict(Seed(0, None).bad())


def test_as_seed_takes_the_range_every_framework_takes():
    assert checks.as_seed(0) == 0 and checks.as_seed(np.int64(2**32 - 1)) == 2**32 - 1
    with pytest.raises(ValueError, match="seed must be <= 4294967295"):
        checks.as_seed(2**32)
    with pytest.raises(ValueError, match="repeat_seed must be >= 0"):
        checks.as_seed(-1, "repeat_seed")
    with pytest.raises(TypeError, match="seed must be an int"):
        checks.as_seed(True)


def test_names_argument_matches_whole_words():
    assert sweep.names_argument("n must be >= 1", "n")
    assert not sweep.names_argument("an integer is required", "n")
    assert not sweep.names_argument("n_per_group must be >= 2", "n")
    assert sweep.names_argument("X and y must have the same length", "y")


# -- the validators ---------------------------------------------------------------
def test_validators_copy_negatively_strided_views():
    x = np.arange(6.0)[::-1].copy()[::-1]
    for checked in (checks.as_float_array(x, "x"), checks.as_labels(np.arange(3)[::-1], "y"),
                    checks.as_images(np.zeros((2, 3, 3), np.uint8)[::-1], "X", shape=(3, 3))):
        assert all(stride >= 0 for stride in checked.strides)
    assert np.array_equal(checks.as_float_array(x, "x"), x)
    plain = np.arange(3.0)
    assert checks.as_float_array(plain, "x") is plain  # no copy when none is needed


def test_as_rng():
    rng = np.random.default_rng(0)
    assert checks.as_rng(rng, "rng") is rng
    for bad in (None, 0, np.random.RandomState(0)):
        with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
            checks.as_rng(bad, "rng")


def test_as_labels():
    y = np.array([0, 2, 1])
    assert checks.as_labels(y, "y", num_classes=3) is not None
    assert checks.as_labels(y, "y").dtype == y.dtype
    for bad, error in (([0.5, 1.0], TypeError), ([[0, 1]], ValueError), ([], TypeError), ([0, -1], ValueError),
                       ([0, 3], ValueError), (None, TypeError), ("01", TypeError), ([True, False], TypeError)):
        with pytest.raises(error, match="y "):
            checks.as_labels(bad, "y", num_classes=3)


def test_as_images():
    images = np.zeros((2, 28, 28), np.uint8)
    assert checks.as_images(images, "X", shape=(28, 28)) is images
    for bad, error in ((images.astype(float), TypeError), (images[:, :27], ValueError), (images[:0], ValueError),
                       (images.reshape(2, -1), ValueError), (None, TypeError)):
        with pytest.raises(error, match="X "):
            checks.as_images(bad, "X", shape=(28, 28))


def test_scalar_and_object_validators(tmp_path):
    assert checks.as_bool(np.bool_(True), "flag") is True
    assert checks.as_str("a", "name", choices=("a", "b")) == "a"
    assert checks.as_bytes(bytearray(b"ab"), "data") == b"ab"
    assert checks.as_path(str(tmp_path), "path") == tmp_path
    assert checks.as_callable(len, "f") is len
    assert checks.as_instance(3, "k", int) == 3
    for call, error in (
        (lambda: checks.as_bool(1, "flag"), TypeError), (lambda: checks.as_str("", "name"), ValueError),
        (lambda: checks.as_str("c", "name", choices=("a", "b")), ValueError),
        (lambda: checks.as_str(b"a", "name"), TypeError), (lambda: checks.as_bytes("text", "data"), TypeError),
        (lambda: checks.as_bytes(b"", "data", nonempty=True), ValueError),
        (lambda: checks.as_path("", "path"), ValueError), (lambda: checks.as_path(3, "path"), TypeError),
        (lambda: checks.as_callable("f", "f"), TypeError), (lambda: checks.as_instance("3", "k", int), TypeError),
    ):
        with pytest.raises(error) as caught:
            call()
        assert sweep.names_argument(str(caught.value), str(caught.value).split()[0])


def test_as_tensor():
    torch = pytest.importorskip("torch")
    X, y = torch.zeros((3, 2)), torch.tensor([0, 1, 2])
    assert checks.as_tensor(X, "X", ndim=2, floating=True) is X
    assert checks.as_tensor(y, "y", ndim=1, floating=False, num_classes=3) is y
    for bad, kwargs, error in (
        (X.numpy(), {}, TypeError), (X.long(), {}, TypeError), (X[0], {}, ValueError), (X[:0], {}, ValueError),
        (torch.full((3, 2), float("nan")), {}, ValueError),
    ):
        with pytest.raises(error, match="X "):
            checks.as_tensor(bad, "X", ndim=2, floating=True, **kwargs)
    assert checks.as_tensor(X, "X", ndim=2, floating=True, dtype=torch.float32) is X
    with pytest.raises(TypeError, match="X must be a torch.float32 tensor like the model's weights"):
        checks.as_tensor(X.double(), "X", ndim=2, floating=True, dtype=torch.float32)
    for bad in (torch.tensor([0, 3, 1]), torch.tensor([-1, 0, 1])):
        with pytest.raises(ValueError, match="y must hold labels"):
            checks.as_tensor(bad, "y", ndim=1, floating=False, num_classes=3)
    images = torch.zeros((3, 1, 2, 2))
    assert checks.as_tensor(images, "X", min_ndim=2, floating=True) is images
    assert checks.as_tensor(X, "X", min_ndim=2, floating=True) is X
    with pytest.raises(ValueError, match="X must be a non-empty at least 2-D tensor"):
        checks.as_tensor(X[0], "X", min_ndim=2, floating=True)
    for ranks in ({}, {"ndim": 2, "min_ndim": 2}):
        with pytest.raises(ValueError, match="exactly one of ndim and min_ndim"):
            checks.as_tensor(X, "X", floating=True, **ranks)


def test_as_learning_rate():
    assert checks.as_learning_rate(1e-3) == 1e-3 and checks.as_learning_rate(np.float32(0.5), "eta") == 0.5
    for bad, error in ((0.0, ValueError), (-1e-3, ValueError), (1e300, ValueError), (float("nan"), ValueError),
                       ("0.1", TypeError), (True, TypeError)):
        with pytest.raises(error, match="eta"):
            checks.as_learning_rate(bad, "eta")


def test_the_legal_ends_of_a_stated_range_must_not_be_refused_by_name(packages):
    """A count's minimum, a real's closed lower bound, seed 0 and the largest seed are legal: refused by that
    argument's name (a bound written one off, a negative axis refused) or crashing inside is a finding; a
    refusal that also names another argument is a limit met jointly, and passes."""
    api = packages["toy_sweep_edges"]
    assert Count(3, 1, 10).edges() == [("minimum-1", 1)] and Count(1, 1, 10).edges() == []
    assert Real(0.5, 0.0).edges() == [("minimum-0.0", 0.0)] and Real(0.5, 0.0, low_open=True).edges() == []
    assert Seed(3).edges() == [("0", 0), (f"maximum-{checks.MAX_SEED}", checks.MAX_SEED)] and Seed(0, None).edges() == []
    assert Count(3, 1, 10, cheap_max=True).edges() == [("minimum-1", 1), ("maximum-10", 10)]
    assert Count(10, 1, 10, cheap_max=True).edges() == [("minimum-1", 1)]
    assert Real(0.5, 0.0, 1.0, cheap_high=True).edges() == [("minimum-0.0", 0.0), ("maximum-1.0", 1.0)]
    for unbounded in (lambda: Count(3, 1, cheap_max=True), lambda: Real(0.5, 0.0, 1.0, high_open=True, cheap_high=True)):
        with pytest.raises(ValueError, match="cheap"):
            unbounded()
    cases = [Case(api.faithful, Count(3, 1, 10), Count(0, -2, 1), Real(0.5, 0.0)),
             Case(api.off_by_one, Count(3, 1, 10)), Case(api.positive_axis_only, Count(1, -1, 1)),
             Case(api.crashes_at_edge, Count(3, 1, 10)),
             Case(api.joint_limit, Count(5, 1, 10), Fixed([0, 2])),
             Case(api.seeded, Seed(1))]
    report = sweep.sweep("toy_sweep_edges", cases, time_limit=5)
    edges = [line for line in report.failures if "@" in line]
    assert report.edge_calls == 3 + 1 + 1 + 1 + 1 + 2
    assert sorted(line.split(":")[0] for line in edges) == [
        "toy_sweep_edges.api.crashes_at_edge(n@minimum-1)", "toy_sweep_edges.api.off_by_one(n@minimum-1)",
        "toy_sweep_edges.api.positive_axis_only(axis@minimum--1)",
        f"toy_sweep_edges.api.seeded(seed@maximum-{checks.MAX_SEED})"], edges
    assert sum("refused a value at the edge of its stated range" in line for line in edges) == 3
    assert any("ZeroDivisionError" in line for line in edges if "crashes_at_edge" in line)


def test_a_legal_call_the_table_declares_must_not_be_refused_by_name(packages):
    """`case.accepts` declares a legal end the kinds cannot reach (a bound on the items of a list, an upper end
    that is cheap here): refused by the named argument is a finding, labelled with the declaration's label."""
    api = packages["toy_sweep_edges"]
    cases = [Case(function, Instance([3, 4]), Count(8, 2, 32)).accepts("sizes-max", naming="sizes", sizes=[10**6])
             .accepts("bits-max", naming="bits", bits=32) for function in (api.sizes_capped_right, api.sizes_capped_one_off)]
    report = sweep.sweep("toy_sweep_edges", cases, time_limit=5)
    found = sorted(line.split(":")[0] for line in report.failures if "edge of its stated range" in line)
    assert found == ["toy_sweep_edges.api.sizes_capped_one_off(bits-max)",
                     "toy_sweep_edges.api.sizes_capped_one_off(sizes-max)"], report.failures
    assert report.edge_calls == 2 * (1 + 2)  # bits' minimum, then the two declared calls, per case
    case = Case(api.sizes_capped_right, Instance([3]), Count(8, 2, 32))
    for bad, message in (({"label": "", "naming": "sizes", "sizes": [1]}, "label"),
                         ({"label": "x", "naming": "sizes", "width": 1}, "unknown"),
                         ({"label": "x", "naming": "bits", "sizes": [1]}, "naming")):
        with pytest.raises(ValueError, match=message):
            case.accepts(**bad)
    with pytest.raises(ValueError, match="HeavyCase"):
        HeavyCase(api.sizes_capped_right, Instance([3]), Count(8, 2, 32)).accepts("x", naming="sizes", sizes=[1])


def test_a_records_fields_are_probed_at_their_legal_edges(packages):
    """A `Fields` record's listed fields are set, one at a time, to their kinds' legal edges: a field refused at
    its stated end by its own name is a finding, even when the message also names the record."""
    from typing import NamedTuple

    from impl.harness.kinds import Fields

    class Rec(NamedTuple):
        low: float
        high: float

    api = packages["toy_sweep_edges"]
    record = Fields(Rec(0.2, 0.5), low=Real(0.2, 0.0, 1.0, cheap_high=True), high=Real(0.5, 0.0, 1.0, cheap_high=True))
    assert [(name, label) for name, label, _ in record.field_edges()] == [
        ("low", "minimum-0.0"), ("low", "maximum-1.0"), ("high", "minimum-0.0"), ("high", "maximum-1.0")]
    report = sweep.sweep("toy_sweep_edges", [Case(api.record_rate, record)], time_limit=5)
    found = [line.split(":")[0] for line in report.failures if "edge of its stated range" in line]
    assert found == ["toy_sweep_edges.api.record_rate(rec.high@maximum-1.0)"], report.failures
    assert report.edge_calls == 4
