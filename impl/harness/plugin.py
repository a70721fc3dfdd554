"""The pytest plugin: claim fixtures, hardware markers, verdicts, results and history.

Enabled by the project's top-level conftest.py. Items under `specs/` are claims; anything
else collected (e.g. the harness's own tests) runs as a plain test. Like pytest's own
junitxml and stepwise plugins, this module only adds options and builds the plugin object in
`pytest_configure`; the object keeps the session's state and lives in `config.stash`.
"""
from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from impl import paths
from impl import timing
from impl.harness import hygiene, hypothesis_profiles, ids, results, state, thresholds, timeline
from impl.harness.claim import Claim
from impl.harness.freshness import FreshnessRecorder
from impl.harness.verdicts import VERDICTS, verdict
from impl.pipeline import artifacts, hardware, params, provenance, stages

HARDWARE_MARKERS = ("cpu", "gpu")
MARKERS = {  # declared here only (pyproject.toml lists none), so --strict-markers knows them
    "cpu": "claim runs and asserts on a CPU (every machine)",
    "gpu": "claim needs a GPU; skipped with the reason where none is found",
    "slow": "claim takes more than ~30 s at the quick profile",
    "lesson": "lesson(\"l5_quantization\"): a harness test that builds or reads that lesson's stages; under "
              "--lesson-dist it runs in the lesson's unit, on the worker that builds them (impl/harness/schedule.py)",
    "perf": "timing claim (performance protocol, impl/timing.py); run alone: serially, or under --lesson-dist last "
            "on the one worker left",
    "flag": "flag(\"F30\"): the claim tests a source statement flagged wrong in CLAIMS.md section 12; the "
            "statement as the source makes it is known refuted, the corrected one holds beside it",
    "known_refuted": "known_refuted(\"check\", source=\"what the sources say\"): the sources' statement fails at "
                     "that one named claim.expect check, as measured; every other check of the claim must hold",
}
_RECORD_PROPERTY = "claim_record"
PLUGIN = pytest.StashKey["ClaimsPlugin"]()
CLAIM = pytest.StashKey[Claim]()
_PHASES = pytest.StashKey[dict]()
_RECORDER = pytest.StashKey[provenance.Recorder]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("claims")
    group.addoption("--claim-seeds", default=None, metavar="SEEDS",
                    help="rerun claims that take a `seed` over these seeds, e.g. 0-9 or 0,3,7")
    group.addoption("--claim-results", default=None, metavar="DIR",
                    help="folder of per-lesson results files (default: <rootdir>/reports/results)")
    group.addoption("--no-claim-results", action="store_true",
                    help="write neither results nor history")
    group.addoption("--lesson-dist", action="store_true",
                    help="with -n N: one lesson per worker at a time, costliest first, then every perf claim on "
                         "one worker alone once the others have exited (impl/harness/schedule.py)")


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    # Respect hypothesis's own --hypothesis-profile when given; default to `ci`.
    hypothesis_profiles.register(load_default=not config.getoption("hypothesis_profile", None))
    plugin = ClaimsPlugin(config)
    config.stash[PLUGIN] = plugin
    config.pluginmanager.register(plugin, "claims-plugin")
    plugin.sigterm.install()
    if plugin.freshness is not None:
        config.pluginmanager.register(plugin.freshness, "claims-freshness")
    timeline_file = plugin.results_dir.parent / "logs" / timeline.FILE_NAME if plugin.write else None
    config.pluginmanager.register(timeline.TimelineRecorder(config, timeline_file), "claims-timeline")


def pytest_unconfigure(config: pytest.Config) -> None:
    plugin = config.stash.get(PLUGIN, None)
    if plugin is not None:
        del config.stash[PLUGIN]
        plugin.sigterm.restore()
        if plugin.freshness is not None:
            config.pluginmanager.unregister(plugin.freshness)
        recorder = config.pluginmanager.get_plugin("claims-timeline")
        if recorder is not None:
            config.pluginmanager.unregister(recorder)
        config.pluginmanager.unregister(plugin)
        if plugin.schedule_dir is not None:
            shutil.rmtree(plugin.schedule_dir, ignore_errors=True)


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


