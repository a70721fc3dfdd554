import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.tree import DecisionTreeClassifier

from impl.beyond import trees


@pytest.mark.cpu
def test_gini(claim):
    """Gini impurity by its definition gives 0.48 for 6 birds and 4 mammals (1 - 0.36 - 0.16). On
    the three-event photon/lepton table (one signal, two background) the root's Gini is 4/9, a cut
    at photon pT 40 GeV scores a weighted child Gini of 1/3 and a cut at 25 GeV scores 0; and
    scikit-learn's depth-1 tree on that table reduces impurity by exactly 4/9 (1e-12) into two
    pure leaves.

    Course: beyond the course, D3 Gini index (worked examples).
    """
    X, y = trees.photon_lepton_table()
    values = {"birds_mammals": (trees.gini([6, 4]), 0.48), "root": (trees.gini(np.bincount(y)), 4 / 9),
              "photon_40": (trees.split_gini(X[:, 0], y, 40.0), 1 / 3), "photon_25": (trees.split_gini(X[:, 0], y, 25.0), 0.0)}
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y).tree_
    decrease = stump.impurity[0] - sum(stump.weighted_n_node_samples[c] / 3 * stump.impurity[c] for c in (1, 2))
    values["sklearn_decrease"] = (decrease, 4 / 9)
    values["sklearn_children"] = (float(stump.impurity[1] + stump.impurity[2]), 0.0)
    claim.record(**{name: value for name, (value, _) in values.items()})
    for name, (value, expected) in values.items():
        claim.expect(f"{name}_error", abs(value - expected), "<=", "abs_tol")


def _stump_picks(claim):
    X, y = trees.photon_lepton_table()
    picks = {}
    for state in range(claim.t["num_states"]):
        stump = DecisionTreeClassifier(max_depth=1, random_state=state).fit(X, y).tree_
        picks[state] = (["photon_pt", "lepton_pt"][stump.feature[0]], float(stump.threshold[0]))
    found = sorted(set(picks.values()))
    claim.record(distinct_splits=[f"{f} <= {t}" for f, t in found],
                 photon_states=[s for s, p in picks.items() if p[0] == "photon_pt"])
    return found


@pytest.mark.cpu
@pytest.mark.flag("F36")
@pytest.mark.known_refuted("distinct_root_splits",
                           source="the worked example's Gini computation singles out one best split")
def test_notes_unique_best_split(claim):
    """The notes' worked example read as having one best split: a depth-1 scikit-learn tree on the
    three-event table picks the same (feature, threshold) for every random_state 0..19.

    Course: beyond the course, D3 Gini index (worked example); flagged F36.
    """
    claim.expect("distinct_root_splits", len(_stump_picks(claim)), "==", 1)


@pytest.mark.cpu
@pytest.mark.flag("F36")
def test_split_tie(claim):
    """The worked example has a tie: photon pT <= 25 GeV and lepton pT <= 18 GeV both split the
    three events into pure leaves (weighted Gini 0), and scikit-learn's depth-1 tree picks each of
    them for some random_state in 0..19 (it permutes features before scanning), never another.

    Course: beyond the course, D3 Gini index (worked example); corrects flag F36.
    """
    X, y = trees.photon_lepton_table()
    claim.expect("lepton_18_gini", trees.split_gini(X[:, 1], y, 18.0), "==", 0.0)
    found = _stump_picks(claim)
    claim.expect("root_splits_seen", found == [("lepton_pt", 18.0), ("photon_pt", 25.0)], "==", True)


@functools.cache
def _svc_accuracies() -> tuple[float, float]:
    """5-fold accuracy of an RBF SVC on `wine`, raw and standardised (independent of the drawn powers)."""
    from sklearn.datasets import load_wine
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    X, y = load_wine(return_X_y=True)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    return (float(cross_val_score(SVC(), X, y, cv=folds).mean()),
            float(cross_val_score(make_pipeline(StandardScaler(), SVC()), X, y, cv=folds).mean()))


