"""DVC stage `l3_train_mnist`: the lesson's MLP (784-128-10) trained with Adam on real MNIST.

Writes data/models/l3_mnist_mlp.pt (state_dict) and data/models/l3_mnist_curves.json
(per-epoch train loss, test loss and test accuracy on the official 10k test set).
"""
from __future__ import annotations

import io
import json

from impl import paths
from impl.atomic import atomic_write_bytes, atomic_write_text
from impl.harness import params
from impl.l3_optim import mlp, mnist_data

MODEL = paths.MODELS_DIR / "l3_mnist_mlp.pt"
CURVES = paths.MODELS_DIR / "l3_mnist_curves.json"


def main() -> None:
    import torch

    torch.use_deterministic_algorithms(True)
    knobs = params.knobs("l3_optim")["mnist"]
    X, y, X_test, y_test = mnist_data.train_test_tensors(knobs["train_size"], knobs["split_seed"])
    model = mlp.make_mlp(knobs["seed"], knobs["hidden"])
    optimizer = mlp.make_optimizer("adam", model.parameters(), knobs["lr"])
    curves = mlp.train(model, optimizer, X, y, batch_size=knobs["batch_size"], num_epochs=knobs["num_epochs"],
                       seed=knobs["seed"], X_eval=X_test, y_eval=y_test, progress=True)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    atomic_write_bytes(MODEL, buffer.getvalue())
    record = dict(curves._asdict(), train_size=len(X), test_size=len(X_test), knobs=knobs)
    atomic_write_text(CURVES, json.dumps(record, indent=1))
    print(f"{MODEL.relative_to(paths.ROOT)}: {len(X)} train images, {knobs['num_epochs']} epochs, "
          f"test accuracy {curves.test_accuracy[-1]:.4f}")


if __name__ == "__main__":
    main()