# -- fixtures (module-level, as in pytest's own plugins; state comes from the stash) ---------
@pytest.fixture
def claim(request: pytest.FixtureRequest) -> Claim:
    """The claim under test: thresholds from specs/<lesson>/claims.yaml, records for the report."""
    plugin = request.config.stash[PLUGIN]
    item = request.node
    if not plugin.is_claim(item):
        raise pytest.UsageError(f"{item.nodeid}: the claim fixture is for specs under specs/")
    known = _known_refuted(item)
    the_claim = Claim(plugin.claim_id(item), inspect.getdoc(item.function) or "",
                      plugin.thresholds(item), plugin.profile, known_refuted_check=known[0] if known else None)
    item.stash[CLAIM] = the_claim
    return the_claim


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """The seed for a statistical claim: params.yaml `seed`, or each of --claim-seeds."""
    value = getattr(request, "param", None)
    if value is None:
        value = params.default_seed(request.config.stash[PLUGIN].root / "params.yaml")
    provenance.record_seed(int(value))
    return int(value)


@pytest.fixture(autouse=True)
def _claim_leaves_no_trace(request: pytest.FixtureRequest):
    """A claim leaves process-wide state as it found it (impl.harness.state): a leak is an error naming it.

    Function-scoped and autouse, so it wraps the claim after its module- and session-scoped fixtures are
    set up and checks after the claim's own fixtures are torn down. The global generators are seeded
    from the claim id first, so the claim's draws do not depend on what ran before it.
    """
    if not request.config.stash[PLUGIN].is_claim(request.node):
        yield
        return
    before = state.take()
    undo_generators = state.seed_generators(ClaimsPlugin.claim_id(request.node))
    yield
    undo_generators()
    found = state.leaks(before, state.take_after(before))
    if found:
        state.restore(before, found)
        raise RuntimeError("the claim left process-wide state changed (restored now; fix the code that changed "
                           "it, e.g. with impl.isolation): " + "; ".join(found))


def _lesson_dist_worker(config: pytest.Config) -> bool:
    """Is this an xdist worker of a `--lesson-dist` run (a lesson at a time, perf claims last and alone)?"""
    return bool(getattr(config, "workerinput", {}).get("claims_lesson_dist"))


def _flag(item: pytest.Item) -> str | None:
    """The CLAIMS.md section 12 flag a claim answers (`@pytest.mark.flag("F30")`); form checked at collection."""
    marker = item.get_closest_marker("flag")
    return None if marker is None else str(marker.args[0])


def _known_refuted(item: pytest.Item) -> tuple[str, str] | None:
    """(check, source) of `@pytest.mark.known_refuted("check", source="...")`; form checked at collection."""
    marker = item.get_closest_marker("known_refuted")
    if marker is None:
        return None
    return str(marker.args[0]), str(marker.kwargs.get("source", ""))


def _expected_refuted(item: pytest.Item) -> bool:
    """Whether the claim is marked known-refuted (at one named check)."""
    return item.get_closest_marker("known_refuted") is not None


