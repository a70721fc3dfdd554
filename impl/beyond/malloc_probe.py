"""Do glibc's allocator environment variables change CPU training speed? A measuring command.

    flock /tmp/heavy.lock .venv/bin/python -m impl.beyond.malloc_probe [--rounds 3] [--windows 9]

It brings data/prepared/mnist.npz up to date through DVC first (the children only read it) and
takes a few minutes of both cores. It backs the allocator setting of `cnn_speed` (see there).
Each (environment, workload) pair runs in a fresh process (glibc reads MALLOC_*_ when the process
starts), torch at 2 threads, variants in a rotated order each round. Workloads:
- `cnn`: the notes' CNN (`cnn_shapes.notes_cnn_torch`, channels-last, Adam 1e-3) on random batches
  of full MNIST at B.cnn.time_to_99's batch size, the loop `cnn_speed` interleaves with Keras;
- `mlp`: Lesson 3's MNIST MLP, one `l3_optim.mlp.train` epoch (batch 64) on 10,000 images per window;
- `idle`: no training, only the allocator probe below, which shows whether the variables took effect.
Per window: seconds per step and minor page faults per step (`getrusage(RUSAGE_SELF).ru_minflt`).
The first window (cold: kernels built, the heap grown) is reported apart from the median of the rest.

The allocator probe mallocs ascending sizes through libc and reads glibc's chunk header (the
IS_MMAPPED bit of the size word before the pointer): a size served by mmap lies above the mmap
threshold in force. Ascending order keeps the answer exact even under the dynamic threshold (a freed
mmapped chunk raises the threshold only to its own size). `--mallopt` instead asks `mallopt`
directly, in a child process, which thresholds it accepts (1 = accepted, 0 = refused).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import time

__all__: list[str] = []  # a command, not a library

MiB = 1 << 20
# Name -> MALLOC_* variables. Any explicit setting switches glibc's dynamic mmap threshold off, so the
# single-variable variants show each half's own effect; 32 MiB is the cap older glibc enforce.
VARIANTS = {
    "none": {},
    "mmap1G+trim2G": {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 31)},
    "mmap32M": {"MALLOC_MMAP_THRESHOLD_": str(32 * MiB)},
    "mmap32M+trim2G": {"MALLOC_MMAP_THRESHOLD_": str(32 * MiB), "MALLOC_TRIM_THRESHOLD_": str(1 << 31)},
    "trim2G": {"MALLOC_TRIM_THRESHOLD_": str(1 << 31)},
    "mmap32M+toppad64M": {"MALLOC_MMAP_THRESHOLD_": str(32 * MiB), "MALLOC_TOP_PAD_": str(64 * MiB)},
    "toppad64M": {"MALLOC_TOP_PAD_": str(64 * MiB)},
}
WORKLOADS = ("cnn", "mlp")
PROBE_SIZES = (256 * 1024, MiB, 8 * MiB, 24 * MiB, 40 * MiB, 256 * MiB)
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)


def _libc():
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.mallopt.restype, libc.mallopt.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_int]
    return libc


def _mmapped_sizes() -> dict:
    """{size in bytes: True where glibc served a malloc of that size with mmap}, ascending sizes."""
    libc, word = _libc(), ctypes.sizeof(ctypes.c_size_t)
    served = {}
    for size in PROBE_SIZES:
        pointer = libc.malloc(size)
        if not pointer:
            raise MemoryError(f"malloc({size}) failed")
        served[size] = bool(ctypes.c_size_t.from_address(pointer - word).value & 0x2)  # IS_MMAPPED
        libc.free(pointer)
    return served


def _mallopt_answers() -> dict:
    """mallopt(M_MMAP_THRESHOLD, value) for values around glibc's 64-bit cap (each call may change the
    threshold, which is why this runs in a throwaway process)."""
    libc = _libc()
    return {str(value): libc.mallopt(M_MMAP_THRESHOLD, value) for value in (32 * MiB, 32 * MiB + 1, 1 << 30)}


def _cnn_stepper(batch_size: int):
    import torch
    from torch import nn

    from impl.beyond import cnn_shapes, cnn_train
    from impl.data import mnist

    arrays = mnist.read_prepared()
    X, y = cnn_train.image_tensor(arrays["X_train"]), torch.from_numpy(arrays["y_train"].astype("int64"))
    model = cnn_shapes.notes_cnn_torch(0).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(1)

    def steps(count: int) -> int:
        for _ in range(count):
            batch = torch.randint(0, len(X), (batch_size,), generator=generator)
            loss = nn.functional.cross_entropy(model(X[batch]), y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return count

    return steps


def _mlp_stepper(train_size: int = 10_000, batch_size: int = 64):
    from impl.data import mnist
    from impl.l3_optim import mlp

    arrays = mnist.read_prepared()
    X, y = mlp.to_tensors(arrays["X_train"][:train_size], arrays["y_train"][:train_size])
    model = mlp.make_mlp(0, 128)
    optimizer = mlp.make_optimizer("adam", model.parameters(), 1e-3)
    epoch = [0]

    def steps(_count: int) -> int:  # one epoch of the lesson's loop; the window size is the epoch
        epoch[0] += 1
        mlp.train(model, optimizer, X, y, batch_size=batch_size, num_epochs=1, seed=epoch[0])
        return -(-train_size // batch_size)

    return steps


def _child(workload: str, window_steps: int, num_windows: int, cnn_batch: int) -> dict:
    """Runs in the fresh process: time `num_windows` windows of `workload`, then probe the allocator."""
    result = {"workload": workload}
    if workload != "idle":
        import torch

        torch.set_num_threads(2)
        steps = {"cnn": lambda: _cnn_stepper(cnn_batch), "mlp": _mlp_stepper}[workload]()
        seconds, faults = [], []
        for _ in range(num_windows):
            faults_before, start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
            done = steps(window_steps)
            elapsed = time.perf_counter() - start
            seconds.append(elapsed / done)
            faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before) / done)
        result.update(step_seconds=seconds, step_faults=faults, threads=torch.get_num_threads())
    result["mmapped"] = {str(size): mapped for size, mapped in _mmapped_sizes().items()}
    return result


def _run_child(args: list, env_extra: dict, timeout_s: float = 600.0) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MALLOC_")}
    env.update({"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", **env_extra})
    done = subprocess.run([sys.executable, "-m", "impl.beyond.malloc_probe", *args], env=env, capture_output=True,
                          text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"malloc_probe child {args} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _summary(runs: list) -> dict:
    """Per variant and workload: median over rounds of each process's figures."""
    table = {}
    for run in runs:
        steady_s, steady_f = run["step_seconds"][1:], run["step_faults"][1:]
        row = table.setdefault((run["variant"], run["workload"]), {"ms": [], "faults": [], "first_ms": [],
                                                                    "first_faults": []})
        row["ms"].append(statistics.median(steady_s) * 1e3)
        row["faults"].append(statistics.median(steady_f))
        row["first_ms"].append(run["step_seconds"][0] * 1e3)
        row["first_faults"].append(run["step_faults"][0])
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rotations over the variants (>= 3)")
    parser.add_argument("--windows", type=int, default=9, help="timed windows per process (>= 8: first + 7)")
    parser.add_argument("--cnn-steps", type=int, default=20, help="CNN steps per window")
    parser.add_argument("--cnn-batch", type=int, default=128, help="B.cnn.time_to_99's batch size")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names from VARIANTS")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--mallopt", action="store_true", help="only report what mallopt accepts, then exit")
    parser.add_argument("--json", help="also write every process's figures to this file")
    parser.add_argument("--child", nargs=4, metavar=("WORKLOAD", "STEPS", "WINDOWS", "BATCH"), help=argparse.SUPPRESS)
    parser.add_argument("--child-mallopt", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child_mallopt:
        print(json.dumps(_mallopt_answers()))
        return 0
    if options.child:
        workload, steps, windows, batch = options.child
        print(json.dumps(_child(workload, int(steps), int(windows), int(batch))))
        return 0
    if options.mallopt:
        print("mallopt(M_MMAP_THRESHOLD, value) ->", _run_child(["--child-mallopt"], {}))
        return 0
    variants, workloads = options.variants.split(","), options.workloads.split(",")
    unknown = [name for name in variants if name not in VARIANTS] + [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown variants/workloads {unknown}; variants: {list(VARIANTS)}, workloads: {WORKLOADS}")
    if options.rounds < 3 or options.windows < 8 or options.cnn_steps < 1 or options.cnn_batch < 1:
        parser.error("need --rounds >= 3, --windows >= 8, --cnn-steps >= 1, --cnn-batch >= 1")
    from impl.pipeline import artifacts

    artifacts.require("data/prepared/mnist.npz")
    print("mallopt(M_MMAP_THRESHOLD, value) ->", _run_child(["--child-mallopt"], {}))
    print("sizes served by mmap at start, per variant (bytes: mmapped):")
    for name in variants:
        print(f"  {name:20s}", _run_child(["--child", "idle", "0", "0", "0"], VARIANTS[name])["mmapped"])
    runs = []
    for round_index in range(options.rounds):
        shift = round_index % len(variants)
        for name in variants[shift:] + variants[:shift]:
            for workload in workloads:
                run = _run_child(["--child", workload, str(options.cnn_steps), str(options.windows),
                                  str(options.cnn_batch)], VARIANTS[name])
                runs.append({"variant": name, "round": round_index, **run})
                print(f"round {round_index} {name:20s} {workload}: "
                      f"{statistics.median(run['step_seconds'][1:]) * 1e3:.3f} ms/step, "
                      f"{statistics.median(run['step_faults'][1:]):.1f} faults/step; end mmapped {run['mmapped']}",
                      flush=True)
    print(f"\n{'variant':20s} {'workload':8s} {'ms/step (rounds)':28s} {'faults/step':22s} "
          f"{'first window ms/step':24s} first faults/step")
    for (name, workload), row in _summary(runs).items():
        def spread(values, form):
            return f"{form.format(statistics.median(values))} [{form.format(min(values))}-{form.format(max(values))}]"
        print(f"{name:20s} {workload:8s} {spread(row['ms'], '{:.3f}'):28s} {spread(row['faults'], '{:.0f}'):22s} "
              f"{spread(row['first_ms'], '{:.2f}'):24s} {spread(row['first_faults'], '{:.0f}')}")
    if options.json:
        with open(options.json, "w") as handle:
            json.dump(runs, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
