"""Lesson 7's compression track: pruning, low-rank factorisation and distillation of a trained MNIST MLP.

The `compress_mnist` stage builds every variant once and scores it on the same 1,000 test images
(data/models/l7_capstone/compress.json); these specs check the exact parts themselves and read the
accuracies from that table, recomputing one of them from the saved weights as a check on the table.
"""
import copy
import json

import numpy as np
import pytest

from impl.pipeline import artifacts


def _table() -> dict:
    rows = json.loads(artifacts.require("data/models/l7_capstone/compress.json").read_text())["rows"]
    return {row["name"]: row for row in rows}


def _base():
    from impl.l7_capstone import compress_mnist
    from impl.pipeline import params

    return compress_mnist.load_base(params.knobs("l7_capstone", "mnist")["hidden"])


def _test_tensors():
    from impl.l7_capstone import mnist5k
    from impl.pipeline import params

    knobs = params.knobs("l7_capstone", "mnist")
    return mnist5k.tensors(knobs["train_size"], knobs["test_size"], knobs["split_seed"])[2:]


@pytest.mark.cpu
def test_pruning(claim):
    """Global L1 unstructured pruning (`torch.nn.utils.prune.global_unstructured` over both Linear
    layers) of the trained MLP 784-256-10 zeroes the requested share of its 203,264 weights to within
    one weight, for 50, 80 and 90% and for any hypothesis-drawn share in [0, 0.99]. At 50% without
    fine-tuning the test accuracy drops <= 1 pp; at 90%, after one masked fine-tuning epoch (Adam), it
    drops <= 2 pp; and every pruned weight is still exactly 0 after that epoch.

    Test set: 1,000 official test images (stratified); training: 4,000 (mnist5k-style subset).
    Course: Lesson 7 (model compression track).
    """
    import torch
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from impl.l3_optim import mlp
    from impl.l7_capstone import compress

    net, _ = _base()
    table = _table()

    def check(amount):
        zeros, total = compress.sparsity(compress.prune_global(copy.deepcopy(net), amount))
        claim.track_max("max_weights_off_target", abs(zeros - amount * total))

    for amount in (0.5, 0.8, 0.9):
        check(amount)
    settings(max_examples=25, deadline=None)(given(st.floats(0.0, 0.99))(check))()
    claim.expect("max_weights_off_target", claim.observed["max_weights_off_target"], "<=", "sparsity_tol_weights")

    base = table["mlp"]["accuracy"]
    claim.expect("drop_at_50_no_finetune", base - table["pruned_50%"]["accuracy"], "<=", "max_drop_50_no_ft")
    claim.expect("drop_at_90_after_finetune", base - table["pruned_90%_ft"]["accuracy"], "<=", "max_drop_90_ft")
    saved = torch.load(artifacts.require("data/models/l7_capstone/pruned.pt"), weights_only=True)["0.90"]
    weights = [saved["state"]["0.weight"], saved["state"]["2.weight"]]
    claim.expect("pruned_weights_nonzero_after_finetune",
                 int(sum(int((w[m == 0] != 0).sum()) for w, m in zip(weights, saved["masks"]))), "==", 0)
    model = copy.deepcopy(net)
    model.load_state_dict(saved["state"])
    X_test, y_test = _test_tensors()
    claim.expect("table_accuracy_minus_recomputed_90_ft",
                 abs(mlp.evaluate(model, X_test, y_test)[0] - table["pruned_90%_ft"]["accuracy"]), "==", 0.0)
    for name, row in table.items():
        if row["family"] in ("base", "pruned"):
            claim.record(**{name: {"accuracy": row["accuracy"], "nonzero_weights": row["nonzero_weights"],
                                   "stored_bytes": row["bytes"]}})
    levels = [0.5, 0.8, 0.9]
    claim.plot("Global magnitude pruning: test accuracy by sparsity", [0.0, *levels],
               {"no fine-tuning": [base, *(table[f"pruned_{a:.0%}"]["accuracy"] for a in levels)],
                "one masked epoch": [base, *(table[f"pruned_{a:.0%}_ft"]["accuracy"] for a in levels)]},
               xlabel="share of weights pruned", ylabel="test accuracy")


