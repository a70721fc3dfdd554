"""DVC stage `l3_train_vs_sgd`: the same MLP trained by Adam and by plain SGD for several seeds.

Writes data/models/l3_vs_sgd.json: per optimizer and seed, the per-epoch curves.
"""
from __future__ import annotations

import json

from impl import paths
from impl.atomic import atomic_write_text
from impl.harness import params
from impl.l3_optim import mlp, mnist_data

OUTPUT = paths.MODELS_DIR / "l3_vs_sgd.json"


def main() -> None:
    import torch
    from tqdm import tqdm

    torch.use_deterministic_algorithms(True)
    knobs = params.knobs("l3_optim")["vs_sgd"]
    X, y, X_test, y_test = mnist_data.train_test_tensors(knobs["train_size"], knobs["split_seed"])
    runs = {"adam": {}, "sgd": {}}
    for seed in tqdm(knobs["seeds"], desc="seeds"):
        for name in runs:
            model = mlp.make_mlp(seed, knobs["hidden"])
            optimizer = mlp.make_optimizer(name, model.parameters(), knobs[f"{name}_lr"])
            curves = mlp.train(model, optimizer, X, y, batch_size=knobs["batch_size"],
                               num_epochs=knobs["num_epochs"], seed=seed, X_eval=X_test, y_eval=y_test)
            final_train = mlp.evaluate(model, X, y)
            runs[name][str(seed)] = dict(curves._asdict(), final_train_accuracy=final_train[0],
                                         final_train_loss=final_train[1])
    atomic_write_text(OUTPUT, json.dumps(dict(runs=runs, train_size=len(X), knobs=knobs), indent=1))
    print(f"{OUTPUT.relative_to(paths.ROOT)}: {len(knobs['seeds'])} seeds x {list(runs)}")


if __name__ == "__main__":
    main()
