"""`make test-busy-host`: the multi-process specs on a busy machine. Each must finish, or fail with a
diagnosis, within its own budget, and the run must leave no process behind.

A rendezvous is where a busy host hurts: torchrun's workers wait for each other, a Spark worker must
register with its master, PostgreSQL must accept connections, Optuna workers wait for their server,
an HTTP client waits for uvicorn. `python -m impl.tools.busy_host [--hogs 2] [-- pytest args]`
works in three steps:

1. It starts `--hogs` CPU-bound processes (each spins one core at normal priority, as another user's
   job would). The default is 2, one per core of the project's 2-core machines.
2. It runs, serially, every collected item whose code starts such a system. An item is chosen when
   its test function, its fixtures (all of them, as pytest resolves them), or the module-level helpers
   they call name one of `LAUNCHERS`' modules (a module, not its functions: a spec that only reads a
   launcher module's constant is chosen too, and costs little). The results go to a throw-away folder, so the user's
   verdicts are untouched. On a busy host a timing claim says "not run": that is the protocol working,
   not a failure.
3. It stops the hogs. A process alive after pytest exited that was not alive before it and carries the
   run's mark in its environment (`CLAIMS_BUSY_HOST_RUN`, inherited by everything the run starts, even a
   process that left its parent's session or was re-parented) was left behind.

Nothing is hand-listed per spec, so a new spec that starts a launcher is chosen without an edit here.
Processes started by a single spawned child (a fresh TensorFlow process for a conversion) have no peer
to wait for and are not chosen.

Writes `reports/logs/busy-host.md` (`--out`): one row per chosen item with its outcome, its seconds,
its claim's verdict, the launchers it names and the first line of any failure; then the left-behind
processes. Exit status 1 when an item failed or errored or a process was left behind; pytest's own
status (2-5) is passed on. `--timeout-min` bounds the whole run: past it, pytest is stopped with
everything it started, and the report says so.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any, Iterable

from impl import paths, processes
from impl.checks import as_float, as_int

__all__ = ["LAUNCHERS", "launchers_named", "start_hogs", "live_pids", "left_behind", "table", "main"]

# Module -> the multi-process system its functions start.
LAUNCHERS = {
    "impl.l6_bigdata.ddp": "torchrun",
    "impl.l6_bigdata.spark": "Spark JVM",
    "impl.l6_bigdata.cluster": "Spark standalone cluster",
    "impl.l4_tuning.postgres": "PostgreSQL",
    "impl.l4_tuning.workers": "Optuna worker processes",
    "impl.l4_tuning.tune": "make tune's workers",
    "impl.l8_production.client": "HTTP server",  # `running_server` starts uvicorn in a process of its own
    "impl.l8_production.soak": "HTTP server",
}
_ITEMS_FILE_OPTION = "--busy-host-items"
RUN_MARKER = "CLAIMS_BUSY_HOST_RUN"  # set in the run's environment: whatever the run starts inherits it
_HOG = "import signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\nwhile True: pass"


def _code_objects(code: types.CodeType) -> Iterable[types.CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_objects(constant)


def launchers_named(function: Any, _seen: set[int] | None = None) -> set[str]:
    """The `LAUNCHERS` systems that `function`'s code names: a launcher module it reaches through a global name
    (`ddp.launch(...)`), an import inside it (`from impl.l8_production import server`), or a module-level
    function of its own module that it calls (followed, once each)."""
    function = getattr(function, "__wrapped__", function)
    if not isinstance(function, types.FunctionType):
        raise TypeError(f"launchers_named needs a Python function, got {function!r:.80}")
    seen = set() if _seen is None else _seen
    if id(function) in seen:
        return set()
    seen.add(id(function))
    found, names = set(), set()
    for code in _code_objects(function.__code__):
        names.update(code.co_names)
    for module, system in LAUNCHERS.items():
        package, _, leaf = module.rpartition(".")  # `import impl.l6_bigdata.ddp`, `from impl.l6_bigdata.ddp
        if module in names or (package in names and leaf in names):  # import launch`, `from impl.l6_bigdata import ddp`
            found.add(system)
    for name in names:
        value = function.__globals__.get(name)
        if isinstance(value, types.ModuleType) and value.__name__ in LAUNCHERS:
            found.add(LAUNCHERS[value.__name__])
        elif isinstance(value, types.FunctionType) and value.__module__ == function.__module__:
            found |= launchers_named(value, seen)
    return found


def _item_launchers(item: Any) -> set[str]:
    found = launchers_named(item.obj) if isinstance(getattr(item, "obj", None), types.FunctionType) else set()
    for name in item.fixturenames:
        for definition in item._fixtureinfo.name2fixturedefs.get(name, ()):
            if isinstance(definition.func, types.FunctionType):
                found |= launchers_named(definition.func)
    return found


# --- the pytest plugin (loaded into the run with `-p impl.tools.busy_host`) ---

def pytest_addoption(parser: Any) -> None:
    parser.addoption(_ITEMS_FILE_OPTION, default=None, help="(impl.tools.busy_host) write the chosen items here")


def pytest_collection_modifyitems(config: Any, items: list) -> None:
    named = {item.nodeid: sorted(_item_launchers(item)) for item in items}
    dropped = [item for item in items if not named[item.nodeid]]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = [item for item in items if named[item.nodeid]]
    recorder = config.pluginmanager.get_plugin("busy-host-recorder")
    if recorder is not None:
        recorder.launchers = {item.nodeid: named[item.nodeid] for item in items}


class _Recorder:
    """Each chosen item's outcome, seconds and first failure line, written as JSON lines when the session ends."""

    def __init__(self, config: Any, path: Path):
        self.config, self.path, self.rows, self.launchers = config, path, {}, {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        row = self.rows.setdefault(report.nodeid, {"nodeid": report.nodeid, "outcome": "passed", "seconds": 0.0,
                                                   "message": ""})
        row["seconds"] += report.duration
        if report.failed:
            row["outcome"] = "failed" if report.when == "call" else "error"
            row["message"] = row["message"] or _first_line(report.longreprtext)
        elif report.skipped and row["outcome"] == "passed":
            row["outcome"] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
            row["message"] = _first_line(str(report.longrepr[-1]) if isinstance(report.longrepr, tuple)
                                         else getattr(report, "wasxfail", ""))

    def pytest_sessionfinish(self) -> None:
        with self.path.open("w", encoding="utf-8") as out:
            for row in self.rows.values():
                out.write(json.dumps({**row, "launchers": self.launchers.get(row["nodeid"], [])}) + "\n")


def pytest_configure(config: Any) -> None:
    path = config.getoption(_ITEMS_FILE_OPTION)
    if path:
        config.pluginmanager.register(_Recorder(config, Path(path)), "busy-host-recorder")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E ")]
    return (errors[0][1:].strip() if errors else lines[-1] if lines else "")[:200]


# --- the run ---

def start_hogs(n: int) -> list[subprocess.Popen]:
    """`n` processes, each spinning one core until stopped."""
    n = as_int(n, "hogs", minimum=0, maximum=64)
    return [subprocess.Popen([sys.executable, "-c", _HOG]) for _ in range(n)]


def live_pids() -> set[int]:
    """Every live (non-zombie) process on the machine."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.add(int(entry.name))
    return found


def _marked(pid: int, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def left_behind(before: set[int], marker: str, settle_s: float = 2.0) -> dict[int, str]:
    """Processes alive now that were not in `before` and whose environment holds `marker` (`NAME=value`, set
    for the run and inherited by all it starts, whatever session or parent they end up in; so the machine's
    other processes never count), after waiting up to `settle_s` for exiting ones to go: pid -> command line."""
    settle_s = as_float(settle_s, "settle_s", low=0.0, high=600.0)
    if not isinstance(before, (set, frozenset)):
        raise TypeError(f"before must be a set of pids, got {type(before).__name__}")
    if not isinstance(marker, str) or "=" not in marker.strip("=") or "\0" in marker:
        raise ValueError(f"marker must be a NAME=value string, got {marker!r:.80}")
    wanted = marker.encode()
    deadline = time.monotonic() + settle_s
    while True:
        new = {pid for pid in live_pids() - set(before) - {os.getpid()} if _marked(pid, wanted)}
        if not new or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    found = {}
    for pid in sorted(new):
        with contextlib.suppress(OSError):
            found[pid] = (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                          .strip()[:200])
    return found


def table(rows: list[dict[str, Any]], verdicts: dict[str, str], leftovers: dict[int, str], *, hogs: int,
          wall_s: float, timed_out: bool) -> tuple[str, bool]:
    """The Markdown report and whether the run is clean (no failure, no error, nothing left behind, in time)."""
    lines = [f"# Multi-process specs beside {hogs} CPU hog(s)", "",
             f"{len(rows)} items in {wall_s:.0f} s" + (" — **stopped at the tool's timeout**" if timed_out else ""), "",
             "| item | launchers | outcome | seconds | verdict | first line |", "|---|---|---|---:|---|---|"]
    for row in rows:
        message = row.get("message", "").replace("|", "\\|")
        lines.append(f"| `{row['nodeid']}` | {', '.join(row.get('launchers', []))} | {row['outcome']} | "
                     f"{row['seconds']:.1f} | {verdicts.get(row['nodeid'], '-')} | {message} |")
    lines += ["", "## Left behind", ""]
    lines += [f"- {pid}: `{command}`" for pid, command in leftovers.items()] or ["none"]
    outcomes = [row["outcome"] for row in rows]
    clean = not timed_out and not leftovers and not any(o in ("failed", "error") for o in outcomes)
    counts = {o: outcomes.count(o) for o in sorted(set(outcomes))}
    lines += ["", "outcomes: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "none")
              + f"; left behind: {len(leftovers)}; " + ("clean" if clean else "**not clean**")]
    return "\n".join(lines) + "\n", clean


def _verdicts(folder: Path) -> dict[str, str]:
    from impl.harness import results
    return {record["nodeid"]: record.get("verdict", "?") for record in results.load(folder).values()
            if "nodeid" in record}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hogs", type=int, default=2, help="CPU-bound processes beside the run (default 2)")
    parser.add_argument("--timeout-min", type=float, default=60.0, help="stop the whole run after this long")
    parser.add_argument("--out", type=Path, default=paths.ROOT / "reports" / "logs" / "busy-host.md")
    parser.add_argument("pytest_args", nargs="*", help="pytest arguments after --, e.g. -- specs/l6_bigdata")
    args = parser.parse_args(argv)
    hogs_n = as_int(args.hogs, "--hogs", minimum=0, maximum=64)
    timeout_s = as_float(args.timeout_min, "--timeout-min", low=0.1, high=24 * 60.0) * 60
    with tempfile.TemporaryDirectory(prefix="claims-busy-host-") as tmp:
        items_file, results_dir = Path(tmp) / "items.jsonl", Path(tmp) / "results"
        before = live_pids()
        hogs = start_hogs(hogs_n)
        began, timed_out = time.monotonic(), False
        marker = f"{RUN_MARKER}={os.getpid()}-{time.time_ns()}"
        try:
            run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p",
                                    "impl.tools.busy_host", f"{_ITEMS_FILE_OPTION}={items_file}",
                                    f"--claim-results={results_dir}", *(args.pytest_args or ["specs", "tests"])],
                                   cwd=paths.ROOT, env=dict(os.environ, **dict([marker.split("=", 1)])))
            try:
                status = run.wait(timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                processes.stop_tree(run, grace_s=10.0)
                status = 1
            wall_s = time.monotonic() - began
            leftovers = left_behind(before, marker)
        finally:
            processes.stop_trees(hogs, grace_s=2.0)
        rows = [json.loads(line) for line in items_file.read_text().splitlines()] if items_file.exists() else []
        verdicts = _verdicts(results_dir) if results_dir.exists() else {}
    for pid in leftovers:  # reported, then cleaned up
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, 9)
    text, clean = table(rows, verdicts, leftovers, hogs=hogs_n, wall_s=wall_s, timed_out=timed_out)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    if status not in (0, 1):
        return status
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
