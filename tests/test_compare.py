"""Comparing runs: parameters, per-label changes and the paired test, on hand-made runs."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.compare import Run, compare, render_text
from pipeline.errors import TopicwireError

LABELS = ["a", "b"]


def make_run(ref, accuracy, seed, params, ids=None):
    rng = np.random.default_rng(seed)
    truth = np.random.default_rng(0).random((300, 2)) < 0.4
    correct = rng.random((300, 2)) < accuracy
    scores = np.where(correct, truth, ~truth).astype(float) * 0.8 + 0.1
    ids = ids or [f"t{i}" for i in range(300)]
    predictions = [
        {"id": i, "labels": [LABELS[j] for j in np.flatnonzero(t)], "scores": s.tolist()}
        for i, t, s in zip(ids, truth, scores, strict=True)
    ]
    from sklearn.metrics import f1_score

    predicted = scores >= 0.5
    metrics = {
        "micro_f1": f1_score(truth, predicted, average="micro"),
        "macro_f1": f1_score(truth, predicted, average="macro"),
        "samples_f1": 0.5,
        "subset_accuracy": 0.5,
        "hamming_loss": 0.1,
        "per_label": {
            label: {"f1": f1_score(truth[:, j], predicted[:, j]), "threshold": 0.5}
            for j, label in enumerate(LABELS)
        },
    }
    return Run(ref, metrics, params, predictions)


def test_paired_test_finds_a_real_improvement():
    weak = make_run("weak", 0.75, 1, {"model": {"name": "nb", "C": 1}, "seed": 1})
    strong = make_run("strong", 0.95, 2, {"model": {"name": "svm", "C": 1}, "seed": 1})
    result = compare([weak, strong], resamples=300)
    assert result["params"] == [["model.name", "nb", "svm"]]
    assert result["paired"]["micro_f1"]["significant"] and result["paired"]["articles"] == 300
    assert result["paired"]["micro_f1"]["difference"] > 0.1
    text = render_text(result)
    assert "Paired bootstrap on 300 test articles (strong minus weak)" in text
    assert "significant" in text and "not significant" not in text


def test_the_same_model_twice_is_not_significant():
    run = make_run("x", 0.9, 3, {})
    result = compare([run, make_run("y", 0.9, 3, {})], resamples=300)
    assert result["paired"]["macro_f1"]["difference"] == 0
    assert not result["paired"]["macro_f1"]["significant"]


def test_runs_on_different_articles_are_not_paired():
    a = make_run("a", 0.9, 1, {})
    b = make_run("b", 0.9, 2, {}, ids=[f"other{i}" for i in range(300)])
    result = compare([a, b])
    assert result["paired"] is None and "different test articles" in result["paired_note"]


def test_other_taxonomies_and_single_runs_are_refused():
    a = make_run("a", 0.9, 1, {})
    b = make_run("b", 0.9, 1, {})
    b.metrics["per_label"] = {"x": {"f1": 1, "threshold": 0.5}}
    with pytest.raises(TopicwireError, match="only models of one taxonomy"):
        compare([a, b])
    with pytest.raises(TopicwireError, match="at least two"):
        compare([a])
