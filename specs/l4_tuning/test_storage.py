"""Studies are real, shared and durable: a study is rows in an RDB, which outlive the process that
wrote them, serve several worker processes at once and survive a worker killed mid-trial.

Every worker here is a separate Python process (impl.l4_tuning.workers) that opens the study by
name through the storage URL, never an object handed over in memory. Every wait polls the storage
against a deadline (claims.yaml), so a busy machine slows the specs down but does not fail them;
every server and process is stopped by a `with` block, also when a check fails.
"""
import contextlib
import os
import time
import warnings

import optuna
import pytest

from impl.l4_tuning import postgres, workers
from impl.l4_tuning.storage import make_storage, trial_record


def _trials(storage, study_name: str):
    """The study's trials as this process reads them from the storage now."""
    return storage.get_all_trials(storage.get_study_id_from_name(study_name), deepcopy=False)


def _until(condition, timeout_s: float, what: str, worker=None):
    """Poll `condition()` every 0.1 s until it returns something truthy (returned) or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = condition()
        if found:
            return found
        if worker is not None and worker.process.poll() is not None:
            raise RuntimeError(f"worker {worker.pid} exited ({worker.process.returncode}) while waiting for {what}:\n"
                               f"{worker.stderr_tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not seen within {timeout_s} s")
        time.sleep(0.1)


def _retried(trial) -> tuple[int | None, list[int]]:
    """(the trial number this one retries, its retry history) by Optuna's own readers (experimental API)."""
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return retry.retried_trial_number(trial), retry.retry_history(trial)


@pytest.mark.cpu
def test_resume(claim, tmp_path):
    """A study stored in SQLite outlives its process: reloaded by name in a new process it has the
    same trials, field for field, and the same best parameters; optimize(n_trials=5) there adds
    exactly 5 trials, numbered after the old ones, without changing any old one; and the best value
    is non-increasing over the combined history: after every trial, old or resumed, the best value
    Optuna reports equals the minimum of the objective recomputed here from the stored parameters of
    all trials up to that one, so it never rises above the stored best.

    Course: Lesson 4, Setting Up and Running Optuna (conducting experiments: studies kept in storage).
    """
    n_first, n_resumed, seed = claim.t["n_first"], claim.t["n_resumed"], claim.use_seed(0)
    url, name = f"sqlite:///{tmp_path / 'study.db'}", "resume"
    storage = make_storage(url)
    try:
        optuna.create_study(study_name=name, storage=storage, direction="minimize")
        first = workers.optimize_worker(url, name, n_first, seed, snapshot=True)  # this process writes the study
        with workers.start_worker(url, name, n_resumed, seed + 1, snapshot=True) as worker:
            second = worker.result(claim.t["worker_timeout_s"])  # a new process reloads and extends it
        reread = [trial_record(t) for t in _trials(storage, name)]
    finally:
        storage.engine.dispose()

    old = {t["number"]: t for t in first["final"]}
    loaded = {t["number"]: t for t in second["loaded"]}
    claim.record(first_pid=first["pid"], second_pid=second["pid"], best_before=first["best_after_each"][-1],
                 best_after_each_resumed=second["best_after_each"], resumed_numbers=second["ran"],
                 best_params=second["best_params_final"])
    claim.expect("reloaded_in_another_process", second["pid"] != os.getpid(), "==", True)
    claim.expect("stored_trials", len(first["final"]), "==", n_first)
    claim.expect("trials_differing_after_reload", sum(loaded.get(k) != v for k, v in old.items())
                 + len(set(loaded) - set(old)), "==", 0)
    claim.expect("best_params_equal_after_reload", second["best_params_loaded"] == first["best_params_final"],
                 "==", True)
    claim.expect("trials_added", len(second["final"]) - len(first["final"]), "==", n_resumed)
    claim.expect("resumed_numbers_follow_old", second["ran"] == list(range(n_first, n_first + n_resumed)), "==", True)
    claim.expect("old_trials_changed_by_resume", sum(t != old[t["number"]] for t in second["final"][:n_first]),
                 "==", 0)
    claim.expect("file_equals_resumed_view", reread == second["final"], "==", True)
    # The best value against an independent computation: the objective (x - 0.3)^2 + (y + 0.2)^2 recomputed
    # from each stored trial's parameters, and its running minimum over trial numbers.
    complete = {t["number"]: t for t in reread if t["state"] == "COMPLETE"}
    recomputed = {n: (t["params"]["x"] - 0.3) ** 2 + (t["params"]["y"] + 0.2) ** 2 for n, t in complete.items()}
    claim.expect("stored_values_differing_from_recomputed",
                 sum(t["values"][0] != recomputed[n] for n, t in complete.items()), "==", 0)
    reported = list(zip(first["ran"] + second["ran"], first["best_after_each"] + second["best_after_each"]))
    history_min = {n: min(v for k, v in recomputed.items() if k <= n) for n, _ in reported}
    claim.record(best_after_each_trial=[best for _, best in reported])
    claim.expect("trials_reported", len(reported), "==", n_first + n_resumed)
    claim.expect("reported_best_differing_from_history_min", sum(best != history_min[n] for n, best in reported),
                 "==", 0)
    claim.expect("best_before_equals_stored_best", second["best_before"] == history_min[n_first - 1], "==", True)


