"""How `pytest -n 2 --lesson-dist` spreads the claims over two cores, timings last and alone.

xdist's own schedulers either scatter a lesson's claims over workers (each worker then builds the
lesson's session fixtures again and waits on the same DVC stages) or group by module only, and none
of them keeps a timing claim away from a busy neighbour. This scheduler:

- hands each worker one whole lesson (`specs/<lesson>/`) or one harness test module at a time, the
  costliest first; a harness test marked `@pytest.mark.lesson("<lesson>")` (it builds or reads that
  lesson's stages, as a stage's tiny run does) joins its lesson's unit, so no worker waits on a stage
  the other is building (measured: a tiny run held one worker idle for 83 s while the other built
  Lesson 5's float models); the durations the last run left in `reports/logs/junit.xml`, or on a fresh clone
  the declared cost (a `slow` item ~30 s, another ~1 s);
- holds back every `perf` claim until no other work is left, then sends them all to the first worker
  that runs dry and tells every worker to finish and exit; a perf claim starts only once its worker is
  alone (`wait_until_alone`: the controller leaves a file in the schedule folder when every other worker
  has exited), so a timing is never taken beside a busy neighbour, which would measure the neighbour
  (the performance protocol in DESIGN.md). The perf claims are sent at once, not when the worker is
  alone, because an xdist worker runs its last item only when it has the next one or is told to stop:
  held back, they kept one worker idle with its last item unrun for 166 s of a clean-clone run.

The controller does not collect, so each worker writes what it collected (node id, perf, slow) to
a file in a folder the controller hands it (`workerinput["claims_schedule_dir"]`); the scheduler
reads it once every worker has collected.
"""
from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ElementTree
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

from xdist.scheduler import LoadScopeScheduling

from impl.checks import as_float, as_path
from impl.harness.ids import spec_folder

PERF_SCOPE = "<perf claims, alone>"
SLOW_ITEM_S = 30.0  # the `slow` marker's declared cost ("more than ~30 s at the quick profile")
OTHER_ITEM_S = 1.0
ITEMS_FILE = "items-{worker}.json"
ALONE_FILE = "alone"  # in the schedule folder: every worker but the one holding the perf claims has exited
ALONE_WAIT_S = 3600.0


def scope_of(nodeid: str) -> str:
    """A lesson folder for a claim (`specs/l5_quantization`), the module for any other test."""
    folder = spec_folder(nodeid)
    return f"specs/{folder}" if folder else nodeid.split("::", 1)[0]


def _lesson_scope(item: Any) -> str | None:
    """`specs/<lesson>` for an item marked `lesson("<lesson>")`, else None."""
    marker = item.get_closest_marker("lesson")
    return None if marker is None else f"specs/{marker.args[0]}"


def write_items(folder: Path, worker: str, items: Sequence[Any]) -> None:
    """A worker's collection, for the controller: node id -> {"perf": bool, "slow": bool, "scope": str | None}."""
    table = {item.nodeid: {"perf": item.get_closest_marker("perf") is not None,
                           "slow": item.get_closest_marker("slow") is not None,
                           "scope": _lesson_scope(item)} for item in items}
    target = Path(folder) / ITEMS_FILE.format(worker=worker)
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(table), encoding="utf-8")
    partial.replace(target)


def wait_until_alone(folder: Path, timeout_s: float = ALONE_WAIT_S, poll_s: float = 0.1) -> bool:
    """Block until the controller says this worker is the only one left (True), or `timeout_s` passes (False)."""
    flag = as_path(folder, "folder") / ALONE_FILE
    deadline = time.monotonic() + as_float(timeout_s, "timeout_s", low=0.0, high=24 * 3600.0)
    poll_s = as_float(poll_s, "poll_s", low=0.001, high=60.0)
    while not flag.exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
    return True


def last_durations(junit: Path) -> dict[str, float]:
    """Node id -> seconds, from the JUnit XML the last `make test` wrote; empty when there is none."""
    try:
        root = ElementTree.parse(junit).getroot()
    except (OSError, ElementTree.ParseError):
        return {}
    found = {}
    for case in root.iter("testcase"):
        module, name = case.get("classname", ""), case.get("name", "")
        if module and name:
            found[module.replace(".", "/") + ".py::" + name] = float(case.get("time") or 0.0)
    return found


def item_scope(nodeid: str, marks: dict[str, Any]) -> str:
    """The unit an item runs in: the lesson its `lesson` marker names, else `scope_of(nodeid)`."""
    return marks.get("scope") or scope_of(nodeid)


def unit_costs(items: dict[str, dict[str, Any]], durations: dict[str, float]) -> dict[str, float]:
    """Each scope's expected seconds before the perf phase: the last run's duration per item where known, else
    its declared cost (perf claims left out: they run later)."""
    costs: dict[str, float] = {}
    for nodeid, marks in items.items():
        if marks.get("perf"):
            continue
        guess = SLOW_ITEM_S if marks.get("slow") else OTHER_ITEM_S
        scope = item_scope(nodeid, marks)
        costs[scope] = costs.get(scope, 0.0) + durations.get(nodeid, guess)
    return costs


