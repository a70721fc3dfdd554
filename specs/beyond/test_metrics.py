import functools
import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from impl import timing
from impl.beyond import metrics

COUNT = st.integers(0, 200)


@pytest.mark.cpu
@given(tp=st.integers(1, 200), fp=COUNT, fn=COUNT, tn=st.integers(1, 200))
def test_confusion(claim, tp, fp, fn, tn):
    """For any confusion counts (TP, TN >= 1; FP, FN >= 0; up to 200 each) written out as label
    vectors, scikit-learn's confusion matrix returns the counts, and its accuracy, precision,
    recall and F1 equal (TP+TN)/N, TP/(TP+FP), TP/(TP+FN) and 2TP/(2TP+FP+FN) to 1e-12; that F1
    is the harmonic mean of precision and recall; and FPR = FP/(FP+TN) = 1 - specificity (recall
    of the negative class). A constant majority predictor on 950 negatives and 50 positives scores
    accuracy 0.95 yet recall 0, F1 0, balanced accuracy 0.5 and ROC AUC 0.5.

    Course: beyond the course, D2 knowledge base (confusion matrix, F1); D4 confusion matrix, metrics (accuracy trap).
    """
    tol = claim.t["abs_tol"]
    y, pred = metrics.labels_from_confusion(tp, fp, fn, tn)
    claim.expect("confusion_matrix_matches", skm.confusion_matrix(y, pred).ravel().tolist() == [tn, fp, fn, tp], "==", True)
    n, precision, recall = tp + fp + fn + tn, tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn)
    f1 = 2 * tp / (2 * tp + fp + fn)
    harmonic = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    gaps = [abs(skm.accuracy_score(y, pred) - (tp + tn) / n),
            abs(skm.precision_score(y, pred, zero_division=0.0) - precision),
            abs(skm.recall_score(y, pred) - recall), abs(skm.f1_score(y, pred) - f1), abs(f1 - harmonic),
            abs((1 - skm.recall_score(y, pred, pos_label=0)) - fp / (fp + tn))]
    claim.track_max("worst_closed_form_gap", max(gaps))
    claim.expect("closed_form_gap", max(gaps), "<=", "abs_tol")
    y_trap = np.r_[np.zeros(950, int), np.ones(50, int)]
    constant = np.zeros(1000, int)
    trap = {"accuracy": skm.accuracy_score(y_trap, constant), "recall": skm.recall_score(y_trap, constant),
            "f1": skm.f1_score(y_trap, constant, zero_division=0.0),
            "balanced_accuracy": skm.balanced_accuracy_score(y_trap, constant),
            "roc_auc": skm.roc_auc_score(y_trap, constant.astype(float))}
    claim.record(majority_predictor=trap)
    for name, expected in (("accuracy", 0.95), ("recall", 0.0), ("f1", 0.0), ("balanced_accuracy", 0.5), ("roc_auc", 0.5)):
        claim.expect(f"majority_{name}_gap", abs(trap[name] - expected), "<=", tol)


def _imbalanced_multiclass():
    """Three classes, 80/15/5 true labels; the classifier is good on the big class, poor on the small ones."""
    y = np.r_[np.zeros(80, int), np.ones(15, int), np.full(5, 2)]
    pred = np.r_[np.zeros(78, int), np.ones(2, int), np.ones(7, int), np.zeros(8, int), np.full(1, 2), np.zeros(4, int)]
    return y, pred


@pytest.mark.cpu
@pytest.mark.flag("F44")
@pytest.mark.known_refuted("macro_minus_pooled_f1",
                           source="macro averaging computes one F1 from the counts pooled over all classes")
def test_notes_macro_pools_counts(claim):
    """The notes' description of the averages, taken as written (macro averaging computes one F1
    from the counts pooled over all classes): scikit-learn's macro-F1 on an imbalanced
    three-class problem equals the F1 of the pooled counts to 1e-12.

    Known refuted at `macro_minus_pooled_f1`: macro-F1 is the unweighted mean of the per-class F1
    scores. The pooled F1 is computed right: it equals scikit-learn's micro-F1 to 1e-12 (checked),
    which is the average that does pool the counts.
    Course: beyond the course, D4 metrics (micro and macro averaging); flagged F44.
    """
    y, pred = _imbalanced_multiclass()
    tp = int((y == pred).sum())  # pooled over classes, single-label: every error is one FP and one FN
    pooled_f1 = 2 * tp / (2 * tp + 2 * (len(y) - tp))
    macro = skm.f1_score(y, pred, average="macro")
    claim.record(macro_f1=macro, pooled_f1=pooled_f1)
    claim.expect("micro_minus_pooled_f1", abs(skm.f1_score(y, pred, average="micro") - pooled_f1), "<=", "abs_tol")
    claim.expect("macro_minus_pooled_f1", abs(macro - pooled_f1), "<=", "abs_tol")


