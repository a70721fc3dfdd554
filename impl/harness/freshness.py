"""A plain `pytest` run that verified whole lessons leaves their freshness markers, as `dvc repro` would.

A lesson counts as verified by this run when the run's selection held every claim of
`specs/<lesson>` (the folder is among the arguments or under one; no `-k`, no `-m`, no
`--claim-seeds`, nothing deselected) and every one of its items ran to its teardown. Then, if
none of the lesson's source deps changed while the run went on, the run writes
`reports/verified/<lesson>.json` (impl.pipeline.verified), and `make report` reuses its
verdicts instead of running the specs again. Under xdist the controller does not collect: it counts
what the first worker reports it collected (`pytest_xdist_node_collection_finished`) and the teardown
reports every worker sends back, so a run spread over workers marks its whole lessons too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from impl.harness.ids import spec_folder
from impl.pipeline import verified


class FreshnessRecorder:
    """Counts each lesson's selected and finished items; writes markers for lessons run whole."""

    def __init__(self, config: pytest.Config, reports_dir: Path):
        self.config = config
        self.root = Path(config.rootpath)
        self.reports_dir = reports_dir
        self.selected: dict[str, int] = {}
        self.finished: dict[str, int] = {}
        self.partial: set[str] = set()
        self.started: dict[str, dict[str, Any]] = {}

    def _whole_selection(self) -> bool:
        option = self.config.option
        return not (getattr(option, "keyword", "") or getattr(option, "markexpr", "")
                    or getattr(option, "deselect", None) or self.config.getoption("--claim-seeds"))

    def _covered(self, lesson: str) -> bool:
        """Is specs/<lesson> itself or inside one of the run's path arguments (not a single file or test)?"""
        folder = (self.root / "specs" / lesson).resolve()
        invocation = Path(self.config.invocation_params.dir)
        for arg in self.config.args:
            if "::" in arg:
                continue
            path = (invocation / arg).resolve()
            if path == folder or path in folder.parents:
                return True
        return False

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.partial.update(lesson for item in items if (lesson := spec_folder(item.nodeid)))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._selected([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.selected and not self.started:  # every worker collects the same items: count the first
            self._selected(list(ids))

    def _selected(self, nodeids: list[str]) -> None:
        for nodeid in nodeids:
            if lesson := spec_folder(nodeid):
                self.selected[lesson] = self.selected.get(lesson, 0) + 1
        if not self._whole_selection():
            return
        for lesson in self.selected:
            if lesson in self.partial or not self._covered(lesson):
                continue
            try:
                self.started[lesson] = verified.lesson_digest(lesson, self.root, sources_only=True)
            except KeyError:  # a lesson folder without a verify stage: nothing to mark
                continue

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown":
            if lesson := spec_folder(report.nodeid):
                self.finished[lesson] = self.finished.get(lesson, 0) + 1

    def write_markers(self, exitstatus: int) -> list[str]:
        """After the results are written: markers for the lessons this run verified whole."""
        if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return []
        written = []
        for lesson, digest in self.started.items():
            if self.finished.get(lesson, 0) != self.selected.get(lesson):
                continue
            if verified.lesson_digest(lesson, self.root, sources_only=True) != digest:
                continue  # an edit during the run: these verdicts belong to no one version of the code
            try:
                end = verified.lesson_digest(lesson, self.root)
                verified.write_marker(lesson, end, self.reports_dir)
            except (KeyError, ValueError):
                continue
            written.append(lesson)
        return written

