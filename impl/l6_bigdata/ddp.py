"""Data-parallel training with DistributedDataParallel, launched by `torchrun`; and its single-process twin.

The entry point is this module: `torchrun --nproc-per-node 2 -m impl.l6_bigdata.ddp --out DIR`.
torchrun starts the processes and gives each its RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT;
each joins a gloo process group, wraps the same seeded MLP (64-32-10 on the standardised digits)
in DDP and runs plain SGD on a fixed sequence of global batches, taking its own contiguous
1/WORLD_SIZE of every batch. DDP all-reduces the gradients (their mean over ranks), so every
replica takes the step full-batch training would. Each rank writes its flattened parameters after
every step to DIR/rank<r>.npy. More processes or more machines are torchrun arguments only
(`--nproc-per-node`, `--nnodes`, `--node-rank`, `--master-addr`): the code reads nothing else.

`launch` runs torchrun on this machine (loopback, a free port), as one node or as several launchers
that each play a node (`--nnodes N --node-rank k`), and returns the ranks' snapshots. It leaves no
process behind: each launcher is a process-group leader, and torchrun starts every worker in a
session of its own (so killing a launcher's group does not reach them), which is why each worker
writes DIR/rank<r>.pid; on a timeout the workers first dump their Python stacks (faulthandler on
SIGUSR1), and the error shows those stacks, the ranks that wrote results and the launchers' logs.
`train_single` trains the same model on the whole batches in one process.
"""
from __future__ import annotations

import argparse
import contextlib
import faulthandler
import gc
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from impl import paths, processes
from impl.checks import as_float, as_int, as_path, as_seed, as_str
from impl.isolation import torch_state

__all__ = ["DTYPES", "batch_rows", "digits", "make_model", "train_single", "launch"]

DTYPES = ("float32", "float64")
BATCH = 64
HIDDEN = 32
LR = 0.1
MAX_PROCESSES = 8
FAILED_PEER_GRACE_S = 30.0  # once a launcher has failed, how long the others get before they are stopped
STACK_DUMP_WAIT_S = 2.0     # after SIGUSR1, for faulthandler to write every worker's stacks


def _torch_dtype(dtype: str):
    import torch

    return {"float32": torch.float32, "float64": torch.float64}[as_str(dtype, "dtype", choices=DTYPES)]


