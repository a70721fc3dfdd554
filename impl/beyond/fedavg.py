"""Federated averaging (McMahan et al., 2017): clients train locally, a server averages their
weights in proportion to their sample counts.

- With one local full-batch gradient step per round, the weighted average of the clients' updated
  weights is exactly one centralized full-batch step: sum_k (n_k / n) (w - lr g_k) = w - lr g,
  because the full gradient g is the n_k / n-weighted mean of the clients' gradients g_k.
- With several local epochs on non-IID clients (each sees one class) the clients drift towards
  their own optimum between averages, and the average model is worse than with IID clients.
"""
from __future__ import annotations

import numpy as np

from impl.checks import as_float, as_float_array, as_int, as_labels, as_rng, as_seed, as_str, same_length

__all__ = ["least_squares_rounds", "centralized_gd", "partition", "fedavg_mlp"]


def _check_xy(X, y):
    X, y = as_float_array(X, "X", ndim=2), as_float_array(y, "y", ndim=1)
    same_length("X", X, "y", y)
    return X, y


def _grad(w, X, y):
    return 2.0 / len(X) * X.T @ (X @ w - y)  # gradient of mean((X w - y)^2)


def least_squares_rounds(X, y, client_of, lr: float, num_rounds: int) -> np.ndarray:
    """FedAvg on mean-squared-error linear regression from w = 0: every round each client (rows with
    the same `client_of` label) takes one full-batch gradient step on its own rows and the server
    averages the results with weights n_k / n. Returns the weights after each round, (num_rounds + 1, d)."""
    X, y = _check_xy(X, y)
    client_of = as_labels(client_of, "client_of")
    same_length("X", X, "client_of", client_of)
    lr = as_float(lr, "lr", low=0.0, high=10.0, low_open=True)
    num_rounds = as_int(num_rounds, "num_rounds", minimum=1, maximum=10**5)
    clients = [np.flatnonzero(client_of == k) for k in np.unique(client_of)]
    w = np.zeros(X.shape[1])
    history = [w]
    for _ in range(num_rounds):
        w = sum(len(rows) / len(X) * (w - lr * _grad(w, X[rows], y[rows])) for rows in clients)
        history.append(w)
    return np.asarray(history)


def centralized_gd(X, y, lr: float, num_steps: int) -> np.ndarray:
    """Full-batch gradient descent on the same loss from w = 0; weights after each step, (num_steps + 1, d)."""
    X, y = _check_xy(X, y)
    lr = as_float(lr, "lr", low=0.0, high=10.0, low_open=True)
    num_steps = as_int(num_steps, "num_steps", minimum=1, maximum=10**5)
    w = np.zeros(X.shape[1])
    history = [w]
    for _ in range(num_steps):
        w = w - lr * _grad(w, X, y)
        history.append(w)
    return np.asarray(history)


def partition(labels, num_clients: int, scheme: str, rng: np.random.Generator) -> np.ndarray:
    """Client index per sample: "iid" deals a random permutation out evenly; "one_class" gives client k
    the samples of class k (needs num_clients == number of classes)."""
    labels = as_labels(labels, "labels")
    num_clients = as_int(num_clients, "num_clients", minimum=1, maximum=len(labels))
    scheme = as_str(scheme, "scheme", choices=("iid", "one_class"))
    rng = as_rng(rng, "rng")
    if scheme == "one_class":
        classes = np.unique(labels)
        if len(classes) != num_clients:
            raise ValueError(f"num_clients must equal the number of classes ({len(classes)}) for one_class")
        return np.searchsorted(classes, labels)
    client = np.empty(len(labels), dtype=np.int64)
    client[rng.permutation(len(labels))] = np.arange(len(labels)) % num_clients
    return client


def _init_mlp(num_inputs: int, hidden: int, num_classes: int, rng: np.random.Generator) -> dict:
    """He-uniform-like init as torch's nn.Linear does it: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound1, bound2 = 1.0 / np.sqrt(num_inputs), 1.0 / np.sqrt(hidden)
    return {"W1": rng.uniform(-bound1, bound1, (num_inputs, hidden)), "b1": rng.uniform(-bound1, bound1, hidden),
            "W2": rng.uniform(-bound2, bound2, (hidden, num_classes)), "b2": rng.uniform(-bound2, bound2, num_classes)}


def _logits(params: dict, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hidden = np.maximum(X @ params["W1"] + params["b1"], 0.0)
    return hidden, hidden @ params["W2"] + params["b2"]


def _sgd_step(params: dict, X: np.ndarray, y: np.ndarray, lr: float) -> None:
    """One SGD step on mean softmax cross-entropy (hand-written backward pass, float64)."""
    hidden, logits = _logits(params, X)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    d_logits = p / len(y)
    d_hidden = (d_logits @ params["W2"].T) * (hidden > 0)
    params["W2"] -= lr * hidden.T @ d_logits
    params["b2"] -= lr * d_logits.sum(axis=0)
    params["W1"] -= lr * X.T @ d_hidden
    params["b1"] -= lr * d_hidden.sum(axis=0)


def fedavg_mlp(X, y, client_of, X_test, y_test, hidden: int, local_epochs: int, num_rounds: int, lr: float,
               seed: int) -> list[float]:
    """FedAvg of an MLP (inputs -> `hidden` ReLU -> classes, NumPy float64) trained with SGD (batch 16)
    for `local_epochs` on each client per round; returns the averaged model's test accuracy after each round."""
    X, X_test = as_float_array(X, "X", ndim=2), as_float_array(X_test, "X_test", ndim=2)
    y, y_test = as_labels(y, "y"), as_labels(y_test, "y_test")
    same_length("X", X, "y", y)
    same_length("X_test", X_test, "y_test", y_test)
    if X_test.shape[1] != X.shape[1]:
        raise ValueError(f"X_test must have X's {X.shape[1]} columns, got {X_test.shape[1]}")
    client_of = as_labels(client_of, "client_of")
    same_length("X", X, "client_of", client_of)
    hidden = as_int(hidden, "hidden", minimum=1, maximum=4096)
    local_epochs = as_int(local_epochs, "local_epochs", minimum=1, maximum=1000)
    num_rounds = as_int(num_rounds, "num_rounds", minimum=1, maximum=1000)
    lr = as_float(lr, "lr", low=0.0, high=10.0, low_open=True)
    seed = as_seed(seed)
    rng = np.random.default_rng(seed)
    num_classes = int(max(y.max(), y_test.max())) + 1
    model = _init_mlp(X.shape[1], hidden, num_classes, rng)
    clients = [np.flatnonzero(client_of == k) for k in np.unique(client_of)]
    accuracies = []
    for _ in range(num_rounds):
        average = {name: np.zeros_like(value) for name, value in model.items()}
        for rows in clients:
            local = {name: value.copy() for name, value in model.items()}
            for _ in range(local_epochs):
                order = rows[rng.permutation(len(rows))]
                for start in range(0, len(order), 16):
                    batch = order[start:start + 16]
                    _sgd_step(local, X[batch], y[batch], lr)
            for name, value in local.items():
                average[name] += len(rows) / len(X) * value
        model = average
        accuracies.append(float(np.mean(_logits(model, X_test)[1].argmax(axis=1) == y_test)))
    return accuracies
