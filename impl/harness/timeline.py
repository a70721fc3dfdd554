"""Where a test run's time went: every item's start, end and CPU seconds, per worker, and a summary.

The suite's wall time is its work divided by the cores it keeps busy, plus the quiet perf phase.
To cut it one must know which items hold a worker without using its core (waiting on a stage
another worker builds, a server, a cluster starting) and which burn it. `TimelineRecorder` (a
pytest plugin the claims plugin registers) measures each item in the process that runs it, from
the start of its setup to the end of its teardown: wall seconds, and the CPU seconds of the
process plus the children it reaped in that time (a `dvc repro` subprocess counts, a JVM still
running does not). The row travels to the controller with the teardown report (as claim records
do), which writes them all to `reports/logs/timeline.jsonl` at the end of the run.

`python -m impl.harness.timeline [reports/logs/timeline.jsonl]` prints the summary: per worker
its busy and idle seconds, the perf phase's length, and the items that waited longest
(wall minus CPU) and ran longest.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import pytest

from impl.atomic import atomic_write_text

__all__ = ["FILE_NAME", "TimelineRecorder", "read", "summarize"]

FILE_NAME = "timeline.jsonl"
_PROPERTY = "claims_timeline"
_START = pytest.StashKey[tuple]()
_FIELDS = ("nodeid", "worker", "start", "end", "cpu_s", "perf")


def _cpu_seconds() -> float:
    """CPU seconds of this process and of the children it has reaped."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class TimelineRecorder:
    """Per item: (start, end, CPU seconds) measured where it runs; all rows written by the controller."""

    def __init__(self, config: pytest.Config, out_file: Path | None):
        self.config = config
        self.out_file = out_file   # None: this process does not write (an xdist worker, or writing is off)
        self.rows: list[dict[str, Any]] = []
        self.worker = getattr(config, "workerinput", {}).get("workerid", "main")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        item.stash[_START] = (time.time(), _cpu_seconds())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if report.when == "teardown" and _START in item.stash:
            start, cpu = item.stash[_START]
            row = {"nodeid": item.nodeid, "worker": self.worker, "start": round(start, 3),
                   "end": round(time.time(), 3), "cpu_s": round(_cpu_seconds() - cpu, 3),
                   "perf": item.get_closest_marker("perf") is not None}
            report.user_properties.append((_PROPERTY, json.dumps(row)))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown":
            self.rows += [json.loads(value) for name, value in report.user_properties if name == _PROPERTY]

    def pytest_sessionfinish(self) -> None:
        if self.out_file is not None and self.rows:
            rows = sorted(self.rows, key=lambda row: row["start"])
            atomic_write_text(self.out_file, "".join(json.dumps(row) + "\n" for row in rows))


def read(path: Path) -> list[dict[str, Any]]:
    """The rows of a timeline file; a ValueError naming the file and line for anything malformed."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} does not exist: a run under the claims plugin writes it (make test)")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc})") from None
        if not isinstance(row, dict) or set(row) != set(_FIELDS):
            raise ValueError(f"{path}:{number}: a row has the fields {list(_FIELDS)}, got {row!r:.200}")
        if not row["end"] >= row["start"]:
            raise ValueError(f"{path}:{number}: ends before it starts")
        rows.append(row)
    return rows


def _phases(rows: Sequence[dict[str, Any]]) -> tuple[float, float, float]:
    """(run start, perf phase start, run end); the perf phase is empty when no perf item ran."""
    start, end = min(r["start"] for r in rows), max(r["end"] for r in rows)
    perf = [r["start"] for r in rows if r["perf"]]
    return start, (min(perf) if perf else end), end


def summarize(rows: Iterable[dict[str, Any]], *, cores: int, top: int = 15) -> str:
    """A plain-text account of where the run's time went (see the module docstring)."""
    rows = list(rows)
    if not rows:
        raise ValueError("no rows: the timeline is empty")
    if not isinstance(cores, int) or isinstance(cores, bool) or cores < 1:
        raise ValueError(f"cores must be a positive int, got {cores!r}")
    start, perf_start, end = _phases(rows)
    span = end - start
    cpu = sum(r["cpu_s"] for r in rows)
    before = [r for r in rows if not r["perf"]]
    before_cpu = sum(r["cpu_s"] for r in before)
    before_span = max(perf_start - start, 1e-9)
    lines = [f"run: {span:.0f} s over {len({r['worker'] for r in rows})} worker(s), {len(rows)} items, "
             f"{cpu:.0f} CPU-s measured in items ({100 * cpu / max(span, 1e-9):.0f}% of one core; {cores} cores here)",
             f"before the perf phase: {before_span:.0f} s, {before_cpu:.0f} CPU-s "
             f"({100 * before_cpu / (cores * before_span):.0f}% of the cores)",
             f"perf phase: {end - perf_start:.0f} s, {sum(r['perf'] for r in rows)} items", "", "per worker:"]
    for worker in sorted({r["worker"] for r in rows}):
        own = sorted((r for r in rows if r["worker"] == worker), key=lambda r: r["start"])
        busy = sum(r["end"] - r["start"] for r in own)
        gaps = sum(max(0.0, b["start"] - a["end"]) for a, b in zip(own, own[1:]))
        lines.append(f"  {worker}: {len(own)} items, busy {busy:.0f} s, CPU {sum(r['cpu_s'] for r in own):.0f} s, "
                     f"gaps between items {gaps:.0f} s, from +{own[0]['start'] - start:.0f} s to "
                     f"+{own[-1]['end'] - start:.0f} s")
    waited = sorted(rows, key=lambda r: (r["end"] - r["start"]) - r["cpu_s"], reverse=True)[:top]
    lines += ["", f"waited longest (wall - CPU seconds, top {top}):"]
    lines += [f"  {(r['end'] - r['start']) - r['cpu_s']:7.1f}  wall {r['end'] - r['start']:6.1f}  {r['worker']:>4}  "
              f"{r['nodeid']}" for r in waited]
    longest = sorted(rows, key=lambda r: r["end"] - r["start"], reverse=True)[:top]
    lines += ["", f"ran longest (wall seconds, CPU seconds, top {top}):"]
    lines += [f"  {r['end'] - r['start']:7.1f}  {r['cpu_s']:7.1f}  {r['worker']:>4}  {r['nodeid']}" for r in longest]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m impl.harness.timeline", description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=f"reports/logs/{FILE_NAME}", help="a timeline.jsonl")
    parser.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)),
                        help="cores of the machine the run used (default: this one's)")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    try:
        print(summarize(read(Path(args.path)), cores=args.cores, top=args.top))
    except ValueError as exc:
        parser.exit(2, f"timeline: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