class LessonScheduling(LoadScopeScheduling):
    """One lesson (or harness module) per worker at a time, costliest first; perf claims last, on one worker alone."""

    def __init__(self, config: Any, log: Any = None, *, items_dir: Path, junit: Path | None = None):
        super().__init__(config, log)
        self.items_dir = Path(items_dir)
        self.junit = junit
        self.perf_ids: frozenset[str] = frozenset()  # every perf claim of the collection
        self.scopes: dict[str, str] = {}   # node id -> its unit (before schedule(): by node id alone)
        self.perf: list[str] = []          # those not yet sent
        self.perf_node: Any = None         # the worker kept for them

    # -- what a scope is ------------------------------------------------------------------
    def _split_scope(self, nodeid: str) -> str:
        return PERF_SCOPE if nodeid in self.perf_ids else self.scopes.get(nodeid) or scope_of(nodeid)

    def _read_items(self) -> dict[str, dict[str, bool]]:
        files = sorted(self.items_dir.glob(ITEMS_FILE.format(worker="*")))
        if not files:
            raise RuntimeError(f"no worker wrote its collection to {self.items_dir}; is the claims plugin loaded "
                               "in the workers?")
        return json.loads(files[0].read_text(encoding="utf-8"))

    # -- the first distribution ----------------------------------------------------------------
    def schedule(self) -> None:
        assert self.collection_is_completed
        if self.collection is not None:
            for node in self.nodes:
                self._reschedule(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        self.collection = list(next(iter(self.registered_collections.values())))
        if not self.collection:
            return
        items = self._read_items()
        self.perf = [nodeid for nodeid in self.collection if items.get(nodeid, {}).get("perf")]
        self.perf_ids = frozenset(self.perf)
        self.scopes = {nodeid: item_scope(nodeid, items.get(nodeid, {})) for nodeid in self.collection}
        units: dict[str, dict[str, bool]] = {}
        for nodeid in self.collection:
            if nodeid not in self.perf_ids:
                units.setdefault(self.scopes[nodeid], {})[nodeid] = False
        costs = unit_costs(items, last_durations(self.junit) if self.junit else {})
        self.workqueue = OrderedDict(sorted(units.items(), key=lambda unit: -costs.get(unit[0], 0.0)))
        self.log("lesson scheduling:", ", ".join(f"{scope} ~{costs.get(scope, 0):.0f}s" for scope in self.workqueue),
                 f"then {len(self.perf)} perf claims alone")
        for node in self.nodes:
            if self.workqueue:
                self._assign_work_unit(node)
        for node in self.nodes:
            self._reschedule(node)

    # -- later: more work, or the quiet perf phase ----------------------------------------------
    def _reschedule(self, node: Any) -> None:
        if node.shutting_down:
            return
        if self.workqueue:
            if self._pending_of(self.assigned_work[node]) <= 2:
                self._assign_work_unit(node)
            return
        if not self.perf:
            node.shutdown()
            return
        if self.perf_node is None:  # the first worker to find no work left takes the perf claims now, so
            self._send_perf(node)   # that its last item runs; they wait on their worker for the alone file
            return
        if node is not self.perf_node:
            node.shutdown()

    def _send_perf(self, node: Any) -> None:
        self.perf_node = node
        unit = {nodeid: False for nodeid in self.perf}
        self.perf = []
        self.assigned_work[node][PERF_SCOPE] = unit
        collection = self.registered_collections[node]
        node.send_runtest_some([collection.index(nodeid) for nodeid in unit])
        for other in self.nodes:  # every worker finishes what it holds and exits
            if not other.shutting_down:
                other.shutdown()
        self._signal_if_alone()

    def _signal_if_alone(self) -> None:
        """Leave the alone file once at most one worker is left (the perf claims' worker then times them)."""
        if len(self.assigned_work) <= 1:
            (self.items_dir / ALONE_FILE).touch()

    def remove_node(self, node: Any) -> str | None:
        workload = self.assigned_work.get(node, {})
        for scope in [scope for scope, unit in workload.items() if all(unit.values())]:
            del workload[scope]  # xdist would queue a finished unit again, and send its replacement nothing
        crashed = super().remove_node(node)  # a worker that died holding the perf claims: they go back to the
        if node is self.perf_node:           # queue, for the worker xdist starts in its place
            self.perf_node = None
        self._signal_if_alone()
        return crashed

    @property
    def tests_finished(self) -> bool:
        return not self.perf and super().tests_finished

    @property
    def has_pending(self) -> bool:
        return bool(self.perf) or super().has_pending
