"""Optuna workers as real processes: each opens a study by name at a storage URL and optimises it.

`optimize_worker(url, study_name, n_trials, seed)` is the loop one worker runs: it loads the study
(created beforehand by whoever owns it), samples with its own `TPESampler(seed, constant_liar=True)`
(Optuna's advice for parallel workers: a running trial counts as a bad result, so workers spread out;
seed each worker differently, or their first, random trials coincide) and reports what it saw and
ran. `start_worker(...)` runs the same loop in a new process (`python -m impl.l4_tuning.workers`) and
returns a `Worker` handle: optionally a start barrier (`wait_ready`, then `go`), then `result` or
`kill`. Leaving a `with Worker` block kills a worker still running.

The objective is `sphere(x, y)` over x, y in [-5, 5], so any process can recompute a stored value
from its parameters. `trial_sleep_s` gives each trial wall time (two workers' trials interleave);
`hang_at` makes trial number `hang_at` block after its parameters are stored and one heartbeat has
passed -- it sets the user attribute `blocked` and sleeps until killed (at most `hang_limit_s`).
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable

import numpy as np

from impl import paths
from impl.checks import as_bool, as_callable, as_float, as_int, as_seed, as_str, finite_or_diverged
from impl.isolation import optuna_quiet
from impl.l4_tuning.storage import check_url, make_storage, trial_record

__all__ = ["sphere", "optimize_worker", "start_worker", "Worker"]

BOUNDS = (-5.0, 5.0)
OPTIMUM = (0.3, -0.2)
MAX_TRIALS = 10_000
MAX_WAIT_S = 3600.0


def sphere(x: float, y: float) -> float:
    """The objective: (x - 0.3)^2 + (y + 0.2)^2, minimum 0 at (0.3, -0.2)."""
    x, y = as_float(x, "x"), as_float(y, "y")
    with np.errstate(over="ignore"):
        value = (np.float64(x) - OPTIMUM[0]) ** 2 + (np.float64(y) - OPTIMUM[1]) ** 2
    return float(finite_or_diverged(value, "the objective", f"x = {x:g}, y = {y:g}", verb="overflowed"))


def _options(url, study_name, n_trials, seed, trial_sleep_s, hang_at, hang_limit_s, heartbeat_interval,
             grace_period, max_retry) -> dict[str, Any]:
    """Every worker argument checked (and normalised) before anything is opened or started."""
    opts = dict(url=check_url(url), study_name=as_str(study_name, "study_name"),
                n_trials=as_int(n_trials, "n_trials", minimum=1, maximum=MAX_TRIALS),
                seed=as_seed(seed),
                trial_sleep_s=as_float(trial_sleep_s, "trial_sleep_s", low=0.0, high=60.0),
                hang_at=None if hang_at is None else as_int(hang_at, "hang_at", minimum=0, maximum=MAX_TRIALS),
                hang_limit_s=as_float(hang_limit_s, "hang_limit_s", low=0.0, low_open=True, high=MAX_WAIT_S),
                heartbeat_interval=heartbeat_interval, grace_period=grace_period, max_retry=max_retry)
    if heartbeat_interval is not None:
        opts["heartbeat_interval"] = as_int(heartbeat_interval, "heartbeat_interval", minimum=1, maximum=3600)
    if grace_period is not None:
        opts["grace_period"] = as_int(grace_period, "grace_period", minimum=opts["heartbeat_interval"] or 1,
                                      maximum=86400)
    opts["max_retry"] = as_int(max_retry, "max_retry", minimum=0, maximum=100)
    if heartbeat_interval is None and (grace_period is not None or opts["max_retry"]):
        raise ValueError("grace_period and max_retry need a heartbeat_interval")
    return opts


def _objective(trial_sleep_s: float, hang_at: int | None, hang_limit_s: float, mark_delay_s: float):
    def objective(trial) -> float:
        x, y = trial.suggest_float("x", *BOUNDS), trial.suggest_float("y", *BOUNDS)
        trial.set_user_attr("worker_pid", os.getpid())
        if hang_at is not None and trial.number == hang_at:
            time.sleep(mark_delay_s)  # the heartbeat thread stamps the trial first; unstamped, it never goes stale
            trial.set_user_attr("blocked", True)
            time.sleep(hang_limit_s)
            raise RuntimeError(f"trial {trial.number} blocked for {hang_limit_s} s and nobody killed it")
        if trial_sleep_s:
            time.sleep(trial_sleep_s)
        return sphere(x, y)
    return objective


def optimize_worker(url: str, study_name: str, n_trials: int, seed: int, *, trial_sleep_s: float = 0.0,
                    hang_at: int | None = None, hang_limit_s: float = 600.0, heartbeat_interval: int | None = None,
                    grace_period: int | None = None, max_retry: int = 0, snapshot: bool = False,
                    ready: Callable[[], None] | None = None) -> dict[str, Any]:
    """Open study `study_name` at `url` and run `n_trials` trials in this process.

    Returns {pid, seed, ran: the trial numbers this worker finished, best_before / best_after_each:
    the study's best value when opened and after each of its trials}; with `snapshot`, also the
    trial records (`storage.trial_record`) and best params as opened (`loaded`, `best_params_loaded`)
    and at the end (`final`, `best_params_final`). `ready` is called once the study is open.
    """
    opts = _options(url, study_name, n_trials, seed, trial_sleep_s, hang_at, hang_limit_s, heartbeat_interval,
                    grace_period, max_retry)
    snapshot = as_bool(snapshot, "snapshot")
    if ready is not None:
        as_callable(ready, "ready")
    import optuna

    storage = make_storage(opts["url"], heartbeat_interval=opts["heartbeat_interval"],
                           grace_period=opts["grace_period"], max_retry=opts["max_retry"])
    sampler = optuna.samplers.TPESampler(seed=opts["seed"], constant_liar=True)
    study = optuna.load_study(study_name=opts["study_name"], storage=storage, sampler=sampler)

    def best() -> float | None:
        return study.best_value if any(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False)) else None

    report: dict[str, Any] = {"pid": os.getpid(), "seed": opts["seed"], "ran": [], "best_before": best(),
                              "best_after_each": []}
    if snapshot:
        report["loaded"] = [trial_record(t) for t in study.get_trials()]
        report["best_params_loaded"] = study.best_params if report["best_before"] is not None else None
    if ready is not None:
        ready()

    def finished(study, trial) -> None:
        report["ran"].append(trial.number)
        report["best_after_each"].append(best())

    objective = _objective(opts["trial_sleep_s"], opts["hang_at"], opts["hang_limit_s"],
                           float(opts["heartbeat_interval"] or 0))
    with optuna_quiet():  # one INFO line per trial is noise, in a worker process and in the caller's alike
        study.optimize(objective, n_trials=opts["n_trials"], callbacks=[finished])
    if snapshot:
        report["final"] = [trial_record(t) for t in study.get_trials()]
        report["best_params_final"] = study.best_params
    storage.engine.dispose()
    return report


class Worker:
    """A worker process (from `start_worker`); its stdout carries one JSON line per event."""

    def __init__(self, process: subprocess.Popen, stderr_file):
        self.process, self._stderr = process, stderr_file
        self._lines: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _pump(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)  # end of output

    def stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-3000:]

    def _event(self, name: str, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + as_float(timeout_s, "timeout_s", low=0.0, low_open=True, high=MAX_WAIT_S)
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"worker {self.pid} sent no {name!r} within {timeout_s} s") from None
            if line is None:
                self.process.wait(timeout=10)
                raise RuntimeError(f"worker {self.pid} exited ({self.process.returncode}) before {name!r}:\n"
                                   f"{self.stderr_tail()}")
            event = json.loads(line)
            if event.get("event") == name:
                return event

    def wait_ready(self, timeout_s: float = 120.0) -> dict[str, Any]:
        """Block until the worker has opened its study (it then waits for `go`)."""
        return self._event("ready", timeout_s)

    def go(self) -> None:
        """Release a worker waiting at the start barrier."""
        self.process.stdin.write(b"go\n")
        self.process.stdin.flush()

    def result(self, timeout_s: float = 300.0) -> dict[str, Any]:
        """The worker's report (see `optimize_worker`) once it has finished."""
        report = self._event("done", timeout_s)
        self.process.wait(timeout=30)
        return report

    def kill(self, timeout_s: float = 30.0) -> int:
        """SIGKILL the worker and reap it; its exit status (-9 when the signal killed it)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        return self.process.wait(timeout=as_float(timeout_s, "timeout_s", low=0.0, low_open=True, high=MAX_WAIT_S))

    def close(self) -> None:
        try:
            self.kill()
        finally:
            for stream in (self.process.stdin, self.process.stdout, self._stderr):
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def start_worker(url: str, study_name: str, n_trials: int, seed: int, *, trial_sleep_s: float = 0.0,
                 hang_at: int | None = None, hang_limit_s: float = 600.0, heartbeat_interval: int | None = None,
                 grace_period: int | None = None, max_retry: int = 0, snapshot: bool = False,
                 wait_go: bool = False, go_timeout_s: float = 300.0) -> Worker:
    """`optimize_worker` with these arguments in a new Python process. With `wait_go`, the worker
    opens the study, says ready and waits (at most `go_timeout_s`) for `Worker.go()`."""
    opts = _options(url, study_name, n_trials, seed, trial_sleep_s, hang_at, hang_limit_s, heartbeat_interval,
                    grace_period, max_retry)
    snapshot, wait_go = as_bool(snapshot, "snapshot"), as_bool(wait_go, "wait_go")
    go_timeout_s = as_float(go_timeout_s, "go_timeout_s", low=0.0, low_open=True, high=MAX_WAIT_S)
    command = [sys.executable, "-m", "impl.l4_tuning.workers", opts["url"], opts["study_name"],
               "--n-trials", str(opts["n_trials"]), "--seed", str(opts["seed"]),
               "--trial-sleep-s", repr(opts["trial_sleep_s"]), "--hang-limit-s", repr(opts["hang_limit_s"]),
               "--max-retry", str(opts["max_retry"]), "--go-timeout-s", repr(go_timeout_s)]
    for flag, value in (("--hang-at", opts["hang_at"]), ("--heartbeat-interval", opts["heartbeat_interval"]),
                        ("--grace-period", opts["grace_period"])):
        if value is not None:
            command += [flag, str(value)]
    command += ["--snapshot"] * snapshot + ["--wait-go"] * wait_go
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(paths.ROOT), os.environ.get("PYTHONPATH")])))
    stderr_file = tempfile.TemporaryFile()
    try:
        process = subprocess.Popen(command, cwd=paths.ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=stderr_file, text=False)
    except BaseException:
        stderr_file.close()
        raise
    return Worker(process, stderr_file)


def _say(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def _wait_for_go(timeout_s: float) -> None:
    import select

    _say("ready", pid=os.getpid())
    readable, _, _ = select.select([sys.stdin], [], [], timeout_s)
    if not readable or sys.stdin.readline().strip() != "go":
        raise SystemExit(f"no 'go' on stdin within {timeout_s} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("study_name")
    parser.add_argument("--n-trials", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--trial-sleep-s", type=float, default=0.0)
    parser.add_argument("--hang-at", type=int)
    parser.add_argument("--hang-limit-s", type=float, default=600.0)
    parser.add_argument("--heartbeat-interval", type=int)
    parser.add_argument("--grace-period", type=int)
    parser.add_argument("--max-retry", type=int, default=0)
    parser.add_argument("--snapshot", action="store_true")
    parser.add_argument("--wait-go", action="store_true")
    parser.add_argument("--go-timeout-s", type=float, default=300.0)
    args = parser.parse_args(argv)
    ready = (lambda: _wait_for_go(args.go_timeout_s)) if args.wait_go else (lambda: _say("ready", pid=os.getpid()))
    report = optimize_worker(args.url, args.study_name, args.n_trials, args.seed, trial_sleep_s=args.trial_sleep_s,
                             hang_at=args.hang_at, hang_limit_s=args.hang_limit_s,
                             heartbeat_interval=args.heartbeat_interval, grace_period=args.grace_period,
                             max_retry=args.max_retry, snapshot=args.snapshot, ready=ready)
    _say("done", **report)


if __name__ == "__main__":
    main()
