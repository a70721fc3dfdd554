"""The lesson scheduler (`--lesson-dist`): whole lessons per worker, costliest first, perf claims last and alone.

Driven here with stand-in workers, the way xdist's own scheduler tests drive theirs, so every step of the
protocol (collection, completions, shutdowns, a worker leaving) is checked without starting processes.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from impl.harness.schedule import (
    ALONE_FILE, PERF_SCOPE, LessonScheduling, last_durations, scope_of, unit_costs, wait_until_alone,
)


class FakeNode:
    def __init__(self, name: str):
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[int] = []

    def send_runtest_some(self, indices):
        assert not self.shutting_down, "work sent to a worker told to shut down"
        self.sent += list(indices)

    def shutdown(self):
        self.shutting_down = True


COLLECTION = [
    "specs/l1_linalg/test_svd.py::test_a",
    "specs/l1_linalg/test_perf.py::test_speed",
    "specs/l5_quantization/test_tflite.py::test_size",
    "specs/l5_quantization/test_tflite.py::test_accuracy",
    "specs/l5_quantization/test_tflite.py::test_latency",
    "tests/harness/test_units.py::test_x",
]
PERF = {"specs/l1_linalg/test_perf.py::test_speed", "specs/l5_quantization/test_tflite.py::test_latency"}
SLOW = {"specs/l5_quantization/test_tflite.py::test_accuracy"}


def _scheduler(tmp_path, nodes, junit=None, collection=COLLECTION, scopes=None):
    """A scheduler over `collection` with `nodes` registered; `scopes` gives an item its `lesson` marker's unit."""
    scopes = scopes or {}
    (tmp_path / "items-gw0.json").write_text(json.dumps(
        {nodeid: {"perf": nodeid in PERF, "slow": nodeid in SLOW, "scope": scopes.get(nodeid)}
         for nodeid in collection}))
    config = SimpleNamespace(getvalue=lambda name: [f"{len(nodes)}*popen"], option=SimpleNamespace())
    sched = LessonScheduling(config, items_dir=tmp_path, junit=junit)
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    return sched


def _names(node):
    return [COLLECTION[i] for i in node.sent]


def _finish(sched, node):
    for index in node.sent:
        nodeid = COLLECTION[index]
        if not sched.assigned_work[node][sched._split_scope(nodeid)][nodeid]:
            sched.mark_test_complete(node, index)


def test_scopes_are_lessons_for_claims_and_modules_for_other_tests():
    assert scope_of("specs/l5_quantization/test_tflite.py::test_size[x]") == "specs/l5_quantization"
    assert scope_of("tests/harness/test_units.py::test_x") == "tests/harness/test_units.py"


def test_a_lesson_stays_on_one_worker_and_the_costliest_goes_first(tmp_path):
    a, b = FakeNode("gw0"), FakeNode("gw1")
    sched = _scheduler(tmp_path, [a, b])
    # l5 (one slow item ~30 s + 1 s) outranks l1 and the harness module (1 s each)
    assert _names(a)[:2] == ["specs/l5_quantization/test_tflite.py::test_size",
                             "specs/l5_quantization/test_tflite.py::test_accuracy"]
    for node in (a, b):  # perf claims, where sent, come after every other item of their worker
        names = _names(node)
        assert all(n in PERF for n in names[next((i for i, n in enumerate(names) if n in PERF), len(names)):])
    assert not (tmp_path / ALONE_FILE).exists(), "a perf claim may start while other work is left"
    lessons = {scope_of(n) for n in _names(a) if n not in PERF} & {scope_of(n) for n in _names(b) if n not in PERF}
    assert not lessons, f"a lesson was split over two workers: {lessons}"
    assert not sched.tests_finished and sched.has_pending


def _queue_emptied(tmp_path):
    """Two workers and three units: the queue empties at the first distribution, and the worker that asks next
    (holding one item) takes the perf claims. Returns the scheduler, that worker, the other."""
    a, b = FakeNode("gw0"), FakeNode("gw1")
    sched = _scheduler(tmp_path, [a, b])
    keeper = sched.perf_node
    assert keeper in (a, b)
    return sched, keeper, b if keeper is a else a


def test_perf_claims_go_to_the_first_worker_to_run_dry_and_start_only_when_it_is_alone(tmp_path):
    sched, keeper, other = _queue_emptied(tmp_path)
    # sent at once, so that the worker runs the last item it holds (xdist runs an item when it has the next)
    assert set(_names(keeper)[-len(PERF):]) == PERF and PERF_SCOPE in sched.assigned_work[keeper]
    assert not PERF & set(_names(other)), "perf claims sent to two workers"
    assert keeper.shutting_down and other.shutting_down, "every worker finishes what it holds and exits"
    assert not (tmp_path / ALONE_FILE).exists(), "the perf claims would start beside a busy worker"
    assert not wait_until_alone(tmp_path, timeout_s=0.05)
    _finish(sched, other)
    assert not (tmp_path / ALONE_FILE).exists(), "the other worker has not exited yet"
    sched.remove_node(other)   # the other worker exited
    assert (tmp_path / ALONE_FILE).exists() and wait_until_alone(tmp_path, timeout_s=0.0)
    assert not sched.tests_finished, "the run would end before its perf claims"
    _finish(sched, keeper)
    assert sched.tests_finished and not sched.has_pending


