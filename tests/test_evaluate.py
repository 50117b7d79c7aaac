"""Metrics and curves, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.stages.evaluate import data_summary, precision_recall_points, score_predictions


def test_micro_macro_and_per_label_hand_computed():
    Y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    P = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    m = score_predictions(Y, P, [0.4, 0.6], ["a", "b"])
    # label a: TP 1, FP 1, FN 1 -> P = R = F1 = 0.5; label b: TP 2 -> all 1.0
    assert m["per_label"]["a"] == {
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "support": 2,
        "threshold": 0.4,
    }
    assert m["per_label"]["b"]["f1"] == 1.0 and m["per_label"]["b"]["support"] == 2
    # micro: TP 3, FP 1, FN 1 -> 0.75; macro: mean(0.5, 1.0) = 0.75
    assert m["micro_f1"] == 0.75 and m["macro_f1"] == 0.75 and m["test_articles"] == 4


def test_precision_recall_points_are_thinned_and_empty_without_positives():
    rng = np.random.default_rng(0)
    y = (rng.random(1000) < 0.3).astype(int)
    scores = rng.random(1000)
    points = precision_recall_points(y, scores, max_points=50)
    assert 2 <= len(points) <= 50
    assert points[0][0] == 1.0  # the lowest threshold recalls everything
    assert all(0 <= r <= 1 and 0 <= p <= 1 for r, p, _ in points)
    assert precision_recall_points(np.zeros(5, dtype=int), np.ones(5), 10) == []


def test_data_summary_adds_up_the_splits():
    split = {
        name: {"articles": n, "no_topic": 1, "labels": {"a": n - 1, "b": 1}}
        for name, n in (("train", 7), ("validation", 2), ("test", 3))
    }
    assert data_summary(split, ["a", "b"]) == {
        "articles": 12,
        "train_articles": 7,
        "validation_articles": 2,
        "test_articles": 3,
        "no_topic": 3,
        "label_counts": {"a": 9, "b": 3},
    }


def test_summary_metrics_hand_computed():
    from pipeline.evaluation import summary_metrics

    Y = np.array([[1, 0], [0, 0], [1, 1]])
    P = np.array([[1, 0], [0, 0], [1, 0]])
    m = summary_metrics(Y, P)
    assert m["subset_accuracy"] == round(2 / 3, 6)
    assert m["hamming_loss"] == round(1 / 6, 6)
    # samples: article 1 -> 1, article 2 (nothing true, nothing predicted) -> 1, article 3 -> 2/3
    assert m["samples_f1"] == round((1 + 1 + 2 / 3) / 3, 6)
    # weighted by support (a: 2, b: 1): F1 a = 1, F1 b = 0
    assert m["weighted_f1"] == round(2 / 3, 6)


def test_per_label_ranking_metrics_and_undefined_cases():
    from pipeline.evaluation import per_label_metrics

    Y = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    scores = np.array([[0.9, 0.1], [0.2, 0.3], [0.8, 0.2], [0.7, 0.4]])
    m = per_label_metrics(Y, (scores >= 0.5).astype(int), scores, [0.5, 0.5], ["a", "b"])
    assert m["a"]["roc_auc"] == 1.0 and m["a"]["average_precision"] == 1.0
    assert m["b"]["roc_auc"] is None and m["b"]["average_precision"] is None  # no positives


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    from sklearn.metrics import f1_score

    from pipeline.evaluation import bootstrap_ci

    rng = np.random.default_rng(1)
    Y = (rng.random((300, 3)) < 0.3).astype(int)
    P = np.where(rng.random((300, 3)) < 0.85, Y, 1 - Y)
    first = bootstrap_ci(Y, P, resamples=300, seed=7)
    assert first == bootstrap_ci(Y, P, resamples=300, seed=7)
    assert first != bootstrap_ci(Y, P, resamples=300, seed=8)
    micro = f1_score(Y, P, average="micro")
    assert first["micro_f1"]["low"] < micro < first["micro_f1"]["high"]


def test_paired_bootstrap_tells_a_real_difference_from_none():
    from pipeline.evaluation import paired_bootstrap

    rng = np.random.default_rng(2)
    Y = (rng.random((400, 2)) < 0.4).astype(int)
    good = np.where(rng.random((400, 2)) < 0.95, Y, 1 - Y)
    poor = np.where(rng.random((400, 2)) < 0.70, Y, 1 - Y)
    same = paired_bootstrap(Y, good, good, resamples=300)
    assert same["micro_f1"]["difference"] == 0 and not same["micro_f1"]["significant"]
    better = paired_bootstrap(Y, poor, good, resamples=300)
    assert better["micro_f1"]["difference"] > 0 and better["micro_f1"]["significant"]
    assert better["macro_f1"]["p_value"] < 0.01


def test_keyword_scores_match_whole_words_in_any_case():
    from pipeline.evaluation import keyword_scores

    scores = keyword_scores(
        ["New SANCTIONS and an asset freeze.", "Armsfair opens; no arms deal."],
        {"s": ["sanctions", "asset freeze"], "a": ["arms", "arms deal"]},
        ["s", "a"],
    )
    assert scores.tolist() == [[2, 0], [0, 2]]


def test_baselines_scored_on_the_same_articles():
    from pipeline.evaluation import baselines

    args = (
        np.array([[1, 0], [0, 1], [0, 0]]),  # test
        np.array([[1, 0], [0, 1], [1, 1], [0, 0]]),  # train
        ["rockets delivered", "blackout", "nothing"],
        {"a": ["rockets"], "b": ["grid"]},
        ["a", "b"],
    )
    result = baselines(*args, seed=0)
    assert result["nothing"]["micro_f1"] == 0.0
    assert result["keywords"]["per_label_f1"] == {"a": 1.0, "b": 0.0}
    assert result == baselines(*args, seed=0)  # seeded: the same figures again


def test_threshold_and_calibration_curves():
    from pipeline.evaluation import calibration_points, threshold_f1_curve

    y = np.array([1, 1, 0, 0])
    scores = np.array([0.9, 0.6, 0.4, 0.05])
    curve = dict(map(tuple, threshold_f1_curve(y, scores, points=11)))
    assert curve[0.5] == 1.0 and curve[0.0] == round(2 / 3, 6) and curve[1.0] == 0.0
    assert calibration_points(y, scores, bins=2) == [[0.225, 0.0, 2], [0.75, 1.0, 2]]


def test_resampled_f1_equals_sklearn_on_each_resample():
    from sklearn.metrics import f1_score

    from pipeline.evaluation import _resampled_f1

    rng = np.random.default_rng(3)
    Y = (rng.random((60, 4)) < 0.3).astype(int)
    P = (rng.random((60, 4)) < 0.3).astype(int)
    P[:, 3] = 0  # a label never predicted: its F1 is 0 (zero_division=0)
    fast = _resampled_f1(Y, P, 250, np.random.default_rng(9), chunk=40)
    replay = np.random.default_rng(9)
    for k in range(250):
        rows = replay.integers(0, 60, 60)
        for average in ("micro", "macro"):
            expected = f1_score(Y[rows], P[rows], average=average, zero_division=0)
            assert fast[f"{average}_f1"][k] == pytest.approx(expected, abs=1e-12)
