"""DVC stage `compress_mnist`: every compressed variant of the trained MLP, scored on one test set.

Variants: global magnitude pruning at each sparsity without and with one masked fine-tuning
epoch; the first layer replaced by its rank-r SVD factors, without and with one fine-tuning
epoch; 784-32-10 students trained from scratch (alpha = 0) and by distillation from the CNN
teacher, one pair per seed. The students hold out a validation slice of the training images, train
on the rest for up to `student_max_epochs` and keep their best validation epoch (both arms alike;
the test images choose nothing). Writes to data/models/l7_capstone/: compress.json (per variant:
accuracy, parameters, non-zero weights, stored bytes; per student also its validation curve and
chosen epoch); pruned.pt (per sparsity: the mask and the fine-tuned weights); students.pt (every
student's weights); lowrank.pt (the fine-tuned low-rank MLP, the model that is served) and
lowrank.onnx (its ONNX export, opset 17, weights inline). Single-request latencies (torch, 1
thread) go to the metrics.
"""
from __future__ import annotations

import copy
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from impl.atomic import atomic_save_torch, atomic_write_bytes, atomic_write_json
from impl.isolation import torch_state
from impl.l3_optim import mlp
from impl.l7_capstone import compress, deploy, mnist5k
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

SUMMARY_NAME, PRUNED_NAME, LOWRANK_NAME, ONNX_NAME = "compress.json", "pruned.pt", "lowrank.pt", "lowrank.onnx"
STUDENTS_NAME = "students.pt"
LOWRANK_INDEX = 0  # the 784 -> 256 layer
BASE_DIR = "data/models/l7_capstone/"  # where `train_mnist` leaves the models compressed here

TINY_KNOBS = {"student_max_epochs": 2, "student_seeds": [0], "sparsities": [0.5]}


def load_base(hidden: int):
    """The trained MLP (784-`hidden`-10) and teacher of `train_mnist` (weights_only loads), in eval mode."""
    import torch

    from impl.pipeline import artifacts

    net = mnist5k.make_mlp(0, hidden)
    net.load_state_dict(torch.load(artifacts.require(BASE_DIR + "mlp.pt"), weights_only=True))
    teacher = mnist5k.make_teacher(0)
    teacher.load_state_dict(torch.load(artifacts.require(BASE_DIR + "teacher.pt"), weights_only=True))
    return net.eval(), teacher.eval()


def _row(name: str, model, X_test, y_test, *, family: str, **extra) -> dict:
    zeros, weights = compress.sparsity(model)
    params = compress.weight_count(model)
    dense_bytes = 4 * params
    return {"name": name, "family": family, "accuracy": mlp.evaluate(model, X_test, y_test)[0], "params": params,
            "nonzero_weights": weights - zeros, "dense_bytes": dense_bytes,
            "bytes": min(dense_bytes, compress.sparse_bytes(model)), **extra}


def _finetune(model, X, y, knobs: dict):
    optimizer = mlp.make_optimizer("adam", model.parameters(), knobs["finetune_lr"])
    mlp.train(model, optimizer, X, y, batch_size=64, num_epochs=1, seed=knobs["seed"])
    return model.eval()


def _latency_ms(model, x) -> float:
    import torch

    with torch.no_grad():
        for _ in range(20):
            model(x)
        times = []
        for _ in range(200):
            start = time.perf_counter_ns()
            model(x)
            times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1e6


def _student_split(n_train: int, val_size: int, seed: int):
    """(fit rows, validation rows) of the training images for the students, sorted, fixed by `seed`."""
    order = np.random.default_rng(seed).permutation(n_train)
    return np.sort(order[val_size:]), np.sort(order[:val_size])