@pytest.mark.cpu
@pytest.mark.flag("F44")
def test_micro_macro(claim):
    """Micro averaging pools the counts, macro averaging takes the unweighted mean of per-class
    scores: on an imbalanced three-class problem (80/15/5), micro-F1 equals accuracy and the F1 of
    the pooled counts to 1e-12, macro-F1 equals the plain mean of the three per-class F1 scores to
    1e-12, and the two differ by at least 0.1 because the rare classes are classified badly.

    Course: beyond the course, D4 metrics (micro and macro averaging); corrects flag F44.
    """
    y, pred = _imbalanced_multiclass()
    tp = int((y == pred).sum())
    per_class = skm.f1_score(y, pred, average=None)
    micro, macro = skm.f1_score(y, pred, average="micro"), skm.f1_score(y, pred, average="macro")
    claim.record(micro_f1=micro, macro_f1=macro, per_class_f1=per_class, accuracy=skm.accuracy_score(y, pred))
    claim.expect("micro_minus_accuracy", abs(micro - skm.accuracy_score(y, pred)), "<=", "abs_tol")
    claim.expect("micro_minus_pooled_f1", abs(micro - 2 * tp / (2 * tp + 2 * (len(y) - tp))), "<=", "abs_tol")
    claim.expect("macro_minus_mean_per_class", abs(macro - float(np.mean(per_class))), "<=", "abs_tol")
    claim.expect("micro_minus_macro", micro - macro, ">=", "min_gap")


