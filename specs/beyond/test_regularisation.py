import json

import numpy as np
import pytest

from impl.beyond import dropout_mlp, regularisation
from impl.pipeline import artifacts


def _lasso(claim, seed):
    from sklearn.linear_model import Lasso

    X, y, beta = regularisation.sparse_regression(200, 50, 5, 1.0, claim.rng(seed))
    lasso = Lasso(alpha=0.1).fit(X, y).coef_
    claim.record(lasso_zeros=int(np.sum(lasso == 0)), lasso_false_positives=int(np.sum((lasso != 0) & (beta == 0))),
                 largest_false_positive=float(np.abs(lasso[beta == 0]).max()))
    return X, y, beta, lasso


@pytest.mark.cpu
@pytest.mark.known_refuted("lasso_support_is_true_support",
                           source="L1 regularisation selects features: it sets the irrelevant coefficients exactly to "
                                  "zero and keeps the relevant ones")
def test_lasso_exact_support(claim, seed):
    """The catalog's sparsity statement for the problem below: `Lasso(alpha=0.1)` sets at least 40
    of the 50 coefficients exactly to zero and its non-zeros are exactly the 5 true ones (which
    implies 45 zeros, so one check judges both parts).

    Refuted as an intrinsic property of the setting, not of one draw: alpha = 0.1 sits below the
    noise level sigma sqrt(2 log p / n) that exact support recovery needs, and the spec records the
    share of seeds 0-99 on which the exact support is recovered (the calibration over seeds
    1000-3999 behind B.regularisation.l1_l2 finds a few noise coefficients kept on almost every draw).
    Course: beyond the course, D1 ML fundamentals (regularisation); D2 (L1/L2).
    """
    from sklearn.linear_model import Lasso

    _, _, beta, lasso = _lasso(claim, seed)
    exact = []
    for other in range(claim.t["support_survey_seeds"]):
        X, y, true = regularisation.sparse_regression(200, 50, 5, 1.0, np.random.default_rng(other))
        exact.append(bool(np.array_equal(np.flatnonzero(Lasso(alpha=0.1).fit(X, y).coef_), np.flatnonzero(true))))
    claim.record(noise_level_alpha=float(np.sqrt(2 * np.log(50) / 200)), exact_support_share_seeds_0_99=float(np.mean(exact)))
    claim.expect("lasso_support_is_true_support", bool(np.array_equal(np.flatnonzero(lasso), np.flatnonzero(beta))), "==", True)


@pytest.mark.cpu
def test_l1_l2(claim, seed):
    """For y = X beta + N(0, 1) with 5 non-zero coefficients (+-2) of 50, X ~ N(0, I), n = 200:
    `Lasso(alpha=0.1)` keeps all 5 true coefficients and sets at least 29 of the 45 others exactly
    to zero (the lower edge of a band calibrated over 3,000 seeds; the catalog's stronger "at least
    40 zeros, exactly the true support" is refuted: see lasso_exact_support); `Ridge` sets none to
    zero and its |beta|_2 strictly falls as alpha goes 1 -> 10 -> 100. An L2 penalty lam/2 |w|^2 lifts every eigenvalue of the least-squares Hessian
    by exactly lam (autograd Hessian vs X^T X / n, 1e-10). torch `SGD(weight_decay=lam)` takes the
    same steps as gradient descent on the loss + lam/2 |w|^2 (to 1e-12), while Adam(weight_decay=lam)
    and AdamW(weight_decay=lam) part by more than 1e-4 within 10 steps: Adam's L2 is rescaled by
    its second-moment estimate, AdamW's decay is not.

    Course: beyond the course, D1 ML fundamentals (regularisation); D2 (L1/L2); D3 regularisation; D4 weights and biases (regularisation).
    """
    import torch
    from sklearn.linear_model import Ridge

    X, y, beta, lasso = _lasso(claim, seed)
    kept_true = bool(np.all(lasso[beta != 0] != 0))
    norms = [float(np.linalg.norm(Ridge(alpha=a).fit(X, y).coef_)) for a in (1.0, 10.0, 100.0)]
    ridge_zeros = int(np.sum(Ridge(alpha=1.0).fit(X, y).coef_ == 0))
    claim.record(ridge_norms=norms)
    claim.expect("lasso_null_zeros", int(np.sum(lasso[beta == 0] == 0)), ">=", "min_lasso_zeros")
    claim.expect("lasso_keeps_true_coefficients", kept_true, "==", True)
    claim.expect("ridge_exact_zeros", ridge_zeros, "==", 0)
    claim.expect("ridge_norm_steps", float(max(np.diff(norms))), "<", 0.0)
    lam = claim.t["lam"]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    loss = lambda w: 0.5 * ((Xt @ w - yt) ** 2).mean() + 0.5 * lam * (w**2).sum()  # noqa: E731
    hessian = torch.autograd.functional.hessian(loss, torch.zeros(50, dtype=torch.float64)).numpy()
    lifted = np.linalg.eigvalsh(hessian) - np.linalg.eigvalsh(X.T @ X / len(y))
    claim.expect("hessian_lift_error", float(np.abs(lifted - lam).max()), "<=", "exact_tol")
    paths = {rule: regularisation.weight_decay_path(X, y, rule=rule, lam=lam, lr=0.05, num_steps=10)
             for rule in regularisation.DECAY_RULES}
    claim.expect("sgd_decay_vs_l2_loss", float(np.abs(paths["sgd_weight_decay"] - paths["sgd_l2_in_loss"]).max()),
                 "<=", "sgd_tol")
    claim.expect("adam_vs_adamw", float(np.abs(paths["adam_weight_decay"] - paths["adamw"]).max()), ">", "min_adam_gap")