def _flag_problem(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("flag")
    if marker is None or (len(marker.args) == 1 and not marker.kwargs and re.fullmatch(r"F\d+", str(marker.args[0]))):
        return None
    return f"{item.nodeid}: write @pytest.mark.flag(\"F<number>\") (a CLAIMS.md section 12 flag), not {marker!r}"


def _known_refuted_problem(item: pytest.Item) -> str | None:
    if item.get_closest_marker("xfail") is not None:
        return (f"{item.nodeid}: a claim is not marked xfail (it would turn any failed check into 'known refuted'); "
                "name the one check that refutes the sources with @pytest.mark.known_refuted(\"check\", source=...)")
    marker = item.get_closest_marker("known_refuted")
    if marker is None:
        return None
    args_ok = len(marker.args) == 1 and isinstance(marker.args[0], str) and re.fullmatch(r"\w+", marker.args[0])
    source = marker.kwargs.get("source")
    if args_ok and set(marker.kwargs) == {"source"} and isinstance(source, str) and source.strip():
        return None
    return (f"{item.nodeid}: write @pytest.mark.known_refuted(\"<check name>\", source=\"<what the sources say>\"), "
            f"not {marker!r}")


class ClaimsPlugin:
    """The session's claims: collection checks, per-claim provenance, verdict records, writing them."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.root = Path(config.rootpath)
        self.profile = params.profile(self.root / "params.yaml")
        self.records: list[dict[str, Any]] = []
        option = config.getoption("--claim-results")
        self.results_dir = Path(option) if option else self.root / "reports" / "results"
        self.write = not config.getoption("--no-claim-results") and not hasattr(config, "workerinput")
        self.freshness = FreshnessRecorder(config, self.results_dir.parent) if self.write else None
        lesson_dist = config.getoption("--lesson-dist") and not hasattr(config, "workerinput")
        self.schedule_dir = Path(tempfile.mkdtemp(prefix="claims-schedule-")) if lesson_dist else None
        self.fresh_lessons: list[str] = []
        started = datetime.now(timezone.utc)
        self.run = {"run": f"{started:%Y%m%dT%H%M%SZ}-{os.getpid()}", "started": started.isoformat(timespec="seconds")}
        self._clock = time.monotonic()
        self.sigterm = hygiene.SigtermAsInterrupt()
        self.lessons_built: set[str] = set()  # --lesson-dist workers: lessons whose stage outputs were brought up to date
        self.cores = hygiene.CoreShare()  # --lesson-dist workers: torch/BLAS threads cut to their share of the cores

    # -- what an item is ---------------------------------------------------------------
    def is_claim(self, item: pytest.Item) -> bool:
        try:
            rel = Path(item.path).relative_to(self.root)
        except ValueError:
            return False
        return rel.parts[:1] == ("specs",)

    @staticmethod
    def claim_id(item: pytest.Item) -> str:
        return ids.record_key(item.nodeid).partition("[")[0]

    def thresholds(self, item: pytest.Item) -> dict[str, Any]:
        return thresholds.for_claim(self.claim_id(item), ids.spec_folder(item.nodeid), self.root, self.profile)

    # -- collection: every claim has exactly one hardware marker and a docstring --------
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        option = metafunc.config.getoption("--claim-seeds")
        if option and "seed" in metafunc.fixturenames:
            metafunc.parametrize("seed", parse_seeds(option), indirect=True)  # through the fixture, which records it

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        problems = []
        for item in filter(self.is_claim, items):
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
            for problem in (_flag_problem(item), _known_refuted_problem(item)):
                if problem:
                    problems.append(problem)
        if problems:
            raise pytest.UsageError("claim specs are malformed:\n  " + "\n  ".join(problems))

    def _build_lesson_artifacts(self, item: pytest.Item) -> None:
        """Under --lesson-dist, before a worker's first item of a lesson: bring every stage output the lesson's
        `verify` stage reads up to date, as `dvc repro` of that stage would first. The lesson's claims would
        build them anyway; built here, a perf claim that needs one (a trained recipe, a converted model)
        finds it ready in the quiet phase instead of training while the timings wait. Best effort: a stage
        that fails here fails again, with DVC's message, in the claim that requires it."""
        lesson = ids.spec_folder(item.nodeid)
        if lesson is None or lesson in self.lessons_built or not _lesson_dist_worker(self.config):
            return
        self.lessons_built.add(lesson)
        try:
            verify = stages.verify_stage(lesson, self.root)
        except KeyError:
            return
        producers = {stage.address for stage in stages.all_stages(self.root) if set(stage.outs) & set(verify.deps)}
        for address in sorted(producers):
            try:
                artifacts.reproduce(address)
            except artifacts.ArtifactError as exc:
                print(f"\nclaims: building {address} for {lesson} failed; its claims will say why: "
                      f"{str(exc)[:300]}", file=sys.stderr)

    def _share_cores(self, item: pytest.Item) -> None:
        """Under --lesson-dist with several workers: every item but the perf claims runs on this worker's share
        of the cores; the perf claims, alone on the last worker, get the pools back (hygiene.CoreShare)."""
        workers = getattr(item.config, "workerinput", {}).get("workercount", 1)
        if not _lesson_dist_worker(item.config) or workers < 2:
            return
        if item.get_closest_marker("perf"):
            self.cores.give_back()
        elif not self.cores.taken:
            self.cores.take(workers)

    @staticmethod
    def _wait_until_alone(item: pytest.Item) -> None:
        """Under --lesson-dist with several workers, a perf claim starts only when its worker is alone: the
        controller sends the perf claims as soon as a worker runs dry and leaves a file once the others have
        exited (impl/harness/schedule.py). The wait comes before the item's setup, so no timing includes it."""
        workerinput = getattr(item.config, "workerinput", {})
        if not (item.get_closest_marker("perf") and _lesson_dist_worker(item.config)
                and workerinput.get("workercount", 1) > 1):
            return
        from impl.harness.schedule import ALONE_WAIT_S, wait_until_alone

        if not wait_until_alone(Path(workerinput["claims_schedule_dir"])):
            item.add_marker(pytest.mark.skip(reason=f"inconclusive: other workers were still running after "
                                                    f"{ALONE_WAIT_S:.0f} s; a timing beside them measures them"))

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._share_cores(item)
        self._build_lesson_artifacts(item)
        if item.get_closest_marker("gpu") and not hardware.gpu_available():
            pytest.skip("no GPU found (torch.cuda and jax report none)")
        workers = getattr(item.config, "workerinput", {}).get("workercount", 1)
        if item.get_closest_marker("perf") and workers > 1 and not _lesson_dist_worker(item.config):
            # Timing beside another busy worker measures the neighbour, not the claim.
            pytest.skip(f"perf claims are timed serially, not beside {workers - 1} other xdist worker(s); "
                        "rerun with `-m perf` and no -n")

    @pytest.hookimpl(trylast=True)  # after pytest's own teardown has dropped the lesson's fixtures
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        """After a lesson's (or a test folder's) last item here, hand the memory it freed back to the OS."""
        if nextitem is None or ids.folder_of(nextitem.nodeid) != ids.folder_of(item.nodeid):
            hygiene.release_memory()

    # -- provenance and verdicts ---------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        self._wait_until_alone(item)
        if not self.is_claim(item):
            return (yield)
        with provenance.recording() as recorder:  # loaders report the artifacts and seeds they use
            item.stash[_RECORDER] = recorder
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if self.is_claim(item):
            if report.when == "call":
                _judge_named_checks(item, report, call)
            phases = item.stash.setdefault(_PHASES, {})
            phases[report.when] = (report, call.excinfo)
            if report.when == "teardown":
                report.user_properties.append((_RECORD_PROPERTY, json.dumps(self._record(item, phases))))
        return report

    def _record(self, item: pytest.Item, phases: dict) -> dict[str, Any]:
        key = ids.record_key(item.nodeid)
        the_claim = item.stash.get(CLAIM, None)
        recorder = item.stash.get(_RECORDER, provenance.Recorder())
        outcome, message = verdict(phases)
        seeds = list(dict.fromkeys(recorder.seeds + (the_claim.seeds if the_claim else [])))
        hw = dict(hardware.cpu_info(), threads=hardware.thread_settings())
        hw["gpus"] = hardware.gpus() if item.get_closest_marker("gpu") else None
        return {
            "key": key, "id": key.partition("[")[0], "nodeid": item.nodeid, "run": self._run_id(),
            "lesson": key.split(".")[0], "lesson_folder": ids.spec_folder(item.nodeid),
            "statement": inspect.getdoc(getattr(item, "function", None)) or "",
            "verdict": outcome, "message": message,
            "markers": sorted({m.name for m in item.iter_markers() if m.name in MARKERS}),
            "flag": _flag(item),
            "expected_refuted": _expected_refuted(item),
            "observed": the_claim.observed if the_claim else {},
            "checks": the_claim.checks if the_claim else [],
            "thresholds": self.thresholds(item),
            "plots": the_claim.plots if the_claim else [],
            "seeds": seeds,
            "artifacts": dict(recorder.artifacts),
            "profile": self.profile,
            "duration_s": round(sum(rep.duration for rep, _ in phases.values()), 4),
            "hardware": hw,
            "xdist_worker": getattr(self.config, "workerinput", {}).get("workerid"),
            "git": provenance.git_state(),
            "versions": provenance.package_versions(),
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    def _run_id(self) -> str:
        """The session's run id; an xdist worker reports its controller's (one run, many workers)."""
        return getattr(self.config, "workerinput", {}).get("claims_run", self.run["run"])

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:  # xdist controller: hand the run id to each worker
        node.workerinput["claims_run"] = self.run["run"]
        if self.schedule_dir is not None:  # --lesson-dist: where each worker leaves its collection
            node.workerinput["claims_schedule_dir"] = str(self.schedule_dir)
            node.workerinput["claims_lesson_dist"] = True  # perf claims come alone, after every other worker left

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if self.schedule_dir is None:
            return None
        from impl.harness.schedule import LessonScheduling  # imports xdist: only where it schedules

        return LessonScheduling(config, log, items_dir=self.schedule_dir,
                                junit=self.root / "reports" / "logs" / "junit.xml")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if _lesson_dist_worker(self.config):  # tell the controller's scheduler what this worker collected
            from impl.harness.schedule import write_items

            write_items(Path(self.config.workerinput["claims_schedule_dir"]), self.config.workerinput["workerid"],
                        session.items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Runs in the controller for reports from xdist workers too (user_properties travel).
        if report.when == "teardown":
            self.records += [json.loads(value) for name, value in report.user_properties if name == _RECORD_PROPERTY]

    # -- writing -------------------------------------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.write and self.records:
            results.merge(self.records, self.results_dir, root=self.root)
            results.append_history(self.records, self.results_dir.parent / paths.HISTORY_FILE.name)
            self.fresh_lessons = self.freshness.write_markers(session.exitstatus)
            results.append_run(self._run_summary(session), self.results_dir.parent / paths.RUNS_FILE.name)

    def _run_summary(self, session: pytest.Session) -> dict[str, Any]:
        """What the report's overview shows of this run: when, how long, what was asked, where, the outcome."""
        counts = {v: sum(r["verdict"] == v for r in self.records) for v in VERDICTS}
        return {
            **self.run, "wall_s": round(time.monotonic() - self._clock, 1),
            "args": [str(arg) for arg in self.config.invocation_params.args],
            "exitstatus": int(session.exitstatus), "profile": self.profile, "git": provenance.git_state(),
            "hardware": dict(hardware.cpu_info(), threads=hardware.thread_settings(),
                             gpus=next((r["hardware"]["gpus"] for r in self.records if r["hardware"].get("gpus")), None)),
            "workers": int(getattr(self.config.option, "numprocesses", 0) or 0),
            "counts": counts, "lessons": sorted({r["lesson_folder"] for r in self.records}),
            "fresh_lessons": self.fresh_lessons,
        }

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.records or hasattr(self.config, "workerinput"):
            return
        counts = {v: sum(r["verdict"] == v for r in self.records) for v in VERDICTS}
        summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        target = str(self.results_dir) if self.write else "not written"
        terminalreporter.write_sep("-", f"claims: {summary} -> {target}")
        if self.fresh_lessons:
            terminalreporter.write_line(f"verified whole (make report reuses these verdicts): {', '.join(self.fresh_lessons)}")
        for record in self.records:
            if record["verdict"] in ("refuted", "error"):
                terminalreporter.write_line(f"{record['verdict'].upper():8} {record['key']}: {record['message'][:300]}")


def _judge_named_checks(item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo) -> None:
    """Turn a call's report into what the claim's named checks and timing protocol say.

    - a known-refuted claim whose spec passed: "known refuted" (shown by pytest as xfailed) when its named
      check failed; a failure (an error verdict) when the check held or never ran;
    - `Inconclusive` (or `NoisyHost`) from the timing protocol (`impl.timing`): not run, with its reason.
    """
    if call.excinfo is not None and call.excinfo.errisinstance(timing.Inconclusive):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"inconclusive: {call.excinfo.value}")
        return
    known = _known_refuted(item)
    the_claim = item.stash.get(CLAIM, None)
    if known is None or not report.passed:
        return
    check, source = known
    outcome = the_claim.known_refuted_outcome if the_claim is not None else "not run"
    if outcome == "failed":
        failed = next(c for c in the_claim.checks if c["name"] == check and not c["ok"])
        report.outcome = "skipped"
        report.wasxfail = (f"{source} -- refuted at check {check}: {failed['observed']!r} is not "
                           f"{failed['op']} {failed['limit_name'] or ''} {failed['limit']!r}").replace("  ", " ")
        report.claim_known_refuted = True
    elif outcome == "held":
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid}: marked known refuted at check {check!r}, but that check held: "
                           "the sources' statement holds as measured; remove the marker")
    else:
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid}: marked known refuted at check {check!r}, but no claim.expect "
                           f"named {check!r} ran (the claim fixture is needed)")
