"""Multi-label evaluation: metrics, bootstrap confidence intervals, baselines, curve data.

Pure functions over label-indicator matrices (rows: articles, columns: labels in taxonomy order);
the evaluate stage and `topicwire compare` call them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
    roc_auc_score,
)

AVERAGES = ("micro", "macro", "weighted", "samples")


def round6(x: float) -> float:
    """Metrics are stored with 6 decimals: readable, and identical run to run."""
    return round(float(x), 6)


def summary_metrics(Y: np.ndarray, P: np.ndarray) -> dict[str, float]:
    """Averaged F1 (and micro/macro precision and recall), subset accuracy, Hamming loss."""
    out: dict[str, float] = {}
    for average in AVERAGES:
        # samples: an article with no true and no predicted label is a perfect answer (F1 = 1)
        zero = 1.0 if average == "samples" else 0.0
        out[f"{average}_f1"] = round6(f1_score(Y, P, average=average, zero_division=zero))
    for average in ("micro", "macro"):
        p, r, _, _ = precision_recall_fscore_support(Y, P, average=average, zero_division=0)
        out[f"{average}_precision"], out[f"{average}_recall"] = round6(p), round6(r)
    out["subset_accuracy"] = round6((Y == P).all(axis=1).mean()) if len(Y) else 0.0
    out["hamming_loss"] = round6(hamming_loss(Y, P)) if len(Y) else 0.0
    return out


def per_label_metrics(
    Y: np.ndarray,
    P: np.ndarray,
    scores: np.ndarray | None,
    thresholds: Sequence[float] | None,
    labels: Sequence[str],
) -> dict[str, dict[str, Any]]:
    """Precision, recall, F1, support; with scores, ROC AUC and average precision (null when a
    label has no positive or no negative in the test split)."""
    p, r, f, s = precision_recall_fscore_support(
        Y, P, average=None, zero_division=0, labels=list(range(len(labels)))
    )
    result = {}
    for j, label in enumerate(labels):
        entry: dict[str, Any] = {
            "precision": round6(p[j]),
            "recall": round6(r[j]),
            "f1": round6(f[j]),
            "support": int(s[j]),
        }
        if scores is not None:
            both = 0 < Y[:, j].sum() < len(Y)
            entry["roc_auc"] = round6(roc_auc_score(Y[:, j], scores[:, j])) if both else None
            entry["average_precision"] = (
                round6(average_precision_score(Y[:, j], scores[:, j])) if Y[:, j].any() else None
            )
        if thresholds is not None:
            entry["threshold"] = round6(thresholds[j])
        result[label] = entry
    return result


def _resampled_f1(
    Y: np.ndarray, P: np.ndarray, resamples: int, rng: np.random.Generator, chunk: int = 100
) -> dict[str, np.ndarray]:
    """Micro- and macro-F1 of `resamples` bootstrap resamples of the articles (rows).

    The same figures as sklearn's f1_score (zero_division=0) on each resample, from counts: a
    resample's true positives per label are the per-article counts weighted by how often the
    resample drew each article. Draws come from `rng` in the order of one `integers(0, n, n)`
    call per resample.
    """
    n = len(Y)
    Y, P = np.asarray(Y, dtype=bool), np.asarray(P, dtype=bool)
    per_article = np.stack([Y & P, ~Y & P, Y & ~P]).astype(np.float64)  # tp, fp, fn: 3 x n x L
    micro, macro = [], []
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        rows = rng.integers(0, n, (size, n))
        weights = np.zeros((size, n))
        np.add.at(weights, (np.repeat(np.arange(size), n), rows.ravel()), 1.0)
        tp, fp, fn = (weights @ counts for counts in per_article)  # each: size x L
        denom = 2 * tp + fp + fn
        per_label = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
        macro.append(per_label.mean(axis=1))
        tps, dens = tp.sum(axis=1), denom.sum(axis=1)
        micro.append(np.divide(2 * tps, dens, out=np.zeros_like(tps), where=dens > 0))
    return {"micro_f1": np.concatenate(micro), "macro_f1": np.concatenate(macro)}


def bootstrap_ci(
    Y: np.ndarray, P: np.ndarray, resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, dict[str, float]]:
    """Percentile bootstrap intervals for micro- and macro-F1, resampling test articles."""
    draws = _resampled_f1(Y, P, resamples, np.random.default_rng(seed))
    tail = (1 - confidence) / 2 * 100
    return {
        name: {"low": round6(np.percentile(v, tail)), "high": round6(np.percentile(v, 100 - tail))}
        for name, v in draws.items()
    }


def paired_bootstrap(
    Y: np.ndarray,
    P_a: np.ndarray,
    P_b: np.ndarray,
    resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, dict[str, Any]]:
    """Is model B's micro/macro-F1 different from model A's on the same articles?

    Both are scored on the same resampled articles each time; the interval is for F1(B) - F1(A),
    and the two-sided p-value is twice the smaller share of resamples on either side of zero.
    """
    # Two generators from one seed draw the same resamples for A and B.
    draws_a = _resampled_f1(Y, P_a, resamples, np.random.default_rng(seed))
    draws_b = _resampled_f1(Y, P_b, resamples, np.random.default_rng(seed))
    tail = (1 - confidence) / 2 * 100
    result = {}
    for name in ("micro_f1", "macro_f1"):
        values_arr = draws_b[name] - draws_a[name]
        average = name.split("_")[0]
        observed = f1_score(Y, P_b, average=average, zero_division=0) - f1_score(
            Y, P_a, average=average, zero_division=0
        )
        p_value = min(1.0, 2 * min((values_arr <= 0).mean(), (values_arr >= 0).mean()))
        low, high = np.percentile(values_arr, tail), np.percentile(values_arr, 100 - tail)
        result[name] = {
            "difference": round6(observed),
            "low": round6(low),
            "high": round6(high),
            "p_value": round6(p_value),
            "significant": bool(low > 0 or high < 0),
        }
    return result


def keyword_scores(
    texts: Sequence[str], keywords: Mapping[str, Sequence[str]], labels: Sequence[str]
) -> np.ndarray:
    """For each text and label, how many of the label's keywords occur (whole words, any case)."""
    patterns = [
        [
            re.compile(rf"(?<!\w){re.escape(k)}(?!\w)", re.IGNORECASE)
            for k in keywords.get(label, ())
        ]
        for label in labels
    ]
    scores = np.zeros((len(texts), len(labels)))
    for i, text in enumerate(texts):
        for j, label_patterns in enumerate(patterns):
            scores[i, j] = sum(1 for p in label_patterns if p.search(text))
    return scores


