"""DVC stage `train_mnist`: the compression track's trained models on the mnist5k-style subset.

Writes to data/models/l7_capstone/: mlp.pt (MLP 784-256-10), teacher.pt (the small CNN), both
state_dicts trained with Adam; logreg.joblib and logreg.pkl (one scikit-learn LogisticRegression
on the same pixels, saved by joblib and by pickle: the round trip's sklearn artifacts); mnist.json (their test accuracies).
"""
from __future__ import annotations

import io
import pickle
import sys
from pathlib import Path

from impl.atomic import atomic_save_torch, atomic_write_bytes, atomic_write_json
from impl.isolation import torch_state
from impl.l3_optim import mlp
from impl.l7_capstone import mnist5k
from impl.pipeline.stages import stage_main

__all__ = []  # a DVC stage entry point (run/main), not library API

MLP_NAME, TEACHER_NAME, SUMMARY_NAME = "mlp.pt", "teacher.pt", "mnist.json"
LOGREG_NAME, PICKLE_NAME = "logreg.joblib", "logreg.pkl"

TINY_KNOBS = {"train_size": 200, "test_size": 100, "mlp_epochs": 1, "teacher_epochs": 1}


def _train(model, X, y, X_test, y_test, knobs: dict, num_epochs: int) -> float:
    optimizer = mlp.make_optimizer("adam", model.parameters(), knobs["lr"])
    curves = mlp.train(model, optimizer, X, y, batch_size=knobs["batch_size"], num_epochs=num_epochs,
                       seed=knobs["seed"], X_eval=X_test, y_eval=y_test, progress=True)
    return curves.test_accuracy[-1]


def run(knobs: dict, out_dir: Path) -> dict:
    # Threads fixed so outputs reproduce; restored after, as the tiny-knob test runs this in-process.
    with torch_state(num_threads=knobs["num_threads"], deterministic=True):
        return _run(knobs, out_dir)


def _run(knobs: dict, out_dir: Path) -> dict:
    import joblib
    from sklearn.linear_model import LogisticRegression

    out_dir = Path(out_dir)
    X, y, X_test, y_test = mnist5k.tensors(knobs["train_size"], knobs["test_size"], knobs["split_seed"])
    net = mnist5k.make_mlp(knobs["seed"], knobs["hidden"])
    mlp_accuracy = _train(net, X, y, X_test, y_test, knobs, knobs["mlp_epochs"])
    atomic_save_torch(out_dir / MLP_NAME, net.state_dict())
    teacher = mnist5k.make_teacher(knobs["seed"])
    teacher_accuracy = _train(teacher, X, y, X_test, y_test, knobs, knobs["teacher_epochs"])
    atomic_save_torch(out_dir / TEACHER_NAME, teacher.state_dict())
    logreg = LogisticRegression(C=0.05, max_iter=200).fit(X.numpy(), y.numpy())
    logreg_accuracy = float(logreg.score(X_test.numpy(), y_test.numpy()))
    buffer = io.BytesIO()
    joblib.dump(logreg, buffer)
    atomic_write_bytes(out_dir / LOGREG_NAME, buffer.getvalue())
    atomic_write_bytes(out_dir / PICKLE_NAME, pickle.dumps(logreg, protocol=5))
    summary = {"train_size": len(X), "test_size": len(X_test), "mlp_test_accuracy": mlp_accuracy,
               "teacher_test_accuracy": teacher_accuracy, "logreg_test_accuracy": logreg_accuracy}
    atomic_write_json(out_dir / SUMMARY_NAME, summary)
    return summary


main = stage_main(run, "l7_capstone", "mnist")

if __name__ == "__main__":
    sys.exit(main())