@pytest.mark.cpu
def test_shared_postgres(claim):
    """Two worker processes optimising one study at once through a real PostgreSQL server lose and
    duplicate nothing: of n1 + n2 trials requested the study holds exactly n1 + n2, numbered
    0..n1+n2-1 once each, all COMPLETE with the objective's value of their own parameters; each was
    run by exactly one worker (the numbers each worker reports running partition them, and each
    trial's stored worker id agrees); no two trials share parameters (one TPE sampler per worker,
    seeded differently); and the workers' trials interleave, so they really ran concurrently.

    Course: Lesson 4, Introduction to Optuna (its storage: one study shared by many workers).
    """
    reason = postgres.unavailable_reason()
    if reason is not None:
        pytest.skip(f"no local PostgreSQL server can be started: {reason}")
    n, sleep_s, timeout_s, seed = (claim.t["trials_per_worker"], claim.t["trial_sleep_s"],
                                   claim.t["worker_timeout_s"], claim.use_seed(0))
    name = "shared"
    with postgres.local_server(claim.t["server_timeout_s"]) as url, contextlib.ExitStack() as stack:
        storage = make_storage(url)
        stack.callback(storage.engine.dispose)  # exits run last-in first-out: workers stop, then this, then the server
        optuna.create_study(study_name=name, storage=storage, direction="minimize")
        pool = [stack.enter_context(workers.start_worker(url, name, n, seed + k, trial_sleep_s=sleep_s, wait_go=True))
                for k in range(2)]
        for worker in pool:  # both have opened the study before either starts a trial
            worker.wait_ready(timeout_s)
        started = time.monotonic()
        for worker in pool:
            worker.go()
        reports = [worker.result(timeout_s) for worker in pool]
        wall_s = time.monotonic() - started
        trials = sorted(_trials(storage, name), key=lambda t: t.number)

    total = 2 * n
    numbers = [t.number for t in trials]
    ran_by = {}
    for report in reports:
        for number in report["ran"]:
            ran_by.setdefault(number, []).append(report["pid"])
    owner = [ran_by.get(t.number, [None])[0] for t in trials]
    switches = sum(a != b for a, b in zip(owner, owner[1:]))
    claim.record(trials_per_worker=[len(r["ran"]) for r in reports], worker_pids=[r["pid"] for r in reports],
                 numbers_by_worker=[r["ran"] for r in reports], worker_switches=switches, wall_s=wall_s,
                 best_value=min(t.value for t in trials if t.value is not None), server="PostgreSQL")
    claim.expect("trials_stored", len(trials), "==", total)
    claim.expect("numbers_are_0_to_n_minus_1_once_each", numbers == list(range(total)), "==", True)
    claim.expect("trials_not_complete", sum(t.state.name != "COMPLETE" for t in trials), "==", 0)
    claim.expect("values_not_objective_of_params", sum(t.value != workers.sphere(t.params["x"], t.params["y"])
                                                       for t in trials if t.state.name == "COMPLETE"), "==", 0)
    claim.expect("trials_reported_by_each_worker", sorted(len(r["ran"]) for r in reports), "==", [n, n])
    claim.expect("trials_run_by_no_worker", sum(k not in ran_by for k in numbers), "==", 0)
    claim.expect("trials_run_by_two_workers", sum(len(v) > 1 for v in ran_by.values()), "==", 0)
    claim.expect("stored_worker_disagrees", sum(t.user_attrs.get("worker_pid") != pid
                                                for t, pid in zip(trials, owner)), "==", 0)
    claim.expect("distinct_parameter_pairs", len({(t.params["x"], t.params["y"]) for t in trials}), "==", total)
    claim.expect("worker_switches", switches, ">=", "min_switches")