def baselines(
    Y_test: np.ndarray,
    Y_train: np.ndarray,
    test_texts: Sequence[str],
    keywords: Mapping[str, Sequence[str]],
    labels: Sequence[str],
    seed: int,
) -> dict[str, dict[str, Any]]:
    """Reference points scored on the same test split.

    - nothing: no article gets any label;
    - prior: each label drawn at random with its frequency in the train split (seeded);
    - keywords: a label whenever one of its taxonomy keywords occurs in the article.
    """
    from sklearn.dummy import DummyClassifier

    nothing = np.zeros_like(Y_test)
    prior = (
        DummyClassifier(strategy="stratified", random_state=seed)
        .fit(np.zeros((len(Y_train), 1)), Y_train)
        .predict(np.zeros((len(Y_test), 1)))
    )
    keyword = (keyword_scores(test_texts, keywords, labels) > 0).astype(int)
    result = {}
    for name, P in (("nothing", nothing), ("prior", np.asarray(prior)), ("keywords", keyword)):
        result[name] = {
            **{
                k: v
                for k, v in summary_metrics(Y_test, P).items()
                if k in ("micro_f1", "macro_f1", "subset_accuracy")
            },
            "per_label_f1": {
                label: m["f1"]
                for label, m in per_label_metrics(Y_test, P, None, None, labels).items()
            },
        }
    return result


def threshold_f1_curve(y: np.ndarray, scores: np.ndarray, points: int = 101) -> list[list[float]]:
    """[[threshold, f1], ...] on an even grid of thresholds in [0, 1]."""
    rows = []
    for t in np.linspace(0, 1, points):
        rows.append([round6(t), round6(f1_score(y, scores >= t, zero_division=0))])
    return rows


def calibration_points(y: np.ndarray, scores: np.ndarray, bins: int = 10) -> list[list[float]]:
    """[[mean score, fraction positive, articles], ...] per non-empty score bin."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            rows.append(
                [round6(scores[inside].mean()), round6(y[inside].mean()), int(inside.sum())]
            )
    return rows
