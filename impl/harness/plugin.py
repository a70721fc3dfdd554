"""The pytest plugin: claim fixtures, hardware markers, verdicts, results.json.

Enabled by the project's top-level conftest.py. Items under `specs/` are claims;
anything else collected (e.g. the harness's own tests) runs as plain tests.
"""
from __future__ import annotations

import inspect
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from impl.harness import hardware, hypothesis_profiles, ids, params, provenance, results
from impl.harness.claim import Claim
from impl.harness.verdicts import verdict

HARDWARE_MARKERS = ("cpu", "gpu")
MARKERS = {
    "cpu": "claim runs and asserts on a CPU (every machine)",
    "gpu": "claim needs a GPU; skipped with the reason where none is found",
    "slow": "claim takes more than ~30 s at the quick profile",
    "perf": "timing claim (performance protocol); run serially, not under xdist",
}
_PHASES = pytest.StashKey[dict]()
_CLAIM = pytest.StashKey[Claim]()
_SEEDS = pytest.StashKey[list]()
_RECORDS = pytest.StashKey[list]()
_RECORD_PROPERTY = "claim_record"
_CONFIG: list[pytest.Config] = []  # the session's config, for pytest_runtest_logreport


# -- options and configuration ---------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("claims")
    group.addoption(
        "--claim-seeds", default=None, metavar="SEEDS",
        help="rerun claims that take a `seed` over these seeds, e.g. 0-9 or 0,3,7",
    )
    group.addoption(
        "--claim-results", default=None, metavar="PATH",
        help="results file to merge verdicts into (default: <rootdir>/reports/results.json)",
    )
    group.addoption(
        "--no-claim-results", action="store_true",
        help="do not write verdicts to the results file",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    # Respect hypothesis's own --hypothesis-profile when given; default to `ci`.
    hypothesis_profiles.register(load_default=not config.getoption("hypothesis_profile", None))
    config.stash[_RECORDS] = []
    _CONFIG[:] = [config]


def parse_seeds(text: str) -> list[int]:
    """`0-9` -> [0..9]; `0,3,7` -> [0, 3, 7]; `1-3,8` -> [1, 2, 3, 8]."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, sep, high = part.partition("-")
        try:
            values = range(int(low), int(high) + 1) if sep else [int(low)]
        except ValueError:
            raise pytest.UsageError(f"--claim-seeds: cannot parse {part!r} (use e.g. 0-9 or 0,3,7)")
        seeds.extend(seed for seed in values if seed not in seeds)
    if not seeds:
        raise pytest.UsageError("--claim-seeds: no seeds given")
    return seeds


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    option = metafunc.config.getoption("--claim-seeds")
    if option and "seed" in metafunc.fixturenames:
        metafunc.parametrize("seed", parse_seeds(option))


def _root(config: pytest.Config) -> Path:
    return Path(config.rootpath)


def _is_claim(item: pytest.Item) -> bool:
    root = _root(item.config)
    try:
        rel = Path(item.path).relative_to(root)
    except ValueError:
        return False
    return rel.parts[:1] == ("specs",)


# -- collection: every claim has exactly one hardware marker and a docstring ------
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = []
    for item in items:
        if not _is_claim(item):
            continue
        marks = sorted({m.name for m in item.iter_markers() if m.name in HARDWARE_MARKERS})
        if len(marks) != 1:
            problems.append(f"{item.nodeid}: needs exactly one of @pytest.mark.cpu / "
                            f"@pytest.mark.gpu, has {marks or 'none'}")
        function = getattr(item, "function", None)
        if function is None or not inspect.getdoc(function):
            problems.append(f"{item.nodeid}: the docstring is the claim; it has none")
        try:
            ids.record_key(item.nodeid)
        except ValueError as exc:
            problems.append(f"{item.nodeid}: {exc}")
    if problems:
        raise pytest.UsageError("claim specs are malformed:\n  " + "\n  ".join(problems))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gpu") and not hardware.gpu_available():
        pytest.skip("no GPU found (torch.cuda and jax report none)")
    workers = getattr(item.config, "workerinput", {}).get("workercount", 1)
    if item.get_closest_marker("perf") and workers > 1:
        # Timing beside another busy worker measures the neighbour, not the claim.
        pytest.skip(f"perf claims are timed serially, not beside {workers - 1} other xdist worker(s); "
                    "rerun with `-m perf` and no -n")


# -- fixtures ---------------------------------------------------------------------
@pytest.fixture
def claim(request: pytest.FixtureRequest) -> Claim:
    """The claim under test: thresholds from params.yaml, records for the report."""
    item = request.node
    if not _is_claim(item):
        raise pytest.UsageError(f"{item.nodeid}: the claim fixture is for specs under specs/")
    claim_id = ids.record_key(item.nodeid).partition("[")[0]
    params_file = _root(item.config) / "params.yaml"
    the_claim = Claim(
        claim_id, inspect.getdoc(item.function) or "",
        params.thresholds(claim_id, params_file), params.profile(params_file),
    )
    item.stash[_CLAIM] = the_claim
    return the_claim


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """The seed for a statistical claim: params.yaml `seed`, or each of --claim-seeds."""
    value = getattr(request, "param", None)
    if value is None:
        value = params.default_seed(_root(request.config) / "params.yaml")
    request.node.stash.setdefault(_SEEDS, []).append(int(value))
    return int(value)


# -- verdicts and records -----------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if not _is_claim(item):
        return report
    phases = item.stash.setdefault(_PHASES, {})
    phases[report.when] = (report, call.excinfo)
    if report.when == "teardown":
        record = _build_record(item, phases)
        report.user_properties.append((_RECORD_PROPERTY, json.dumps(record)))
    return report


def _build_record(item: pytest.Item, phases: dict) -> dict[str, Any]:
    config = item.config
    nodeid = item.nodeid
    key = ids.record_key(nodeid)
    claim_id = key.partition("[")[0]
    the_claim = item.stash.get(_CLAIM, None)
    params_file = _root(config) / "params.yaml"
    outcome, message = verdict(phases)
    seeds = list(item.stash.get(_SEEDS, []))
    seeds += [s for s in (the_claim.seeds if the_claim else []) if s not in seeds]
    hw = dict(hardware.cpu_info(), threads=hardware.thread_settings())
    hw["gpus"] = hardware.gpus() if item.get_closest_marker("gpu") else None
    return {
        "key": key,
        "id": claim_id,
        "nodeid": nodeid,
        "lesson": claim_id.split(".")[0],
        "lesson_folder": nodeid.split("/")[1],
        "statement": inspect.getdoc(getattr(item, "function", None)) or "",
        "verdict": outcome,
        "message": message,
        "markers": sorted({m.name for m in item.iter_markers() if m.name in MARKERS}),
        "observed": the_claim.observed if the_claim else {},
        "checks": the_claim.checks if the_claim else [],
        "thresholds": params.thresholds(claim_id, params_file),
        "plots": the_claim.plots if the_claim else [],
        "seeds": seeds,
        "artifacts": the_claim.artifacts if the_claim else {},
        "profile": params.profile(params_file),
        "duration_s": round(sum(rep.duration for rep, _ in phases.values()), 4),
        "hardware": hw,
        "xdist_worker": getattr(config, "workerinput", {}).get("workerid"),
        "git": provenance.git_state(),
        "versions": provenance.package_versions(),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Runs in the controller for reports from xdist workers too (user_properties travel).
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == _RECORD_PROPERTY:
            _CONFIG[0].stash[_RECORDS].append(json.loads(value))


def _results_path(config: pytest.Config) -> Path:
    option = config.getoption("--claim-results")
    return Path(option) if option else _root(config) / "reports" / "results.json"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput") or config.getoption("--no-claim-results"):
        return
    records = config.stash.get(_RECORDS, [])
    if records:
        results.merge(records, _results_path(config), root=_root(config))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    records = config.stash.get(_RECORDS, [])
    if not records or hasattr(config, "workerinput"):
        return
    counts: dict[str, int] = {}
    for record in records:
        counts[record["verdict"]] = counts.get(record["verdict"], 0) + 1
    summary = ", ".join(f"{counts[v]} {v}" for v in results.VERDICTS if v in counts)
    target = "not written" if config.getoption("--no-claim-results") else str(_results_path(config))
    terminalreporter.write_sep("-", f"claims: {summary} -> {target}")
    for record in records:
        if record["verdict"] in ("refuted", "error"):
            terminalreporter.write_line(f"{record['verdict'].upper():8} {record['key']}: {record['message'][:300]}")
