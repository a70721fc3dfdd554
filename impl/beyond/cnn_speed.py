"""Time to 99% on full MNIST for the notes' CNN on 2 CPU threads: ours vs the notes' Keras style.

Runs in a fresh process (`measure_in_fresh_process`), so its settings touch nothing else: 2 threads
everywhere (OMP, torch intra-op, TF intra-op 2 / inter-op 1, set before either runtime starts) and
glibc's allocator told to keep freed memory for the next step. By default glibc's dynamic mmap
threshold soon rises above the activation buffers, but it sets the trim threshold to only twice
that, and the buffers a step frees leave more than that free at the top of the heap: free() hands
it back to the kernel and the next step faults every page in again. How much this costs depends on
the heap's history (it hits the timed training, the first thing this process does, hardest), so
both variables are set, before the process starts (glibc reads them once):
- MALLOC_TRIM_THRESHOLD_ (2 GiB) stops the trimming. Set alone it is the worst choice: any explicit
  setting switches the dynamic threshold off, so every buffer above 128 KiB becomes its own mmap.
- MALLOC_MMAP_THRESHOLD_ (32 MiB) then serves every per-step buffer from the heap. 32 MiB is glibc's
  own ceiling for the dynamic threshold and the most that older glibc accept (HEAP_MAX_SIZE / 2 on
  64-bit); a refused value is dropped silently, which would leave the trim setting alone. Newer
  glibc accept more, which measured no faster.
`python -m impl.beyond.malloc_probe` measures page faults and step times under each combination.
Both frameworks share the process and so the allocator setting.

1. Ours (`cnn_train.train_notes_cnn`) trains for real; its wall time (steps only) and its test
   accuracy on the official 10,000 images are measured, and its per-window step times give the
   noise check.
2. The Keras side is `model.compile(adam, sparse categorical cross-entropy)` + `model.fit` on
   NHWC float32 arrays (the notes' style). Its seconds per step are measured in windows of
   `model.fit` calls interleaved with windows of our training loop (`timing.compare_windows`),
   and extrapolated to the notes' recipe (`keras_epochs` epochs at `keras_batch_size`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from impl.checks import as_float, as_int

__all__ = ["measure", "measure_in_fresh_process"]

_ENV = {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "TF_NUM_INTRAOP_THREADS": "2", "TF_NUM_INTEROP_THREADS": "1",
        "MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 31), "TF_CPP_MIN_LOG_LEVEL": "2"}


def _check(num_epochs, batch_size, max_lr, keras_epochs, keras_batch_size, window_steps, rounds):
    return dict(
        num_epochs=as_float(num_epochs, "num_epochs", low=0.0, high=100.0, low_open=True),
        batch_size=as_int(batch_size, "batch_size", minimum=1, maximum=60_000),
        max_lr=as_float(max_lr, "max_lr", low=0.0, high=1.0, low_open=True),
        keras_epochs=as_int(keras_epochs, "keras_epochs", minimum=1, maximum=100),
        keras_batch_size=as_int(keras_batch_size, "keras_batch_size", minimum=1, maximum=60_000),
        window_steps=as_int(window_steps, "window_steps", minimum=1, maximum=10_000),
        rounds=as_int(rounds, "rounds", minimum=3, maximum=100),
    )


def measure(num_epochs: float, batch_size: int, max_lr: float, keras_epochs: int, keras_batch_size: int,
            window_steps: int, rounds: int) -> dict:
    """Run the comparison in this process (call it in a fresh one: it pins threads); returns plain figures."""
    knobs = _check(num_epochs, batch_size, max_lr, keras_epochs, keras_batch_size, window_steps, rounds)
    from impl import timing

    with timing.pinned_threads(2, tensorflow=True) as threads:
        return _measure(knobs, threads)


def _measure(knobs: dict, threads: dict[str, int]) -> dict:
    import keras
    import numpy as np
    import torch

    from impl import timing
    from impl.beyond import cnn_shapes, cnn_train
    from impl.data import mnist

    # The caller brought data/prepared/mnist.npz up to date through DVC; here it is only read (checksum verified),
    # so this process never waits on DVC's repo lock.
    arrays = mnist.read_prepared()
    train = mnist.Split(arrays["X_train"], arrays["y_train"])
    test = mnist.Split(arrays["X_test"], arrays["y_test"])
    ours = cnn_train.train_notes_cnn(train.X, train.y, knobs["num_epochs"], knobs["batch_size"], knobs["max_lr"],
                                     seed=0, window_steps=knobs["window_steps"])
    ours_accuracy = cnn_train.accuracy(ours.model, test.X, test.y)
    full_windows = [t for t in ours.window_seconds[:-1]] or ours.window_seconds

    # Interleaved windows: our loop (a second model, constant lr) against Keras model.fit.
    from torch import nn

    W, bk, bo = knobs["window_steps"], knobs["keras_batch_size"], knobs["batch_size"]
    X_torch, y_torch = cnn_train.image_tensor(train.X), torch.from_numpy(train.y)
    model = cnn_shapes.notes_cnn_torch(1).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(1)

    def ours_window():
        for _ in range(W):
            batch = torch.randint(0, len(X_torch), (bo,), generator=generator)
            loss = nn.functional.cross_entropy(model(X_torch[batch]), y_torch[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    X_keras = ((train.X.astype(np.float32) / 255.0 - cnn_train.MEAN) / cnn_train.STD)[..., None]
    net = cnn_shapes.notes_cnn_keras(0)
    net.compile(optimizer=keras.optimizers.Adam(1e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    offset = [0]

    def keras_window():
        start = offset[0] % (len(X_keras) - W * bk)
        offset[0] += W * bk
        net.fit(X_keras[start:start + W * bk], train.y[start:start + W * bk], batch_size=bk, epochs=1, verbose=0,
                shuffle=False)

    ours_window(), keras_window()  # warm-up: builds Keras's train function and torch's kernels
    comparison = timing.compare_windows(ours_window, keras_window, units_per_call=W, repeats=knobs["rounds"],
                                        name_a="ours", name_b="keras_fit")
    keras_steps = knobs["keras_epochs"] * -(-len(X_keras) // bk)
    return {
        "ours_train_seconds": ours.train_seconds, "ours_num_steps": ours.num_steps,
        "ours_test_accuracy": ours_accuracy, "ours_window_seconds": ours.window_seconds,
        "ours_window_cv": timing.robust_cv(full_windows),
        "ours_step_ms": comparison.median_a * 1e3, "keras_step_ms": comparison.median_b * 1e3,
        "keras_recipe_steps": keras_steps, "keras_recipe_seconds": comparison.median_b * keras_steps,
        "comparison_cv": comparison.cv, "comparison_attempts": comparison.attempts,
        "per_step_s": {"ours": comparison.times_a, "keras_fit": comparison.times_b},
        "threads": {"torch": threads["torch"], "tf_intra": threads["tf_intra_op"], "tf_inter": threads["tf_inter_op"]},
        "host": comparison.host,
    }


def measure_in_fresh_process(num_epochs: float, batch_size: int, max_lr: float, keras_epochs: int,
                             keras_batch_size: int, window_steps: int, rounds: int, timeout_s: float = 900.0) -> dict:
    """`measure` in a new Python process with the pinned environment; its JSON result. Bring
    data/prepared/mnist.npz up to date first (`impl.pipeline.artifacts.require`)."""
    knobs = _check(num_epochs, batch_size, max_lr, keras_epochs, keras_batch_size, window_steps, rounds)
    timeout_s = as_float(timeout_s, "timeout_s", low=0.0, high=7200.0, low_open=True)
    from impl import paths

    done = subprocess.run([sys.executable, "-m", "impl.beyond.cnn_speed", json.dumps(knobs)], cwd=paths.ROOT,
                          env={**os.environ, **_ENV}, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"impl.beyond.cnn_speed failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(measure(**json.loads(sys.argv[1]))))