@pytest.mark.cpu
def test_dropout_early_stopping(claim):
    """(a) Dropout(p = 0.3) on 10^6 units: in eval mode it is the identity (bitwise) in torch and
    Keras; in training mode each drops a share p +- 0.01 and scales survivors by exactly 1/(1 - p),
    keeping the mean within 1%; before a linear layer, the eval output equals the mean of 10^5
    stochastic passes within 1% of its scale (the ensemble view). (b) Keras `EarlyStopping(patience=5,
    restore_best_weights=True)` fed a scripted validation-loss curve stops exactly 5 epochs after
    the last improvement and restores that epoch's weights bitwise. (c) An MLP 784-512-512-10
    trained without dropout for 40 epochs on 1,000 MNIST images (Adam, 5 seeds): the weights early
    stopping keeps (patience 5 on a 500-image validation split) have a mean test loss no higher than
    the last epoch's. (Whether dropout closes the train - test gap there is dropout_closes_gap.)

    Course: beyond the course, D1, D2 (dropout, early stopping); D3 (patience, dropout layers); D4 convergence.
    """
    p = 0.3
    outputs = regularisation.dropout_outputs(np.ones((1000, 1000), np.float32), p, 0)
    claim.use_seed(0)
    for framework in ("torch", "keras"):
        train = outputs[f"{framework}_train"]
        kept = train[train != 0]
        claim.expect(f"{framework}_eval_identity", bool(np.array_equal(outputs[f"{framework}_eval"], np.ones((1000, 1000)))), "==", True)
        claim.expect(f"{framework}_dropped_share_error", abs(float(np.mean(train == 0)) - p), "<=", "share_tol")
        claim.expect(f"{framework}_survivor_scale_error", float(np.abs(kept - np.float32(1 / (1 - p))).max()), "==", 0.0)
        claim.expect(f"{framework}_mean_rel_error", abs(float(train.mean()) - 1), "<=", "mean_rel_tol")
    rng = np.random.default_rng(0)
    eval_out, mc_mean = regularisation.mc_dropout_linear(rng.normal(1.0, 1.0, 64), rng.normal(0, 1, (64, 4)), 0.5, 100_000, 0)
    claim.expect("ensemble_mean_rel_error", float(np.max(np.abs(mc_mean - eval_out) / np.abs(eval_out).max())), "<=", "mean_rel_tol")
    scripted = [1.0, 0.8, 0.7, 0.72, 0.65, 0.66, 0.67, 0.7, 0.69, 0.71, 0.75, 0.8, 0.85]
    stop = regularisation.early_stopping(scripted, 5)
    claim.record(early_stop=stop._asdict())
    claim.expect("epochs_run", stop.epochs_run, "==", 4 + 5 + 1)  # best at epoch 4 (0-based), then 5 without improvement
    claim.expect("restored_best_weights", stop.restored_is_best and not stop.restored_is_last, "==", True)
    claim.expect("oracle_stop_epoch", dropout_mlp.early_stop_epoch(scripted, 5), "==", stop.best_epoch)
    runs = _curves(claim)
    stopped = [c["test_loss"][dropout_mlp.early_stop_epoch(c["val_loss"], 5)] for c in runs["0.0"].values()]
    last = [c["test_loss"][-1] for c in runs["0.0"].values()]
    claim.record(early_stopped_test_loss=stopped, last_epoch_test_loss=last)
    claim.expect("early_stopped_minus_last_test_loss", float(np.mean(stopped) - np.mean(last)), "<=", 0.0)


