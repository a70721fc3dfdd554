"""The roadmap notes' small code examples, rewritten to run offline and return what they compute.

- descriptive statistics of a short list; a 2 x 2 matrix product (NumPy);
- gradient descent for y = w x + b on five points (mean-squared error, w = b = 0 start), which after
  the notes' 1,000 epochs at lr 0.01 has not converged: the Hessian's eigenvalues are 0.338 and
  23.66, so the slow direction shrinks by only (1 - 0.01 * 0.338) per epoch;
- four scikit-learn regressors fitted to the same five points (with 5 points, k-nearest
  neighbours' default k = 5 averages all of them: a constant);
- five standard classifiers on iris (70/30 split);
- the notes' Keras MLP for MNIST, with or without the Flatten its 784-wide first layer needs.
  Keras training is seeded the only way that also fixes `fit`'s shuffling, `keras.utils.set_random_seed`,
  inside `_keras_seeded`, which puts back every global generator and Keras's own global seed after.
"""
from __future__ import annotations

import contextlib

import numpy as np

from impl.checks import MAX_STEPS, as_bool, as_float, as_float_array, as_images, as_int, as_labels, same_length

__all__ = ["describe", "gradient_descent_line", "epochs_to_tolerance", "regressors_on_points", "iris_scores",
           "keras_mlp_accuracy"]


def describe(values) -> dict:
    """Mean, median, mode and the mode's count (scipy.stats.mode) of a 1-D sample."""
    from scipy import stats

    values = as_float_array(values, "values", ndim=1)
    mode = stats.mode(values, keepdims=False)
    return {"mean": float(np.mean(values)), "median": float(np.median(values)), "mode": float(mode.mode),
            "mode_count": int(mode.count)}


def _points(x, y):
    x, y = as_float_array(x, "x", ndim=1), as_float_array(y, "y", ndim=1)
    same_length("x", x, "y", y)
    return x, y


def gradient_descent_line(x, y, lr: float, num_epochs: int) -> tuple[float, float]:
    """The notes' loop: w = b = 0, then num_epochs full-batch steps on mean((w x + b - y)^2)."""
    x, y = _points(x, y)
    lr = as_float(lr, "lr", low=0.0, high=10.0, low_open=True)
    num_epochs = as_int(num_epochs, "num_epochs", minimum=0, maximum=MAX_STEPS)
    w = b = 0.0
    n = len(x)
    for _ in range(num_epochs):
        residual = y - (w * x + b)
        w, b = w + lr * 2.0 / n * float(x @ residual), b + lr * 2.0 / n * float(residual.sum())
    return w, b


def epochs_to_tolerance(x, y, lr: float, tol: float, max_epochs: int) -> int:
    """Fewest epochs of `gradient_descent_line` after which both w and b are within `tol` of the
    least-squares solution (np.polyfit); -1 if `max_epochs` is not enough."""
    x, y = _points(x, y)
    lr = as_float(lr, "lr", low=0.0, high=10.0, low_open=True)
    tol = as_float(tol, "tol", low=0.0, low_open=True)
    max_epochs = as_int(max_epochs, "max_epochs", minimum=1, maximum=MAX_STEPS)
    w_star, b_star = np.polyfit(x, y, 1)
    w = b = 0.0
    n = len(x)
    for epoch in range(1, max_epochs + 1):
        residual = y - (w * x + b)
        w, b = w + lr * 2.0 / n * float(x @ residual), b + lr * 2.0 / n * float(residual.sum())
        if abs(w - w_star) <= tol and abs(b - b_star) <= tol:
            return epoch
    return -1


def regressors_on_points(x, y, x_new) -> dict:
    """Predictions at `x_new` of LinearRegression, DecisionTreeRegressor(random_state=0),
    KNeighborsRegressor() (the notes' default k = 5) and KNeighborsRegressor(n_neighbors=1), fitted on (x, y)."""
    from sklearn.linear_model import LinearRegression
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.tree import DecisionTreeRegressor

    x, y = _points(x, y)
    x_new = as_float_array(x_new, "x_new", ndim=1)
    models = {"linear": LinearRegression(), "tree": DecisionTreeRegressor(random_state=0),
              "knn_default": KNeighborsRegressor(), "knn_1": KNeighborsRegressor(n_neighbors=1)}
    if len(x) < 5:
        raise ValueError(f"x needs at least 5 points (the default k of KNeighborsRegressor), got {len(x)}")
    return {name: model.fit(x[:, None], y).predict(x_new[:, None]) for name, model in models.items()}


def iris_scores(test_size: float, random_state: int) -> dict:
    """Test accuracy of five standard classifiers on iris (train_test_split with these arguments):
    logistic regression, k-NN, decision tree, random forest and an RBF SVM, each seeded with random_state."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    test_size = as_float(test_size, "test_size", low=0.0, high=1.0, low_open=True, high_open=True)
    random_state = as_int(random_state, "random_state", minimum=0)
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=random_state)
    models = {"logistic": LogisticRegression(max_iter=1000), "knn": KNeighborsClassifier(),
              "tree": DecisionTreeClassifier(random_state=random_state),
              "forest": RandomForestClassifier(random_state=random_state), "svm": SVC()}
    return {name: float(model.fit(X_train, y_train).score(X_test, y_test)) for name, model in models.items()}


def keras_mlp_accuracy(images, labels, test_images, test_labels, flatten: bool, num_epochs: int) -> float:
    """The notes' Keras MLP (Dense 128 ReLU with input_shape (784,), Dense 10 softmax, Adam, sparse
    categorical cross-entropy, batch 32) fitted on 28 x 28 images scaled to [0, 1]; with `flatten`
    the images are reshaped to 784-vectors first (the fix), without it they go in as the notes pass them."""
    images = as_images(images, "images", shape=(28, 28))
    labels = as_labels(labels, "labels", num_classes=10)
    same_length("images", images, "labels", labels)
    test_images = as_images(test_images, "test_images", shape=(28, 28))
    test_labels = as_labels(test_labels, "test_labels", num_classes=10)
    same_length("test_images", test_images, "test_labels", test_labels)
    flatten = as_bool(flatten, "flatten")
    num_epochs = as_int(num_epochs, "num_epochs", minimum=1, maximum=1000)
    import keras

    with _keras_seeded(0):
        model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        shape = (-1, 784) if flatten else (-1, 28, 28)
        x, x_test = (images / 255.0).reshape(shape), (test_images / 255.0).reshape(shape)
        model.fit(x, labels, epochs=num_epochs, batch_size=32, verbose=0)
        return float(model.evaluate(x_test, test_labels, verbose=0)[1])


@contextlib.contextmanager
def _keras_seeded(seed: int):
    """`keras.utils.set_random_seed(seed)` for the block; afterwards Python's, NumPy's, torch's and
    TensorFlow's global generators and Keras's global seed (and seed generator) are as they were."""
    import keras
    from keras.src.backend.common import global_state
    from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
    from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED

    from impl.isolation import global_rngs_preserved

    saved = {name: global_state.get_global_attribute(name) for name in (GLOBAL_RANDOM_SEED, GLOBAL_SEED_GENERATOR)}
    with global_rngs_preserved():
        try:
            keras.utils.set_random_seed(seed)
            yield
        finally:
            for name, value in saved.items():
                global_state.set_global_attribute(name, value)
