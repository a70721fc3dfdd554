"""An MLP (784-h-h-10, ReLU, optional dropout after each hidden layer) trained with Adam on a small
MNIST subset, its loss and accuracy logged on train, validation and test data after every epoch:
what the dropout and early-stopping claim reads (overfitting needs few samples and many epochs)."""
from __future__ import annotations


from impl.checks import MAX_DIM, as_bool, as_float, as_float_array, as_int, as_learning_rate, as_seed, as_tensor, same_length
from impl.isolation import torch_state

__all__ = ["make_mlp", "train_curves", "early_stop_epoch"]


def make_mlp(hidden: int, dropout: float, seed: int, input_dropout: float = 0.0):
    """torch MLP 784-hidden-hidden-10 with Dropout(dropout) after each hidden ReLU (and, when
    `input_dropout` > 0, Dropout(input_dropout) on the pixels, as in Hinton et al. 2012), init fixed by `seed`."""
    hidden = as_int(hidden, "hidden", minimum=1, maximum=MAX_DIM)
    dropout = as_float(dropout, "dropout", low=0.0, high=1.0, high_open=True)
    seed = as_seed(seed)
    input_dropout = as_float(input_dropout, "input_dropout", low=0.0, high=1.0, high_open=True)
    import torch

    nn = torch.nn
    inputs = [nn.Dropout(input_dropout)] if input_dropout > 0 else []
    with torch.random.fork_rng(devices=[]):  # the init is seeded without touching the caller's generator
        torch.manual_seed(seed)
        return nn.Sequential(*inputs, nn.Linear(784, hidden), nn.ReLU(), nn.Dropout(dropout),
                             nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 10))


def _evaluate(model, X, y) -> tuple[float, float]:
    import torch

    model.eval()
    with torch.no_grad():
        logits = model(X)
        return float(torch.nn.functional.cross_entropy(logits, y)), float((logits.argmax(1) == y).double().mean())


def train_curves(model, data: dict, *, num_epochs: int, batch_size: int, lr: float, seed: int, progress: bool = False) -> dict:
    """Train `model` with Adam on data["train"] (a (X, y) pair of tensors) for `num_epochs`; after each
    epoch record loss and accuracy on every split in `data` ("train", "val", "test", ...)."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(data, dict) or "train" not in data:
        raise TypeError("data must be a dict of split name -> (X, y) tensors with a 'train' entry")
    for name, pair in data.items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"data[{name!r}] must be an (X, y) pair of tensors")
        X = as_tensor(pair[0], "data", ndim=2, floating=True)
        y = as_tensor(pair[1], "data", ndim=1, floating=False, num_classes=10)
        same_length("data X", X, "data y", y)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=10_000)
    batch_size = as_int(batch_size, "batch_size", minimum=1, maximum=10**6)
    lr = as_learning_rate(lr)
    seed = as_seed(seed)
    progress = as_bool(progress, "progress")
    from tqdm import tqdm

    X, y = data["train"]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    curves: dict[str, list[float]] = {f"{split}_{what}": [] for split in data for what in ("loss", "accuracy")}
    with torch_state(seed=seed):  # dropout masks come from torch's generator: a forked one, seeded here
        for _ in tqdm(range(num_epochs), desc="epochs", disable=not progress, leave=False):
            model.train()
            for batch in torch.randperm(len(y), generator=generator).split(batch_size):
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(X[batch]), y[batch]).backward()
                optimizer.step()
            for split, (X_split, y_split) in data.items():
                loss, accuracy = _evaluate(model, X_split, y_split)
                curves[f"{split}_loss"].append(loss)
                curves[f"{split}_accuracy"].append(accuracy)
    return curves


def early_stop_epoch(val_losses, patience: int) -> int:
    """The epoch (0-based) whose weights Keras-style early stopping keeps: training stops `patience`
    epochs after the last strict improvement of the validation loss, and the best epoch is restored."""
    losses = as_float_array(val_losses, "val_losses", ndim=1)
    patience = as_int(patience, "patience", minimum=0, maximum=len(losses))
    best, waited = 0, 0
    for epoch in range(1, len(losses)):
        if losses[epoch] < losses[best]:
            best, waited = epoch, 0
        else:
            waited += 1
            if waited >= patience:
                break
    return best
