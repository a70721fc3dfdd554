import pytest

from impl.beyond import fgsm
from impl.data import mnist


@pytest.mark.cpu
@pytest.mark.flag("F29")
def test_fgsm(claim):
    """An MLP 784-256-10 trained 10 epochs on the 4,000-image MNIST subset (pixels in [0, 1], Adam
    1e-3, batch 64, seed 0) reaches >= 0.913 accuracy on a 1,000-image test subset; FGSM at eps = 0.1
    drops it to <= 0.50, while random signs of the same size cost <= 4.1 pp. FGSM adversarial training
    (each batch's loss the mean of the clean and the FGSM loss, same epochs) raises the FGSM accuracy
    by >= 20 pp and costs <= 3 pp of clean accuracy. FGSM is written out directly (the syllabus's
    ART toolbox is not in the stack).

    Two bars depart from the catalog by its calibration rule (section 0.7: over training seeds 0-5,
    a bar less than 3 SD inside the distribution moves to mean -+ 3 SD): the catalog's clean accuracy
    >= 0.93 sits above the mean of this recipe, and its 3 pp random-sign cost about 1.2 SD above the
    mean, so either would fail a correct run in a large share of seeds; the per-seed figures are in
    claims.yaml. The others are the catalog's.
    Course: beyond the course (deep-learning syllabus, module 7: adversarial attacks, defences, adversarial training).
    """
    train, test = mnist.subset("train", 4000, 0), mnist.subset("test", 1000, 0)
    X, y = fgsm.to_unit_tensors(train.X, train.y)
    X_test, y_test = fgsm.to_unit_tensors(test.X, test.y)
    eps, epochs = claim.t["eps"], claim.t["num_epochs"]
    claim.use_seed(0)
    plain = fgsm.train_mlp(X, y, epochs, False, eps, 0)
    robust = fgsm.train_mlp(X, y, epochs, True, eps, 0)
    clean = fgsm.accuracy(plain, X_test, y_test)
    attacked = fgsm.accuracy(plain, fgsm.fgsm(plain, X_test, y_test, eps), y_test)
    noisy = fgsm.accuracy(plain, fgsm.random_sign(X_test, eps, 0), y_test)
    robust_clean = fgsm.accuracy(robust, X_test, y_test)
    robust_attacked = fgsm.accuracy(robust, fgsm.fgsm(robust, X_test, y_test, eps), y_test)
    claim.plot("Test accuracy at eps = 0.1", ["clean", "random signs", "FGSM"],
               {"standard training": [clean, noisy, attacked],
                "adversarial training": [robust_clean, fgsm.accuracy(robust, fgsm.random_sign(X_test, eps, 0), y_test),
                                         robust_attacked]}, kind="bar", ylabel="accuracy")
    claim.expect("clean_accuracy", clean, ">=", "min_clean_accuracy")
    claim.expect("fgsm_accuracy", attacked, "<=", "max_fgsm_accuracy")
    claim.expect("random_sign_cost", clean - noisy, "<=", "max_random_cost")
    claim.expect("adversarial_training_fgsm_gain", robust_attacked - attacked, ">=", "min_robust_gain")
    claim.expect("adversarial_training_clean_cost", clean - robust_clean, "<=", "max_clean_cost")
