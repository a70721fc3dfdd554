"""`make tune WORKERS=N`: Lesson 4's CIFAR-10 CNN study spread over worker processes sharing one study.

    python -m impl.l4_tuning.tune --workers 2             # a throwaway PostgreSQL server on this machine
    python -m impl.l4_tuning.tune --workers 2 --storage postgresql+psycopg2://user@db-host:5432/optuna
    python -m impl.l4_tuning.tune worker --storage URL --study NAME --trials 50 --seed 7   # on any machine

The coordinator creates the study (fresh; the search space, pruner and knobs of the DVC stage
`tune_cnn`, profile-aware, from impl/l4_tuning/params.yaml), starts `--workers` local worker
processes and waits. Each worker is the `worker` subcommand: it opens the study by name through
the storage URL, with its own TPE sampler (seed + k, so no two workers propose alike) and
MedianPruner, and starts trials while the study holds fewer than `--trials` (the study's budget,
running trials included): a worker whose trials are pruned early takes more of them, so no core
idles while another finishes a fixed share. Workers on other machines run the same command with the
same URL, study name and budget. When the local workers are
done, the coordinator retrains the best configuration with `final_seed` and reads the test images
once, as `tune_cnn` does in one process.

Not a DVC stage: with several workers, trials finish in an order no seed fixes, so the study is not
reproducible bit for bit (the single-process stage is). Writes data/tuning/<study>/ (not committed):
trials.json (`studies.export_trials`) and result.json (the choice, its test accuracy, wall time,
trials per worker, trials per minute) and worker<k>.log (each local worker's stderr).

When a local worker fails, when `--timeout-min` passes or when the coordinator is interrupted, every
worker still running is stopped with all it started (`impl.processes.stop_tree`), and the error ends
with the workers' last log lines. The workers stay in the coordinator's process group, so a signal to
the group (Ctrl-C, a CI job's timeout) reaches them too.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from impl import paths
from impl.atomic import atomic_write_json
from impl.checks import as_float, as_int, as_seed, as_str
from impl.isolation import torch_state

__all__: list[str] = []  # a command-line tool (make tune), not library API

STUDY = "l4_tuning.tune_cnn.workers"
TUNING_DIR = paths.DATA_DIR / "tuning"


def study_knobs(**overrides: Any) -> dict[str, Any]:
    """The `cnn` knobs of the active profile, with `overrides` (e.g. n_trials, num_epochs) applied."""
    from impl.pipeline import params

    knobs = dict(params.knobs("l4_tuning", "cnn"))
    unknown = sorted(set(overrides) - set(knobs))
    if unknown:
        raise ValueError(f"unknown knobs {unknown}; the cnn knobs are {sorted(knobs)}")
    knobs.update({key: value for key, value in overrides.items() if value is not None})
    return knobs


def _data(knobs: dict[str, Any]):
    from impl.data import cifar10
    from impl.l4_tuning import cifar_cnn

    train, val = cifar10.train_val(knobs["train_size"], knobs["val_size"], knobs["split_seed"])
    return (*cifar_cnn.to_tensors(train.X, train.y), *cifar_cnn.to_tensors(val.X, val.y))


def run_worker(url: str, name: str, n_trials: int, seed: int, knobs: dict[str, Any]) -> dict[str, Any]:
    """Open study `name` at `url` and run trials of the CNN objective until the study holds `n_trials` (the
    budget shared by every worker on it); returns what this worker ran."""
    import optuna

    from impl.l4_tuning import cifar_cnn, studies, tune_cnn

    url, name = as_str(url, "url"), as_str(name, "name")
    n_trials = as_int(n_trials, "n_trials", minimum=1, maximum=studies.MAX_TRIALS)
    seed = as_seed(seed)
    X, y, X_val, y_val = _data(knobs)
    study = optuna.load_study(
        study_name=name, storage=url,
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=knobs["n_startup_trials"]),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=knobs["pruner_startup_trials"],
                                           n_warmup_steps=knobs["pruner_warmup_steps"]))
    ran: list[int] = []

    def objective(trial) -> float:
        def report(epoch, curves) -> bool:
            studies.report_or_prune(trial, curves.test_accuracy[-1], epoch + 1)
            return False

        ran.append(trial.number)
        trial.set_user_attr("worker", f"{os.uname().nodename}:{os.getpid()}")
        _, curves = cifar_cnn.train_cnn(tune_cnn.suggest(trial, knobs), X, y, X_val, y_val, seed=knobs["seed"],
                                        on_epoch=report, num_epochs=knobs["num_epochs"], batch_size=knobs["batch_size"])
        return curves.test_accuracy[-1]

    started = time.monotonic()
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        studies.optimize(study, objective, n_trials, desc=f"worker seed {seed}", progress=False, shared=True)
    return {"pid": os.getpid(), "seed": seed, "ran": ran, "wall_s": time.monotonic() - started}


def _start_workers(url: str, name: str, workers: int, seed: int, knobs: dict[str, Any],
                   logs: list[Path]) -> list[subprocess.Popen]:
    base = [sys.executable, "-m", "impl.l4_tuning.tune", "worker", "--storage", url, "--study", name,
            "--knobs", json.dumps(knobs)]
    procs = []
    for k in range(workers):
        logs[k].parent.mkdir(parents=True, exist_ok=True)
        with open(logs[k], "wb") as sink:
            budget = ["--trials", str(knobs["n_trials"])]
            procs.append(subprocess.Popen([*base, *budget, "--seed", str(seed + k)], cwd=paths.ROOT,
                                          stdout=subprocess.PIPE, stderr=sink, text=True))
    return procs


def _collect(procs: list[subprocess.Popen], logs: list[Path], timeout_s: float | None) -> list[dict[str, Any]]:
    """Each worker's final report line, in worker order; every worker is stopped (with all it started)
    before this returns or raises, whatever happened."""
    from impl.processes import BudgetExceeded, log_tail, stop_trees

    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    reports = []
    try:
        for k, proc in enumerate(procs):
            try:
                out, _ = proc.communicate(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                running = [j for j, other in enumerate(procs) if other.poll() is None]
                tails = "\n".join(f"--- worker {j} ({logs[j]}):\n{log_tail(logs[j], 15)}" for j in running)
                raise BudgetExceeded(f"the study did not finish within {timeout_s:g} s; workers {running} were still "
                                     f"running and are stopped. Their last log lines:\n{tails}") from None
            if proc.returncode != 0:
                raise RuntimeError(f"worker {k} exited {proc.returncode}; its output ends: {out[-2000:]}\n"
                                   f"its log ({logs[k]}) ends:\n{log_tail(logs[k], 15)}")
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        stop_trees(procs)
    return reports


def tune(workers: int, storage: str | None = None, *, out_dir: Path | None = None, timeout_s: float | None = None,
         **overrides: Any) -> dict[str, Any]:
    """The whole study over `workers` local processes (a throwaway PostgreSQL unless `storage` names an RDB),
    stopped with a diagnosis after `timeout_s` (None: no limit); `overrides` replace cnn knobs (n_trials,
    num_epochs, train_size, ...)."""
    from impl.data import cifar10
    from impl.l3_optim import mlp
    from impl.l4_tuning import cifar_cnn, postgres, studies

    workers = as_int(workers, "workers", minimum=1, maximum=64)
    if timeout_s is not None:
        timeout_s = as_float(timeout_s, "timeout_s", low=0.0, low_open=True, high=7 * 24 * 3600.0)
    knobs = study_knobs(**overrides)
    if knobs["n_trials"] < workers:
        raise ValueError(f"{knobs['n_trials']} trials cannot keep {workers} workers busy; ask for fewer workers")
    out_dir = Path(out_dir or TUNING_DIR / STUDY)
    with contextlib.ExitStack() as stack:
        url = storage or stack.enter_context(postgres.local_server())
        studies.new_study(STUDY, url, direction="maximize", seed=knobs["seed"],
                          n_startup_trials=knobs["n_startup_trials"], pruner_startup_trials=knobs["pruner_startup_trials"],
                          pruner_warmup_steps=knobs["pruner_warmup_steps"])
        started = time.monotonic()
        logs = [out_dir / f"worker{k}.log" for k in range(workers)]
        reports = _collect(_start_workers(url, STUDY, workers, knobs["seed"], knobs, logs), logs, timeout_s)
        wall_s = time.monotonic() - started
        import optuna

        export = studies.export_trials(optuna.load_study(study_name=STUDY, storage=url))
    if export["best_params"] is None:
        raise RuntimeError("no trial completed, so there is no choice to retrain")
    held_out = studies.HeldOut(lambda: cifar10.load("test"))
    X, y, X_val, y_val = _data(knobs)
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        model, _ = cifar_cnn.train_cnn(cifar_cnn.CnnConfig(**export["best_params"]), X, y, X_val, y_val,
                                       seed=knobs["final_seed"], num_epochs=knobs["num_epochs"],
                                       batch_size=knobs["batch_size"])
        test = held_out.read()
        test_accuracy, _ = mlp.evaluate(model, *cifar_cnn.to_tensors(test.X, test.y))
    result = {"workers": workers, "storage": "throwaway PostgreSQL" if storage is None else "given URL",
              "n_trials": export["n_trials"], "trials_per_worker": [len(r["ran"]) for r in reports],
              "study_wall_s": round(wall_s, 1), "trials_per_minute": round(60 * export["n_trials"] / wall_s, 2),
              "best_params": export["best_params"], "best_val_accuracy": export["best_value"],
              "test_accuracy": test_accuracy, "knobs": knobs}
    atomic_write_json(out_dir / "trials.json", export)
    atomic_write_json(out_dir / "result.json", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    worker = sub.add_parser("worker", help="run trials of an existing study (any machine)")
    worker.add_argument("--storage", required=True, help="SQLAlchemy URL of the study's RDB")
    worker.add_argument("--study", default=STUDY)
    worker.add_argument("--trials", type=int, required=True, help="the study's trial budget, shared by all its workers")
    worker.add_argument("--seed", type=int, required=True, help="this worker's TPE seed (distinct per worker)")
    worker.add_argument("--knobs", default=None, help="the cnn knobs as JSON (default: the profile's)")
    parser.add_argument("--workers", type=int, default=1, help="local worker processes")
    parser.add_argument("--storage", default=None, help="an RDB URL (default: a throwaway local PostgreSQL)")
    parser.add_argument("--trials", type=int, default=None, help="total trials (default: the profile's n_trials)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per trial (default: the profile's)")
    parser.add_argument("--timeout-min", type=float, default=None,
                        help="stop every worker and fail with their last log lines after this many minutes")
    args = parser.parse_args(argv)
    if args.command == "worker":
        knobs = study_knobs(**json.loads(args.knobs)) if args.knobs else study_knobs()
        report = run_worker(args.storage, args.study, args.trials, args.seed, knobs)
        print(json.dumps(report))
        return 0
    result = tune(args.workers, args.storage, n_trials=args.trials, num_epochs=args.epochs,
                  timeout_s=None if args.timeout_min is None else args.timeout_min * 60)
    print(json.dumps({k: v for k, v in result.items() if k != "knobs"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
