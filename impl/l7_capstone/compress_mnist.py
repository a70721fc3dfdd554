"""DVC stage `compress_mnist`: every compressed variant of the trained MLP, scored on one test set.

Variants: global magnitude pruning at each sparsity without and with one masked fine-tuning
epoch; the first layer replaced by its rank-r SVD factors, without and with one fine-tuning
epoch; 784-32-10 students trained from scratch and by distillation from the CNN teacher, one per
seed. Writes to data/models/l7_capstone/: compress.json (per variant: accuracy, parameters,
non-zero weights, stored bytes); pruned.pt (per sparsity: the mask and the fine-tuned weights);
lowrank.pt (the fine-tuned low-rank MLP, the model that is served) and lowrank.onnx (its ONNX
export, opset 17, weights inline). Single-request latencies (torch, 1 thread) go to the metrics.
"""
from __future__ import annotations

import copy
import io
import json
import statistics
import sys
import time
from pathlib import Path

from impl.atomic import atomic_write_bytes, atomic_write_text
from impl.l3_optim import mlp
from impl.l7_capstone import compress, deploy, mnist5k
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

SUMMARY_NAME, PRUNED_NAME, LOWRANK_NAME, ONNX_NAME = "compress.json", "pruned.pt", "lowrank.pt", "lowrank.onnx"
LOWRANK_INDEX = 0  # the 784 -> 256 layer
BASE_DIR = "data/models/l7_capstone/"  # where `train_mnist` leaves the models compressed here

TINY_KNOBS = {"student_epochs": 1, "student_seeds": [0], "sparsities": [0.5]}


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


def run(knobs: dict, out_dir: Path) -> dict:
    import torch

    from impl.pipeline import params

    torch.set_num_threads(knobs["num_threads"])
    torch.use_deterministic_algorithms(True)
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
    with torch.no_grad():
        teacher_logits = teacher(X)
    for seed in knobs["student_seeds"]:
        for distilled in (False, True):
            student = mnist5k.make_student(seed, knobs["student_hidden"])
            compress.train_distilled(student, teacher_logits, X, y, temperature=knobs["temperature"],
                                     alpha=knobs["alpha"] if distilled else 0.0, lr=data["lr"], batch_size=64,
                                     num_epochs=knobs["student_epochs"], seed=seed)
            name = f"student_{'distilled' if distilled else 'scratch'}_seed{seed}"
            rows.append(_row(name, student.eval(), X_test, y_test, family="student", distilled=distilled, seed=seed))
            models[name] = student
    single = X_test[:1]
    for name, model in models.items():
        latencies[name] = _latency_ms(model, single)
    for name, buffer_of in ((PRUNED_NAME, pruned), (LOWRANK_NAME, low.state_dict())):
        buffer = io.BytesIO()
        torch.save(buffer_of, buffer)
        atomic_write_bytes(out_dir / name, buffer.getvalue())
    atomic_write_bytes(out_dir / ONNX_NAME, deploy.to_onnx(low, 784))
    atomic_write_text(out_dir / SUMMARY_NAME, json.dumps({"rank": knobs["rank"], "rows": rows}, indent=1) + "\n")
    return {"torch_latency_ms_batch1": latencies, **{row["name"]: row["accuracy"] for row in rows}}


main = stage_main(run, "l7_capstone", "compress")

if __name__ == "__main__":
    sys.exit(main())