@pytest.mark.cpu
@settings(max_examples=25)
@given(n_pos=st.integers(1, 60), n_neg=st.integers(1, 60), levels=st.integers(2, 1000), seed=st.integers(0, 2**31 - 1))
def test_roc_auc(claim, n_pos, n_neg, levels, seed):
    """For any label set (1-60 of each class) and integer scores with ties (drawn from 2..1000
    levels), `roc_auc_score` equals the Mann-Whitney U / (n+ n-) with ties counted 1/2 to 1e-12; it
    is unchanged by the strictly increasing transform s^3 + 2s (exact in float64 for these integers:
    a transform that rounds, such as exp(3 s / 1000), can merge or split near-ties and move AUC by
    ~1e-4); AUC(-s) = 1 - AUC(s); and duplicating
    every negative leaves it unchanged. Scores independent of 10^4 labels give AUC in [0.48, 0.52]
    (4 SE of the null's 0.0029 SD from 0.5).

    Course: beyond the course, D2 (TPR, FPR, ROC); D4 AUC.
    """
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)])
    s = (rng.integers(0, levels, len(y)) + (levels // 3) * y).astype(float)
    auc = skm.roc_auc_score(y, s)
    twice = np.r_[y, np.zeros(n_neg, int)], np.r_[s, s[y == 0]]
    gaps = {"vs_mann_whitney": abs(auc - metrics.mann_whitney_auc(y, s)),
            "vs_monotone_transform": abs(auc - skm.roc_auc_score(y, s**3 + 2 * s)),
            "negated_plus_auc_minus_1": abs(skm.roc_auc_score(y, -s) + auc - 1),
            "vs_negatives_duplicated": abs(auc - skm.roc_auc_score(*twice))}
    for name, gap in gaps.items():
        claim.track_max(f"worst_{name}", gap)
        claim.expect(name, gap, "<=", "abs_tol")
    null = skm.roc_auc_score(np.random.default_rng(0).integers(0, 2, 10_000), np.random.default_rng(1).random(10_000))
    claim.record(null_auc=null)
    claim.expect("null_auc", null, ">=", "null_low")
    claim.expect("null_auc", null, "<=", "null_high")


def _binormal(num_pos: int, ratio: int, seed: int):
    """num_pos positives scored N(2, 1) and num_pos negatives scored N(0, 1); each negative repeated `ratio` times."""
    rng = np.random.default_rng(seed)
    pos, neg = rng.normal(2.0, 1.0, num_pos), rng.normal(0.0, 1.0, num_pos)
    y = np.r_[np.ones(num_pos, int), np.zeros(num_pos * ratio, int)]
    return y, np.r_[pos, np.repeat(neg, ratio)]


def _precision_before_after(claim):
    ratio = claim.t["imbalance_ratio"]
    balanced, rare = _binormal(2000, 1, 0), _binormal(2000, ratio, 0)
    claim.use_seed(0)
    threshold = metrics.precision_at_recall(*balanced, claim.t["recall"]).threshold
    precision = [skm.precision_score(y, (s >= threshold).astype(int)) for y, s in (balanced, rare)]
    claim.record(recall_balanced=skm.recall_score(balanced[0], (balanced[1] >= threshold).astype(int)))
    auc = [skm.roc_auc_score(*balanced), skm.roc_auc_score(*rare)]
    claim.record(threshold=threshold, auc_balanced=auc[0], auc_imbalanced=auc[1], precision_balanced=precision[0],
                 precision_imbalanced=precision[1], positives_share_imbalanced=1 / (1 + ratio))
    return auc, precision


@pytest.mark.cpu
@pytest.mark.flag("F42")
@pytest.mark.known_refuted("precision_drop", source="AUC is robust to class imbalance")
def test_notes_auc_robust_to_imbalance(claim):
    """The notes' reading of AUC's robustness to class imbalance: a detector whose AUC does not move
    when positives go from 50% to 0.1% (every negative repeated 999 times) is as useful as before,
    i.e. its precision at the threshold giving recall 0.8 stays within 0.1 of the balanced value.

    Known refuted at `precision_drop`. The premise is checked and holds: the AUC is the same at both
    prevalences to 1e-12, and the threshold does give recall 0.8 on the balanced set.
    Course: beyond the course, D4 AUC (robust to imbalance); flagged F42.
    """
    auc, precision = _precision_before_after(claim)
    claim.expect("auc_change", abs(auc[0] - auc[1]), "<=", "abs_tol")
    claim.expect("recall_at_threshold", claim.observed["recall_balanced"], ">=", claim.t["recall"])
    claim.expect("precision_drop", precision[0] - precision[1], "<=", "max_precision_drop")


@pytest.mark.cpu
@pytest.mark.flag("F42")
def test_auc_hides_precision(claim):
    """AUC is invariant to prevalence but says nothing about precision: with binormal scores
    (positives N(2, 1), negatives N(0, 1), 2,000 each) and every negative then repeated 999 times
    (0.1% positives), AUC is unchanged to 1e-12 while precision at the threshold giving recall 0.8
    on the balanced set falls below 0.05.

    Course: beyond the course, D4 AUC (robust to imbalance); corrects flag F42.
    """
    auc, precision = _precision_before_after(claim)
    claim.expect("auc_change", abs(auc[0] - auc[1]), "<=", "abs_tol")
    claim.expect("precision_imbalanced", precision[1], "<=", "max_precision_imbalanced")


@functools.cache
def _auc_timing() -> timing.Comparison:
    """roc_auc_score on 10^5 vs 10^6 label-independent scores (one comparison shared by the F43 pair)."""
    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 10**6), rng.random(10**6)
    return timing.compare(lambda: skm.roc_auc_score(y[:10**5], s[:10**5]), lambda: skm.roc_auc_score(y, s),
                          name_a="auc_1e5", name_b="auc_1e6")


@pytest.mark.cpu
@pytest.mark.perf
@pytest.mark.flag("F43")
@pytest.mark.known_refuted("time_ratio_1e6_over_1e5", source="AUC is computationally heavy")
def test_notes_auc_is_heavy(claim):
    """The notes' statement that AUC is computationally heavy, in a falsifiable form: its cost grows
    like the count of (positive, negative) pairs, so 10x the samples takes at least 50x the time
    (quadratic: 100x).

    Known refuted at `time_ratio_1e6_over_1e5`: the cost is one sort, n log n. The timing is of the
    real `roc_auc_score` on the same label-independent data at both sizes (shared with
    B.metrics.auc_is_cheap), medians of interleaved repeats; its figures are recorded.
    Course: beyond the course, D4 AUC (computational cost); flagged F43.
    """
    comparison = _auc_timing()
    claim.record(**{k: v for k, v in comparison.summary().items() if k != "host"})
    comparison.judge(claim, "time_ratio_1e6_over_1e5", ">=", "quadratic_ratio")


@pytest.mark.cpu
@pytest.mark.perf
@pytest.mark.flag("F43")
def test_auc_is_cheap(claim):
    """AUC costs one sort, O(n log n): `roc_auc_score` on 10^6 samples takes at most 20x its time on
    10^5 (n log n predicts 12x, a pairwise count 100x), judged on the 95% interval of interleaved timings.

    Course: beyond the course, D4 AUC (computational cost); corrects flag F43.
    """
    comparison = _auc_timing()
    claim.record(**{k: v for k, v in comparison.summary().items() if k != "host"})
    comparison.judge(claim, "time_ratio_1e6_over_1e5", "<=", "max_ratio")


def _calibrated(claim, n: int, seed: int):
    rng = claim.rng(seed)
    p = rng.random(n)
    return (rng.random(n) < p).astype(int), p


@pytest.mark.cpu
def test_threshold_calibration(claim, seed):
    """With calibrated scores (p ~ U(0, 1), y ~ Bernoulli(p), score = p, 10^6 samples), the grid
    threshold (step 0.001) maximising TP - 0.1 FP lies within 0.03 of the Bayes value 0.1/1.1, and
    the one minimising 10 FP + 100 FN within 0.03 of 10/110. A well-specified logistic regression
    (3 Gaussian features, 20,000 training and 20,000 test samples) has a 10-bin expected calibration
    error <= 0.02 on the test set, and that ECE agrees with one built from scikit-learn's
    `calibration_curve` to 1e-12.

    Course: beyond the course, D4 metrics case studies (profit curve, calibration).
    """
    from sklearn.calibration import calibration_curve
    from sklearn.linear_model import LogisticRegression

    y, p = _calibrated(claim, 10**6, seed)
    grid = np.arange(1, 1000) / 1000
    profit = metrics.best_threshold(y, p, grid, gain_tp=1.0, cost_fp=0.1, cost_fn=0.0)
    cost = metrics.best_threshold(y, p, grid, gain_tp=0.0, cost_fp=10.0, cost_fn=100.0)
    claim.record(profit_threshold=profit, cost_threshold=cost, bayes=0.1 / 1.1)
    claim.expect("profit_threshold_error", abs(profit - 0.1 / 1.1), "<=", "threshold_tol")
    claim.expect("cost_threshold_error", abs(cost - 10 / 110), "<=", "threshold_tol")
    rng = np.random.default_rng(seed + 1)
    w = np.array([1.5, -1.0, 0.5])
    X = rng.standard_normal((40_000, 3))
    y = (rng.random(40_000) < 1 / (1 + np.exp(-(X @ w + 0.3)))).astype(int)
    model = LogisticRegression().fit(X[:20_000], y[:20_000])
    prob = model.predict_proba(X[20_000:])[:, 1]
    ece = metrics.expected_calibration_error(y[20_000:], prob, 10)
    frac, mean_p = calibration_curve(y[20_000:], prob, n_bins=10)
    counts = np.histogram(prob, bins=np.linspace(0, 1, 11))[0]
    reference = float(np.sum(counts[counts > 0] / len(prob) * np.abs(frac - mean_p)))
    claim.expect("ece_vs_calibration_curve", abs(ece - reference), "<=", "abs_tol")
    claim.expect("ece", ece, "<=", "max_ece")


@pytest.mark.cpu
@pytest.mark.flag("F45")
@pytest.mark.known_refuted("precision_score_accepts_recall_threshold",
                           source="precision_score(..., recall_threshold=0.99) gives the precision at 99% recall")
def test_notes_precision_score_recall_threshold(claim):
    """The notes' recipe for precision at 99% recall: scikit-learn's `precision_score` accepts a
    `recall_threshold=0.99` argument and returns a number.

    Known refuted at `precision_score_accepts_recall_threshold`: the call raises TypeError. Checked
    beside it: the error is about that very argument (its message names `recall_threshold`), which
    is absent from the function's signature, while the same call without it returns a precision.
    Course: beyond the course, D4 metrics case studies (precision at recall); flagged F45.
    """
    y, p = _calibrated(claim, 1000, 0)
    parameters = list(inspect.signature(skm.precision_score).parameters)
    claim.record(parameters=parameters)
    error = ""
    try:
        skm.precision_score(y, (p >= 0.5).astype(int), recall_threshold=0.99)
        accepted = True
    except TypeError as exc:
        error, accepted = str(exc), False
    claim.record(error=error)
    claim.expect("error_names_recall_threshold", accepted or "recall_threshold" in error, "==", True)
    claim.expect("recall_threshold_in_signature", "recall_threshold" in parameters, "==", accepted)
    claim.expect("precision_without_it", 0.0 <= skm.precision_score(y, (p >= 0.5).astype(int)) <= 1.0, "==", True)
    claim.expect("precision_score_accepts_recall_threshold", accepted, "==", True)


@pytest.mark.cpu
@pytest.mark.flag("F45")
def test_precision_at_recall(claim):
    """Precision at recall >= 0.99 comes from `precision_recall_curve`: on 2,000 calibrated scores
    its best precision among thresholds reaching recall 0.99 equals a brute-force scan of every
    distinct score as a threshold (precision and recall recomputed from the counts) to 1e-12,
    and the threshold it returns does reach recall 0.99.

    Course: beyond the course, D4 metrics case studies (precision at recall); corrects flag F45.
    """
    y, p = _calibrated(claim, 2000, 0)
    found = metrics.precision_at_recall(y, p, 0.99)
    best = 0.0
    for t in np.unique(p):
        predicted = p >= t
        tp = int((predicted & (y == 1)).sum())
        if tp / y.sum() >= 0.99:
            best = max(best, tp / predicted.sum())
    claim.record(precision=found.precision, recall=found.recall, threshold=found.threshold, brute_force=best)
    claim.expect("precision_vs_brute_force", abs(found.precision - best), "<=", "abs_tol")
    claim.expect("recall_at_threshold", skm.recall_score(y, (p >= found.threshold).astype(int)), ">=", 0.99)