@pytest.mark.cpu
def test_heartbeat_retry(claim, tmp_path):
    """A worker killed with SIGKILL in the middle of a trial loses nothing that was finished: a new
    process opening the study with a heartbeat finds the dead trial stale after the grace period,
    marks it FAIL and (RetryHeartbeatStaleTrialCallback, max_retry=1) enqueues it once more with
    the same parameters, then runs that retry to COMPLETE; every trial completed before the kill is
    unchanged, field for field, and nothing is left RUNNING or WAITING.

    Course: Lesson 4, Setting Up and Running Optuna (conducting experiments: long studies that survive failures).
    """
    n_done, n_resumed, seed = claim.t["completed_before_kill"], claim.t["resumed_trials"], claim.use_seed(0)
    beat = dict(heartbeat_interval=claim.t["heartbeat_interval"], grace_period=claim.t["grace_period"], max_retry=1)
    url, name, timeout_s = f"sqlite:///{tmp_path / 'study.db'}", "killed", claim.t["state_timeout_s"]
    storage = make_storage(url)
    try:
        optuna.create_study(study_name=name, storage=storage, direction="minimize")
        with workers.start_worker(url, name, n_done + 1, seed, hang_at=n_done, **beat) as victim:
            blocked = _until(lambda: [t for t in _trials(storage, name) if t.number == n_done
                                      and t.state.name == "RUNNING" and t.user_attrs.get("blocked")],
                             timeout_s, f"trial {n_done} RUNNING and blocked", victim)[0]
            before = [trial_record(t) for t in _trials(storage, name) if t.state.name == "COMPLETE"]
            exit_status = victim.kill()
            killed_at = time.monotonic()
        state_after_kill = [t.state.name for t in _trials(storage, name) if t.number == n_done][0]
        # The trial is stale once its last heartbeat (at most at the kill) is more than grace_period s old;
        # SQLite's CURRENT_TIMESTAMP counts whole seconds, so 1 s more makes that certain before the new process looks.
        time.sleep(max(0.0, killed_at + beat["grace_period"] + 1.0 - time.monotonic()))
        with workers.start_worker(url, name, n_resumed, seed + 1, **beat) as resumer:
            report = resumer.result(timeout_s)
        after = sorted(_trials(storage, name), key=lambda t: t.number)
    finally:
        storage.engine.dispose()

    killed = next(t for t in after if t.number == n_done)
    retries = [t for t in after if _retried(t)[0] == n_done]
    again = retries[0] if retries else None
    intact = [trial_record(t) for t in after if t.number < n_done]
    claim.record(exit_status=exit_status, killed_trial=n_done, killed_params=blocked.params,
                 state_right_after_kill=state_after_kill, states=[t.state.name for t in after],
                 resumed_numbers=report["ran"], retry_number=again.number if again else None)
    claim.expect("killed_by_sigkill", exit_status, "==", -9)
    claim.expect("completed_before_kill", len(before), "==", n_done)
    claim.expect("completed_trials_changed", sum(a != b for a, b in zip(intact, before)) + abs(len(intact) - n_done),
                 "==", 0)
    claim.expect("running_right_after_kill", state_after_kill == "RUNNING", "==", True)  # nobody knows it died yet
    claim.expect("killed_trial_failed", killed.state.name == "FAIL", "==", True)
    claim.expect("retries_of_killed_trial", len(retries), "==", 1)
    claim.expect("retry_same_params", again is not None and again.params == blocked.params, "==", True)
    claim.expect("retry_history_is_killed_trial", again is not None and _retried(again)[1] == [n_done], "==", True)
    claim.expect("retry_complete", again is not None and again.state.name == "COMPLETE", "==", True)
    claim.expect("retry_value_is_objective", again is not None
                 and again.value == workers.sphere(again.params["x"], again.params["y"]), "==", True)
    claim.expect("retry_run_by_new_process", again is not None and again.user_attrs.get("worker_pid") == report["pid"]
                 and report["pid"] != victim.pid, "==", True)
    claim.expect("trials_stored", len(after), "==", n_done + 1 + n_resumed)
    claim.expect("left_running_or_waiting", sum(t.state.name in ("RUNNING", "WAITING") for t in after), "==", 0)