def _students(teacher, X, y, X_test, y_test, knobs: dict, lr: float):
    """Every (seed, scratch | distilled) student, early-stopped on the validation slice: rows and models."""
    import torch

    fit, val = (torch.from_numpy(rows) for rows in _student_split(len(X), knobs["student_val_size"], knobs["seed"]))
    with torch.no_grad():
        teacher_logits = teacher(X[fit])
    rows, models = [], {}
    for seed in knobs["student_seeds"]:
        for distilled in (False, True):
            result = compress.train_distilled(
                mnist5k.make_student(seed, knobs["student_hidden"]), teacher_logits, X[fit], y[fit],
                temperature=knobs["temperature"], alpha=knobs["alpha"] if distilled else 0.0, lr=lr, batch_size=64,
                num_epochs=knobs["student_max_epochs"], seed=seed, X_val=X[val], y_val=y[val])
            name = f"student_{'distilled' if distilled else 'scratch'}_seed{seed}"
            rows.append(_row(name, result.student, X_test, y_test, family="student", distilled=distilled, seed=seed,
                             best_epoch=result.best_epoch, val_accuracy=result.val_accuracy))
            models[name] = result.student.eval()
    return rows, models


def run(knobs: dict, out_dir: Path) -> dict:
    # Threads fixed so outputs reproduce; restored after, as the tiny-knob test runs this in-process.
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        return _run(knobs, out_dir)


def _run(knobs: dict, out_dir: Path) -> dict:
    from impl.pipeline import params

    out_dir = Path(out_dir)
    data = params.knobs("l7_capstone", "mnist")
    X, y, X_test, y_test = mnist5k.tensors(data["train_size"], data["test_size"], data["split_seed"])
    net, teacher = load_base(data["hidden"])
    rows, latencies, models = [_row("mlp", net, X_test, y_test, family="base")], {}, {"mlp": net}
    rows.append(_row("teacher_cnn", teacher, X_test, y_test, family="teacher"))
    pruned = {}
    for amount in knobs["sparsities"]:
        model = compress.prune_global(copy.deepcopy(net), amount)
        rows.append(_row(f"pruned_{amount:.0%}", model, X_test, y_test, family="pruned", sparsity=amount, finetuned=False))
        masks = [layer.weight_mask.clone() for layer in compress.linear_layers(model)]
        model = compress.strip(_finetune(model, X, y, knobs))
        rows.append(_row(f"pruned_{amount:.0%}_ft", model, X_test, y_test, family="pruned", sparsity=amount, finetuned=True))
        pruned[f"{amount:.2f}"] = {"masks": masks, "state": model.state_dict()}
        models[rows[-1]["name"]] = model
    low = compress.replace_low_rank(net, LOWRANK_INDEX, knobs["rank"]).eval()
    rows.append(_row(f"lowrank_{knobs['rank']}", low, X_test, y_test, family="low_rank", finetuned=False))
    low = _finetune(low, X, y, knobs)
    rows.append(_row(f"lowrank_{knobs['rank']}_ft", low, X_test, y_test, family="low_rank", finetuned=True))
    models[rows[-1]["name"]] = low
    student_rows, students = _students(teacher, X, y, X_test, y_test, knobs, data["lr"])
    rows += student_rows
    models.update(students)
    single = X_test[:1]
    for name, model in models.items():
        latencies[name] = _latency_ms(model, single)
    for name, buffer_of in ((PRUNED_NAME, pruned), (LOWRANK_NAME, low.state_dict()),
                            (STUDENTS_NAME, {name: model.state_dict() for name, model in students.items()})):
        atomic_save_torch(out_dir / name, buffer_of)
    atomic_write_bytes(out_dir / ONNX_NAME, deploy.to_onnx(low, 784))
    atomic_write_json(out_dir / SUMMARY_NAME, {"rank": knobs["rank"], "rows": rows})
    return {"torch_batch1_latency_ms": latencies, **{row["name"]: row["accuracy"] for row in rows},
            "student_best_epochs": {row["name"]: row["best_epoch"] for row in student_rows}}


main = stage_main(run, "l7_capstone", "compress")

if __name__ == "__main__":
    sys.exit(main())
