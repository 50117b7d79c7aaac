"""Per-label thresholds and scores in [0, 1] for every model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from pipeline.classifier import PerLabelThresholdClassifier, choose_thresholds, label_matrix


def test_threshold_maximises_f1_per_label_hand_computed():
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 0], [0, 1]])
    scores = np.array([[0.9, 0.2], [0.4, 0.1], [0.35, 0.8], [0.1, 0.3], [0.6, 0.7]])
    # Label 0: positives score 0.9 and 0.4, negatives 0.6, 0.35, 0.1. Cut 0.9 -> F1 2/3;
    # cut 0.6 -> P 1/2, R 1/2, F1 1/2; cut 0.4 -> P 2/3, R 1 -> F1 0.8 (the best).
    # Label 1: cut 0.7 catches both positives with no false positive -> F1 1.
    assert choose_thresholds(Y, scores).tolist() == [0.4, 0.7]


def test_ties_go_to_the_highest_threshold_and_untunable_labels_get_the_fallback():
    Y = np.array([[1, 0], [0, 0], [1, 0]])
    scores = np.array([[0.8, 0.9], [0.5, 0.2], [0.7, 0.1]])
    assert choose_thresholds(Y, scores, fallback=0.35).tolist() == [0.7, 0.35]
    assert choose_thresholds(Y, scores, strategy="fixed", fallback=0.6).tolist() == [0.6, 0.6]


def test_beta_trades_precision_for_recall():
    Y = np.array([[1], [1], [0], [1], [0], [0]])
    scores = np.array([[0.9], [0.6], [0.55], [0.3], [0.2], [0.1]])
    recall_first = choose_thresholds(Y, scores, beta=4.0)[0]
    precision_first = choose_thresholds(Y, scores, beta=0.25)[0]
    # beta 4: recall dominates, cut 0.3 catches all three positives (F4 ~0.94).
    # beta 0.25: precision dominates, cut 0.6 (P 1, R 2/3, F ~0.97) beats 0.3 (P 0.6).
    assert recall_first == 0.3 and precision_first == 0.6


def test_floor_raises_low_tuned_thresholds_only():
    Y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]])
    scores = np.array([[0.05, 0.2, 0.1], [0.01, 0.9, 0.3], [0.02, 0.1, 0.2]])
    # Label 0 is tuned to 0.05 (raised to the floor), label 1 to 0.9 (kept); label 2 has no
    # positive and keeps the fallback even though it is below the floor.
    thresholds = choose_thresholds(Y, scores, fallback=0.05, floor=0.1)
    assert thresholds.tolist() == [0.1, 0.9, 0.05]
    # cv_fbeta makes the same choice on the scores it is given (out-of-fold ones, in train).
    assert choose_thresholds(Y, scores, "cv_fbeta").tolist() == [0.05, 0.9, 0.5]


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="thresholds.strategy must be"):
        choose_thresholds(np.ones((2, 1)), np.ones((2, 1)), strategy="magic")


def toy_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    Y = np.column_stack([(X[:, 0] > 0), (X[:, 1] + X[:, 2] > 0.5)]).astype(int)
    return X, Y


def test_predict_applies_the_tuned_thresholds():
    X, Y = toy_data()
    clf = PerLabelThresholdClassifier(LogisticRegression()).fit(X, Y)
    proba = clf.predict_proba(X)
    clf.thresholds_ = np.array([0.9, 0.1])
    assert (clf.predict(X) == (proba >= [0.9, 0.1])).all()
    clf.tune_thresholds(X, Y)
    assert clf.thresholds_.tolist() == choose_thresholds(Y, proba).tolist()


def test_svm_needs_calibration_and_then_gives_probabilities():
    X, Y = toy_data()
    with pytest.raises(
        ValueError, match="LinearSVC has no predict_proba; set the model's calibration"
    ):
        PerLabelThresholdClassifier(LinearSVC()).fit(X, Y)
    clf = PerLabelThresholdClassifier(LinearSVC(), calibration={"method": "sigmoid", "cv": 3})
    proba = clf.fit(X, Y).predict_proba(X)
    assert proba.shape == (len(X), 2) and proba.min() >= 0 and proba.max() <= 1


def test_label_matrix_follows_taxonomy_order():
    assert label_matrix([["b"], [], ["a", "b"]], ["a", "b"]).tolist() == [[0, 1], [0, 0], [1, 1]]


def test_unknown_entries_leave_an_article_out_of_that_label_only():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    Y = np.column_stack([(X[:, 0] > 0), (X[:, 1] > 0)]).astype(np.int8)
    unknown = Y.copy()
    unknown[:50, 0] = -1  # label 0 unknown for the first 50 articles
    masked = PerLabelThresholdClassifier(LogisticRegression()).fit(X, unknown)
    # label 0's model is the one fitted on the other 150 articles; label 1's on all 200
    alone = LogisticRegression().fit(X[50:], Y[50:, 0])
    np.testing.assert_allclose(masked.predict_proba(X)[:, 0], alone.predict_proba(X)[:, 1])
    full = PerLabelThresholdClassifier(LogisticRegression()).fit(X, Y)
    np.testing.assert_allclose(masked.predict_proba(X)[:, 1], full.predict_proba(X)[:, 1])
    assert masked.ovr_.multilabel_ and masked.ovr_.classes_.tolist() == [0, 1]
    # thresholds are tuned on the known entries only
    scores = np.array([[0.9], [0.2], [0.7], [0.8]])
    truth = np.array([[1], [0], [-1], [-1]])
    assert choose_thresholds(truth, scores).tolist() == [0.9]


def test_labels_fitted_in_parallel_give_the_same_model_as_serial():
    # liblinear's dual solver shuffles with one process-wide generator: labels fitted in
    # threads raced on it and gave a different model on every run. Stopped after two passes
    # the solution depends on the order, so a race shows.
    from scipy import sparse

    rng = np.random.default_rng(0)
    X = sparse.random(4000, 2000, density=0.02, format="csr", random_state=1, dtype=np.float64)
    Y = (rng.random((4000, 16)) < 0.3).astype(int)
    estimator = LogisticRegression(
        C=100, solver="liblinear", dual=True, max_iter=5, tol=1e-9, random_state=42
    )
    serial = PerLabelThresholdClassifier(estimator, n_jobs=1).fit(X, Y).predict_proba(X)
    for _ in range(2):
        parallel = PerLabelThresholdClassifier(estimator, n_jobs=2).fit(X, Y).predict_proba(X)
        assert np.array_equal(serial, parallel)


def test_min_labels_adds_the_label_closest_to_its_threshold():
    from pipeline.classifier import apply_thresholds

    thresholds = np.array([0.5, 0.2, 0.8])
    scores = np.array(
        [
            [0.6, 0.1, 0.1],  # passes label 0: unchanged
            [0.3, 0.15, 0.7],  # none passes; closeness 0.6, 0.75, 0.875 -> label 2
            [0.1, 0.1, 0.1],  # none passes; closeness 0.2, 0.5, 0.125 -> label 1
        ]
    )
    assert apply_thresholds(scores, thresholds).tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert apply_thresholds(scores, thresholds, 1).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert apply_thresholds(scores, thresholds, 2).tolist() == [[1, 1, 0], [0, 1, 1], [1, 1, 0]]

    model = PerLabelThresholdClassifier(LogisticRegression(), min_labels=1)
    model.thresholds_ = thresholds
    assert model.decide(scores).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    # A model saved before min_labels existed decides by the thresholds alone, and still
    # prints and gives its parameters (which read every constructor argument).
    import pickle

    del model.min_labels
    old = pickle.loads(pickle.dumps(model))
    assert old.decide(scores).tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert old.get_params()["min_labels"] == 0 and "PerLabelThresholdClassifier" in repr(old)
    # A threshold of 0 passes every score: such a label is not counted twice.
    assert apply_thresholds(np.array([[0.0, 0.1]]), [0.0, 0.5], 1).tolist() == [[1, 0]]
    assert apply_thresholds(np.zeros((0, 3)), thresholds, 1).shape == (0, 3)