def batch_rows(steps: int, batch_size: int = BATCH, seed: int = 0) -> np.ndarray:
    """(steps, batch_size) row indices into `digits()`: each step's global batch, drawn without replacement by a
    seeded permutation (reshuffled when it runs out). Rows, not the batches themselves: a run's memory then
    does not grow with its steps (100,000 steps of batches were 3.3 GB per process)."""
    from impl.data import digits as dataset

    steps = as_int(steps, "steps", minimum=1, maximum=100_000)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=dataset.N_SAMPLES)
    rng = np.random.default_rng(as_seed(seed))
    per_epoch = dataset.N_SAMPLES // batch_size
    order = np.concatenate([rng.permutation(dataset.N_SAMPLES)[: per_epoch * batch_size]
                            for _ in range(-(-steps // per_epoch))])[: steps * batch_size]
    return order.reshape(steps, batch_size)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """(X, y): the sklearn digits, each of the 64 features standardised (a constant feature left at 0)."""
    from impl.data import digits as dataset

    X, y = dataset.load()
    return (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0), y


def make_model(seed: int = 0, dtype: str = "float32"):
    """The seeded MLP 64-32-10 (tanh), initialised from a forked generator (the caller's is untouched)."""
    import torch

    torch_dtype = _torch_dtype(dtype)
    with torch_state(seed=as_seed(seed)):
        model = torch.nn.Sequential(torch.nn.Linear(64, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 10))
    return model.to(torch_dtype)


def _flat(model) -> np.ndarray:
    return np.concatenate([p.detach().cpu().numpy().ravel() for p in model.parameters()])


def _train(model, rows: np.ndarray, lr: float, shard: slice) -> np.ndarray:
    """SGD over the global batches `rows` of `digits()`, each step on the part `shard` of its batch; the
    parameters after each step."""
    import torch

    X, y = digits()
    dtype = next(model.parameters()).dtype
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    snapshots = []
    for step in range(len(rows)):
        inputs = torch.as_tensor(X[rows[step][shard]], dtype=dtype)
        labels = torch.as_tensor(y[rows[step][shard]], dtype=torch.long)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
        snapshots.append(_flat(getattr(model, "module", model)))
    return np.stack(snapshots)


def train_single(steps: int = 20, dtype: str = "float32", seed: int = 0, lr: float = LR) -> np.ndarray:
    """(steps, n_params): the parameters after each full-batch step in this one process
    (deterministic algorithms on while it trains; the caller's torch settings come back after)."""
    steps = as_int(steps, "steps", minimum=1, maximum=100_000)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    model = make_model(seed, dtype)
    rows = batch_rows(steps, BATCH, seed)
    with torch_state(deterministic=True):
        return _train(model, rows, lr, slice(None))


def _train_shard(out: Path, steps: int, dtype: str, seed: int, lr: float) -> None:
    """This rank's DDP training; the DDP model (and the Reducer in it) dies when this returns."""
    import torch
    import torch.distributed as dist

    rank, world = dist.get_rank(), dist.get_world_size()
    if BATCH % world:
        raise ValueError(f"the global batch of {BATCH} must split evenly over {world} processes")
    share = BATCH // world
    model = torch.nn.parallel.DistributedDataParallel(make_model(seed, dtype))
    snapshots = _train(model, batch_rows(steps, BATCH, seed), lr, slice(rank * share, (rank + 1) * share))
    np.save(out / f"rank{rank}.npy", snapshots)
    dist.barrier()


def _worker(out: Path, steps: int, dtype: str, seed: int, lr: float) -> None:
    """One torchrun process (a process of its own: process-wide settings are its to set).

    Teardown order matters. gloo's process group joins its worker threads in its destructor, and
    such a thread may need the GIL to free the last collective's work (it holds Python objects).
    The DDP Reducer keeps a reference to the group; if the Reducer is the last holder, the group
    dies while this thread holds the GIL and both threads wait forever (the two-launcher hang, seen
    in gdb: a rank's main thread in ~Reducer -> ~ProcessGroupGloo -> thread::join, its gloo thread in
    ~AsyncWork -> take_gil; the class of deadlock of pytorch#56297). So the DDP model dies first (in
    `_train_shard`, then `gc.collect()` for any cycle), and the group's last reference goes with
    `destroy_process_group`, through the Python binding that releases the GIL before destroying a
    group (pytorch#56381). Two-launcher runs that hung, before: 2 of 10 and 2 of 15; after: 0 of 35.
    """
    import torch
    import torch.distributed as dist

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `launch` asks for stacks before a kill
    (out / f"rank{int(os.environ['RANK'])}.pid").write_text(str(os.getpid()))
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    dist.init_process_group("gloo")  # RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT from torchrun
    try:
        _train_shard(out, steps, dtype, seed, lr)
    except BaseException as exc:
        traceback.clear_frames(exc.__traceback__)  # a traceback would keep the DDP model alive past the group
        raise
    finally:
        gc.collect()
        dist.destroy_process_group()


def _worker_pids(out: Path) -> dict[int, int]:
    """rank -> pid of the workers of this run (DIR/rank<r>.pid) still alive, checked by their command line."""
    alive = {}
    for pid_file in out.glob("rank*.pid"):
        with contextlib.suppress(ValueError, OSError):
            pid = int(pid_file.read_text())
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "impl.l6_bigdata.ddp" in command and str(out) in command:  # not a recycled pid
                alive[int(pid_file.stem[4:])] = pid
    return alive


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # each launcher and each worker leads its own process group


def _stop_all(launchers: list[subprocess.Popen], out: Path, dump_stacks: bool) -> dict[int, int]:
    """Kill every launcher's group and every worker of this run; return the workers that were alive."""
    workers = _worker_pids(out)
    if dump_stacks and workers:
        for pid in workers.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGUSR1)
        time.sleep(STACK_DUMP_WAIT_S)
    for launcher in launchers:
        if launcher.poll() is None:  # an exited one is reaped: its pid may belong to another process by now
            _kill_group(launcher.pid)
    for pid in workers.values():
        _kill_group(pid)
    for launcher in launchers:
        launcher.wait()
    # Workers are not our children, and one still importing torch has written no pid file yet (seen on a loaded
    # host: an 8 s budget ran out before a worker's pid file existed, and that worker outlived the run by 30
    # minutes): kill whatever names this run's folder until nothing does.
    deadline = time.monotonic() + 10.0
    while (left := processes.naming("impl.l6_bigdata.ddp", str(out))) and time.monotonic() < deadline:
        for pid in left:
            _kill_group(pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    return workers


def launch(out_dir, nproc: int = 2, steps: int = 20, dtype: str = "float32", seed: int = 0, lr: float = LR,
           timeout_s: float = 300.0, nnodes: int = 1) -> list[np.ndarray]:
    """Run torchrun on loopback, `nnodes` launchers (one per "node", each `--node-rank k`) of `nproc`
    processes each, all meeting at one free port; return each global rank's (steps, n_params) snapshots.

    Raises RuntimeError when a launcher fails or the whole run outlasts `timeout_s`, after stopping every
    process of the run, with a diagnosis (which ranks wrote results, the live workers' stacks, the logs)."""
    from impl.ports import free_port

    out = as_path(out_dir, "out_dir")
    nproc = as_int(nproc, "nproc", minimum=1, maximum=MAX_PROCESSES)
    steps = as_int(steps, "steps", minimum=1, maximum=100_000)
    dtype = as_str(dtype, "dtype", choices=DTYPES)
    seed = as_seed(seed)
    lr = as_float(lr, "lr", low=0.0, low_open=True)
    timeout_s = as_float(timeout_s, "timeout_s", low=0.0, high=3600.0, low_open=True)
    nnodes = as_int(nnodes, "nnodes", minimum=1, maximum=MAX_PROCESSES)
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("rank*.npy"), *out.glob("rank*.pid"), *out.glob("node*.log")]:
        stale.unlink()  # a result or pid of an earlier run in the same folder would be read as this run's
    out = out.resolve()
    port = free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        p for p in (str(paths.ROOT), os.environ.get("PYTHONPATH", "")) if p))
    logs = [out / f"node{node}.log" for node in range(nnodes)]
    launchers: list[subprocess.Popen] = []
    at_deadline: list[int | None] = []
    started = time.monotonic()
    timed_out = False
    try:
        for node, log in enumerate(logs):
            with open(log, "wb") as sink:  # the launcher and its workers keep their own descriptors
                launchers.append(subprocess.Popen(
                    [sys.executable, "-m", "torch.distributed.run", "--nnodes", str(nnodes), "--node-rank",
                     str(node), "--nproc-per-node", str(nproc), "--master-addr", "127.0.0.1", "--master-port",
                     str(port), "-m", "impl.l6_bigdata.ddp", "--out", str(out), "--steps", str(steps),
                     "--dtype", dtype, "--seed", str(seed), "--lr", repr(lr)],
                    env=env, stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True))
        deadline = started + timeout_s
        while any(launcher.poll() is None for launcher in launchers):
            if any(launcher.returncode not in (None, 0) for launcher in launchers):
                deadline = min(deadline, time.monotonic() + FAILED_PEER_GRACE_S)
            if time.monotonic() > deadline:
                timed_out = True
                break
            time.sleep(0.1)
        at_deadline = [launcher.poll() for launcher in launchers]
    finally:
        left_alive = _stop_all(launchers, out, dump_stacks=timed_out)
    codes = [launcher.returncode for launcher in launchers]
    if timed_out or any(code != 0 for code in codes):
        written = sorted(int(path.stem[4:]) for path in out.glob("rank*.npy"))
        tails = "\n".join(f"--- node {node} log (tail):\n{log.read_text(errors='replace')[-4000:]}"
                          for node, log in enumerate(logs) if log.exists())
        what = (f"did not finish within {timeout_s:g} s (launchers' exit codes then: {at_deadline}, None = running)"
                if timed_out else f"failed after {time.monotonic() - started:.1f} s")
        dumped = " (their Python stacks, dumped on SIGUSR1, end the logs)" if timed_out and left_alive else ""
        raise RuntimeError(f"torchrun ({nnodes} launcher(s) x {nproc} process(es)) {what}: launcher exit codes "
                           f"{codes} (-9: stopped here); ranks that wrote results {written} of "
                           f"{nnodes * nproc}; workers still alive when stopped (rank: pid) {left_alive}{dumped}:\n"
                           f"{tails}")
    return [np.load(out / f"rank{rank}.npy") for rank in range(nnodes * nproc)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="One DDP training process (start it with torchrun).")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--dtype", choices=DTYPES, default="float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=LR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    _worker(args.out, args.steps, args.dtype, args.seed, args.lr)


if __name__ == "__main__":
    main()