def _curves(claim) -> dict:
    """The `a_dropout` stage's per-epoch curves: dropout rate -> seed -> curve name -> values."""
    record = json.loads(artifacts.require("data/models/beyond/dropout_curves.json").read_text())
    for seed in record["knobs"]["seeds"]:
        claim.use_seed(int(seed))
    claim.record(sizes=record["sizes"], num_epochs=record["knobs"]["num_epochs"])
    return record["runs"]


def _final(by_seed: dict, key: str) -> list[float]:
    return [c[key][-1] for c in by_seed.values()]


@pytest.mark.cpu
@pytest.mark.known_refuted("gap_shrink_relative",
                           source="dropout reduces overfitting: it narrows the gap between training and test performance")
def test_dropout_closes_gap(claim):
    """The catalog's effect of dropout: an MLP 784-512-512-10 trained 40 epochs with Adam on 1,000
    MNIST images (mean of seeds 0-4) has a train - test accuracy gap at least 30% smaller with
    dropout 0.5 after each hidden layer than without, and loses at most 1 pp of test accuracy (the
    accuracy change is recorded; the gap part alone already fails, so it is the judged check).

    Shown intrinsic to the setting, not to a weak run: without dropout the network memorises its
    1,000 images and its test loss rises past its minimum (it overfits); the test accuracy of every
    arm has plateaued by epoch 40 (curves recorded and plotted); and Hinton et al.'s stronger
    recipe (dropout 0.2 on the pixels as well) does not shrink the gap by 30% either. The
    cross-entropy gap, which dropout does narrow, is recorded beside it.
    Course: beyond the course, D1, D2 (dropout); D3 (dropout layers).
    """
    runs = _curves(claim)
    plain = runs["0.0"]
    summary = {arm: {"accuracy_gap": float(np.mean(np.subtract(_final(r, "train_accuracy"), _final(r, "test_accuracy")))),
                     "loss_gap": float(np.mean(np.subtract(_final(r, "test_loss"), _final(r, "train_loss")))),
                     "train_accuracy": float(np.mean(_final(r, "train_accuracy"))),
                     "test_accuracy": float(np.mean(_final(r, "test_accuracy")))} for arm, r in runs.items()}
    shrink = {arm: 1 - summary[arm]["accuracy_gap"] / summary["0.0"]["accuracy_gap"] for arm in summary}
    claim.record(summary=summary, accuracy_gap_shrink=shrink,
                 loss_gap_shrink={arm: 1 - summary[arm]["loss_gap"] / summary["0.0"]["loss_gap"] for arm in summary},
                 test_accuracy_loss_pp={arm: 100 * (summary["0.0"]["test_accuracy"] - summary[arm]["test_accuracy"])
                                        for arm in summary})
    epochs = list(range(1, len(plain["0"]["train_accuracy"]) + 1))
    mean_curve = lambda r, key: np.mean([c[key] for c in r.values()], axis=0)  # noqa: E731
    claim.plot("MLP on 1,000 MNIST images: accuracy with and without dropout (mean of 5 seeds)", epochs,
               {f"{kind} {arm}": mean_curve(runs[arm], f"{kind}_accuracy") for arm in runs for kind in ("train", "test")},
               xlabel="epoch", ylabel="accuracy")
    claim.plot("Test cross-entropy (mean of 5 seeds)", epochs, {arm: mean_curve(runs[arm], "test_loss") for arm in runs},
               xlabel="epoch", ylabel="test loss")
    claim.expect("plain_train_accuracy", summary["0.0"]["train_accuracy"], ">=", "min_memorised_accuracy")
    claim.expect("plain_test_loss_rise", float(np.mean([c["test_loss"][-1] - min(c["test_loss"]) for c in plain.values()])),
                 ">", 0.0)
    window = claim.t["plateau_epochs"]
    for arm, r in runs.items():  # converged: the last window's mean test accuracy is where the one before it was
        curve = mean_curve(r, "test_accuracy")
        claim.expect(f"{arm}_test_accuracy_drift_pp", float(100 * abs(curve[-window:].mean() - curve[-2 * window:-window].mean())),
                     "<=", "max_plateau_drift_pp")
    claim.expect("stronger_recipe_gap_shrink", shrink["input0.2_hidden0.5"], "<", "min_gap_shrink")
    claim.expect("gap_shrink_relative", shrink["0.5"], ">=", "min_gap_shrink")