@pytest.mark.cpu
def test_low_rank(claim):
    """Replacing the trained MLP's 784 -> 256 layer by its rank-32 truncated-SVD factors (784 -> 32 -> 256)
    shrinks that layer's weights 6.03x (200,704 -> 33,280); the factors' product is the best rank-32
    approximation, with ||W - W_32||_F^2 = sum_{i>32} sigma_i^2 (Eckart-Young, Lesson 1; rel 1e-8); test
    accuracy drops <= 3 pp before and <= 1 pp after one fine-tuning epoch.

    Course: Lesson 7 (compression), tied to Lesson 1's SVD.
    """
    from impl.l7_capstone import compress

    net, _ = _base()
    table = _table()
    W = net[0].weight.detach().double().numpy()
    factored = compress.replace_low_rank(net, 0, 32)
    first, second = factored[0][0].weight.detach().double().numpy(), factored[0][1].weight.detach().double().numpy()
    claim.expect("dense_weights", int(W.size), "==", "dense_weights")
    claim.expect("factored_weights", int(first.size + second.size), "==", "factored_weights")
    claim.record(shrink_factor=W.size / (first.size + second.size))
    a, b, sigma = compress.low_rank_factors(W, 32)
    residual = float(np.linalg.norm(W - b @ a, "fro") ** 2)
    tail = float(np.sum(sigma[32:] ** 2))
    claim.expect("frobenius_identity_rel_error", abs(residual - tail) / tail, "<=", "frobenius_rtol")
    claim.expect("layer_product_minus_W32_max", float(np.max(np.abs(second @ first - b @ a))), "<=", 1e-5)
    base = table["mlp"]["accuracy"]
    claim.expect("drop_before_finetune", base - table["lowrank_32"]["accuracy"], "<=", "max_drop_before_ft")
    claim.expect("drop_after_finetune", base - table["lowrank_32_ft"]["accuracy"], "<=", "max_drop_after_ft")
    claim.plot("Singular values of the 784 -> 256 weight matrix (rank 32 kept)", list(range(1, sigma.size + 1)),
               {"sigma_i": sigma.tolist()}, xlabel="i", ylabel="singular value", logy=True)


@pytest.mark.cpu
@pytest.mark.xfail(strict=True, reason="measured: distilled students 0.881/0.888/0.887 (mean 0.8853) vs scratch "
                   "0.902/0.901/0.901 (mean 0.9013): distillation cost 1.60 pp, past the 0.5 pp allowed")
def test_distill(claim):
    """A 784-32-10 student trained for 5 epochs with distillation (T = 4, alpha = 0.9, soft loss scaled by
    T^2) from the CNN teacher (test accuracy >= 0.95) scores a mean test accuracy over seeds 0-2 at least
    the mean of the same student trained from scratch (alpha = 0, same seeds, batches and optimiser)
    minus 0.5 pp; and the distillation term is exactly 0 when the student's logits equal the teacher's.

    Known refuted as measured (numbers in the xfail reason): on 4,000 images and 5 epochs, a teacher whose
    soft targets carry T = 4 dark knowledge did not help this small student; with alpha = 0.9 most of the
    loss is matching a teacher that is itself 3 pp short of perfect. Course: Lesson 7 (compression).
    """
    import torch

    from impl.l7_capstone import compress

    _, teacher = _base()
    table = _table()
    claim.expect("teacher_accuracy", table["teacher_cnn"]["accuracy"], ">=", "min_teacher_accuracy")
    logits = torch.randn(64, 10, generator=torch.Generator().manual_seed(claim.use_seed(0)))
    labels = logits.argmax(1)
    alone = compress.distill_loss(logits, logits.clone(), labels, 4.0, 1.0)
    claim.expect("distill_term_at_equal_logits", float(alone), "==", 0.0)
    students = [row for row in table.values() if row["family"] == "student"]
    scratch = [r["accuracy"] for r in students if not r["distilled"]]
    distilled = [r["accuracy"] for r in students if r["distilled"]]
    for row in students:
        claim.record(**{row["name"]: {"accuracy": row["accuracy"], "params": row["params"]}})
    claim.record(scratch_mean=float(np.mean(scratch)), distilled_mean=float(np.mean(distilled)))
    claim.expect("scratch_minus_distilled_mean", float(np.mean(scratch) - np.mean(distilled)), "<=",
                 "max_scratch_minus_distilled")
