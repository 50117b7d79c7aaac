"""Stage evaluate: the trained model on the test split -> metrics and precision-recall curves.

reports/metrics.json (a DVC metric: `dvc exp show`, `dvc metrics diff`) holds micro and macro F1
and, per label, precision, recall, F1, support and the tuned threshold. reports/plots/
precision_recall/<label>.csv (DVC plots: `dvc plots show`, `dvc plots diff`) holds each label's
curve on the test split.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve, precision_recall_fscore_support

log = logging.getLogger("topicwire")
METRICS = "reports/metrics.json"
CURVES_DIR = "reports/plots/precision_recall"


def _r(x: float) -> float:
    return round(float(x), 6)


def score_predictions(
    Y: np.ndarray, predicted: np.ndarray, thresholds: Sequence[float], labels: Sequence[str]
) -> dict[str, Any]:
    """Micro/macro F1 and per-label precision, recall, F1 and support."""
    # Headline figures first: `dvc exp show` lists metrics in file order.
    metrics: dict[str, Any] = {}
    averages = {
        avg: precision_recall_fscore_support(Y, predicted, average=avg, zero_division=0)
        for avg in ("micro", "macro")
    }
    for avg, (_, _, f, _) in averages.items():
        metrics[f"{avg}_f1"] = _r(f)
    for avg, (p, r, _, _) in averages.items():
        metrics[f"{avg}_precision"] = _r(p)
        metrics[f"{avg}_recall"] = _r(r)
    metrics["test_articles"] = int(Y.shape[0])
    p, r, f, s = precision_recall_fscore_support(Y, predicted, average=None, zero_division=0)
    metrics["per_label"] = {
        label: {
            "precision": _r(p[j]),
            "recall": _r(r[j]),
            "f1": _r(f[j]),
            "support": int(s[j]),
            "threshold": _r(thresholds[j]),
        }
        for j, label in enumerate(labels)
    }
    return metrics


def data_summary(split_report: dict[str, Any], labels: Sequence[str]) -> dict[str, Any]:
    """Corpus figures beside the scores, so experiments on different data can be told apart."""
    splits = ("train", "validation", "test")
    return {
        "articles": sum(split_report[s]["articles"] for s in splits),
        **{f"{s}_articles": split_report[s]["articles"] for s in splits},
        "no_topic": sum(split_report[s]["no_topic"] for s in splits),
        "label_counts": {
            label: sum(split_report[s]["labels"][label] for s in splits) for label in labels
        },
    }


def precision_recall_points(
    y: np.ndarray, scores: np.ndarray, max_points: int
) -> list[list[float]]:
    """[[recall, precision, threshold], ...] for one label, at most `max_points` rows."""
    if y.sum() == 0:
        return []
    precision, recall, cuts = precision_recall_curve(y, scores)
    rows = list(zip(recall[:-1], precision[:-1], cuts, strict=True))
    if len(rows) > max_points:
        keep = np.unique(np.linspace(0, len(rows) - 1, max_points).round().astype(int))
        rows = [rows[i] for i in keep]
    return [[_r(rc), _r(pr), _r(t)] for rc, pr, t in rows]


def main() -> None:
    from pathlib import Path

    import joblib

    from pipeline.classifier import label_matrix
    from pipeline.config import load_params, taxonomy_labels
    from pipeline.dataset import load_articles
    from pipeline.io import read_json, write_csv_rows, write_json
    from pipeline.stages.split import REPORT as SPLIT_REPORT
    from pipeline.stages.train import MODEL_FILE, texts_of

    params = load_params()
    labels = taxonomy_labels(params)
    rows = load_articles(Path(params.data.split_dir) / "test.parquet").to_list()
    model = joblib.load(MODEL_FILE)
    Y = label_matrix([r["labels"] for r in rows], labels)
    scores = model.predict_proba(texts_of(rows))
    thresholds = model[-1].thresholds_
    metrics = score_predictions(Y, (scores >= thresholds).astype(int), thresholds, labels)
    metrics["data"] = data_summary(read_json(SPLIT_REPORT), labels)
    write_json(METRICS, metrics)
    curves = Path(CURVES_DIR)
    for j, label in enumerate(labels):
        points = precision_recall_points(Y[:, j], scores[:, j], params.evaluate.max_curve_points)
        write_csv_rows(curves / f"{label}.csv", ["recall", "precision", "threshold"], points)
    log.info(
        "test micro-F1 %.3f, macro-F1 %.3f on %d articles",
        metrics["micro_f1"],
        metrics["macro_f1"],
        len(rows),
    )


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("evaluate", main)
