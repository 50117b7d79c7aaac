"""Metrics and curves, checked against hand-computed values."""

from __future__ import annotations

import numpy as np

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