@pytest.mark.cpu
@settings(max_examples=20)
@given(powers=st.lists(st.integers(-12, 12), min_size=13, max_size=13))
def test_scale_vs_svm(claim, powers):
    """A decision tree fitted on half of `wine` is unchanged when each feature is multiplied by any
    power of two 2^-12..2^12 (exact in float, so every feature's order is kept): same split
    features, thresholds scaled alike, the same predictions on the other half. An RBF SVC depends
    on the scale: its 5-fold accuracy is <= 0.75 on the raw features and >= 0.95 after
    StandardScaler, a gap of at least 0.15.

    The powers stop at 2^-12: scikit-learn treats feature values closer than 1e-7 as equal, and
    wine's smallest gap between distinct values (0.004) falls below that from 2^-16 on.
    Course: beyond the course, D3 decision trees vs SVMs (scaling).
    """
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    factors = np.exp2(np.array(powers, float))
    scaled = X * factors
    plain = DecisionTreeClassifier(random_state=0).fit(X[::2], y[::2])
    rescaled = DecisionTreeClassifier(random_state=0).fit(scaled[::2], y[::2])
    changed = int((plain.predict(X[1::2]) != rescaled.predict(scaled[1::2])).sum())
    claim.track_max("worst_changed_predictions", changed)
    claim.expect("changed_predictions", changed, "==", 0)
    same_features = np.array_equal(plain.tree_.feature, rescaled.tree_.feature)
    claim.expect("same_split_features", bool(same_features), "==", True)
    inner = plain.tree_.feature >= 0
    ratio = rescaled.tree_.threshold[inner] / plain.tree_.threshold[inner] / factors[plain.tree_.feature[inner]]
    claim.expect("threshold_scale_error", float(np.abs(ratio - 1).max()), "<=", "threshold_rel_tol")
    raw, standard = _svc_accuracies()
    claim.record(svc_raw=raw, svc_scaled=standard)
    claim.expect("svc_raw_accuracy", raw, "<=", "max_raw_accuracy")
    claim.expect("svc_scaled_accuracy", standard, ">=", "min_scaled_accuracy")
    claim.expect("svc_scaling_gain", standard - raw, ">=", "min_gain")


def _support_vectors(claim):
    from sklearn.datasets import make_classification
    from sklearn.svm import SVC

    counts = {}
    for n in claim.t["sizes"]:
        X, y = make_classification(n, 5, n_informative=3, flip_y=0.1, random_state=0)
        counts[n] = int(SVC().fit(X, y).n_support_.sum())
    claim.use_seed(0)
    claim.record(support_vectors=counts)
    return counts


@pytest.mark.cpu
@pytest.mark.flag("F34")
@pytest.mark.known_refuted("support_vector_growth", source="an SVM is a parametric model")
def test_notes_svm_parametric(claim):
    """The notes' statement that an SVM is parametric: a fitted RBF SVC keeps a fixed number of
    parameters, so its support-vector count grows by at most 10% when the training set goes from
    500 to 2,000 noisy samples (make_classification, 10% flipped labels).

    Course: beyond the course, D3 decision trees vs SVMs (parametric or not); flagged F34.
    """
    counts = _support_vectors(claim)
    small, large = claim.t["sizes"]
    claim.expect("support_vector_growth", counts[large] / counts[small], "<=", "max_growth")


@pytest.mark.cpu
@pytest.mark.flag("F34")
def test_svm_nonparametric(claim):
    """A kernel SVM is non-parametric: its decision function is a sum over support vectors, and on
    noisy data (make_classification, 10% flipped labels) their number stays below n_train yet grows
    at least 1.5x when n goes from 500 to 2,000.

    Course: beyond the course, D3 decision trees vs SVMs (parametric or not); corrects flag F34.
    """
    counts = _support_vectors(claim)
    small, large = claim.t["sizes"]
    claim.expect("support_vectors_over_n_small", counts[small] / small, "<", 1.0)
    claim.expect("support_vectors_over_n_large", counts[large] / large, "<", 1.0)
    claim.expect("support_vector_growth", counts[large] / counts[small], ">=", "min_growth")