def test_perf_claims_outlive_the_worker_kept_for_them(tmp_path):
    sched, keeper, other = _queue_emptied(tmp_path)
    _finish(sched, other)
    sched.remove_node(other)
    for index in keeper.sent:
        if COLLECTION[index] not in PERF:
            sched.mark_test_complete(keeper, index)
    assert sched.remove_node(keeper) in PERF   # it dies while it times them: they go back to the queue
    replacement = FakeNode("gw2")  # xdist starts a worker in its place
    sched.add_node(replacement)
    sched.add_node_collection(replacement, COLLECTION)
    sched.schedule()
    assert set(_names(replacement)) == PERF, "the perf claims were lost with the worker kept for them"
    assert (tmp_path / ALONE_FILE).exists()


def test_waiting_to_be_alone_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        wait_until_alone(tmp_path, timeout_s=-1)
    with pytest.raises(ValueError):
        wait_until_alone(tmp_path, poll_s=0)
    with pytest.raises((TypeError, ValueError)):
        wait_until_alone(None)


def test_one_worker_runs_its_lessons_then_the_perf_claims(tmp_path):
    a = FakeNode("gw0")
    sched = _scheduler(tmp_path, [a])
    for _ in range(4):
        _finish(sched, a)
    assert sorted(_names(a)) == sorted(COLLECTION) and _names(a)[-len(PERF):] == [n for n in COLLECTION if n in PERF]
    assert sched.tests_finished


def test_the_last_runs_durations_order_the_lessons(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text('<testsuites><testsuite><testcase classname="specs.l1_linalg.test_svd" name="test_a" '
                     'time="500.0"/></testsuite></testsuites>')
    assert last_durations(junit) == {"specs/l1_linalg/test_svd.py::test_a": 500.0}
    a, b = FakeNode("gw0"), FakeNode("gw1")
    _scheduler(tmp_path, [a, b], junit=junit)
    assert _names(a)[0] == "specs/l1_linalg/test_svd.py::test_a"


def test_costs_fall_back_to_the_declared_markers():
    items = {"specs/l1/t.py::slow": {"slow": True}, "specs/l1/t.py::fast": {}, "tests/t.py::x": {}}
    assert unit_costs(items, {}) == {"specs/l1": 31.0, "tests/t.py": 1.0}
    assert unit_costs({**items, "specs/l1/t.py::timed": {"perf": True}}, {}) == {"specs/l1": 31.0, "tests/t.py": 1.0}
    assert unit_costs(items, {"tests/t.py::x": 7.5})["tests/t.py"] == 7.5
    assert last_durations(__import__("pathlib").Path("/nonexistent/junit.xml")) == {}


def test_no_collection_file_is_a_clear_error(tmp_path):
    config = SimpleNamespace(getvalue=lambda name: ["1*popen"], option=SimpleNamespace())
    sched = LessonScheduling(config, items_dir=tmp_path)
    node = FakeNode("gw0")
    sched.add_node(node)
    sched.add_node_collection(node, COLLECTION)
    with pytest.raises(RuntimeError, match="no worker wrote its collection"):
        sched.schedule()


def test_a_harness_test_marked_with_a_lesson_runs_in_that_lessons_unit(tmp_path):
    """A stage's tiny run (`@pytest.mark.lesson("l5_quantization")`) goes to the worker that runs Lesson 5, after
    its claims, instead of waiting there on a stage the other worker builds."""
    tiny = "tests/harness/test_stages.py::test_stage_runs_tiny[impl/l5_quantization/dvc.yaml:qat_torch]"
    collection = [*COLLECTION, tiny]
    a, b = FakeNode("gw0"), FakeNode("gw1")
    sched = _scheduler(tmp_path, [a, b], collection=collection, scopes={tiny: "specs/l5_quantization"})
    sent = {node.gateway.id: [collection[i] for i in node.sent] for node in (a, b)}
    owner = next(name for name, ids in sent.items() if "specs/l5_quantization/test_tflite.py::test_size" in ids)
    assert tiny in sent[owner], sent
    assert sent[owner].index(tiny) > sent[owner].index("specs/l5_quantization/test_tflite.py::test_accuracy")
    assert sched._split_scope(tiny) == "specs/l5_quantization"
    assert unit_costs({tiny: {"scope": "specs/l5_quantization"}}, {tiny: 7.0}) == {"specs/l5_quantization": 7.0}
