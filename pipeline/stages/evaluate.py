"""Stage evaluate: the trained model on the test split -> metrics, baselines and plot data.

reports/metrics.json (DVC metrics: `dvc exp show`, `dvc metrics diff`): micro, macro, weighted
and samples F1, subset accuracy, Hamming loss, 95 % bootstrap intervals for micro- and macro-F1;
per label precision, recall, F1, support, ROC AUC, average precision and the tuned threshold;
three baselines scored on the same articles and the model's gain over each; corpus figures.
reports/plots/ (DVC plots: `dvc plots show`, `dvc plots diff`): per label precision-recall,
threshold-vs-F1 and calibration curves and confusion counts; label co-occurrence, true and
predicted. reports/predictions.jsonl: every test article's true labels and scores, for the
report's error analysis and for paired comparisons between models.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve

from pipeline.classifier import apply_thresholds
from pipeline.evaluation import (
    baselines,
    bootstrap_ci,
    calibration_points,
    per_label_metrics,
    round6,
    summary_metrics,
    threshold_f1_curve,
)

log = logging.getLogger("topicwire")
METRICS = "reports/metrics.json"
PLOTS_DIR = "reports/plots"
PREDICTIONS = "reports/predictions.jsonl"


def score_predictions(
    Y: np.ndarray,
    predicted: np.ndarray,
    thresholds: Sequence[float],
    labels: Sequence[str],
    scores: np.ndarray | None = None,
) -> dict[str, Any]:
    """Summary metrics (headline figures first: `dvc exp show` keeps file order) and per label."""
    return {
        **summary_metrics(Y, predicted),
        "test_articles": int(Y.shape[0]),
        "per_label": per_label_metrics(Y, predicted, scores, thresholds, labels),
    }


def evaluate(
    Y: np.ndarray,
    scores: np.ndarray,
    thresholds: np.ndarray,
    labels: Sequence[str],
    Y_train: np.ndarray,
    texts: Sequence[str],
    keywords: Mapping[str, Sequence[str]],
    seed: int,
    resamples: int = 1000,
    confidence: float = 0.95,
    min_labels: int = 0,
) -> dict[str, Any]:
    """All test-split metrics of a model; the core of the stage."""
    predicted = apply_thresholds(scores, thresholds, min_labels).astype(int)
    metrics = score_predictions(Y, predicted, thresholds, labels, scores)
    metrics["ci"] = bootstrap_ci(Y, predicted, resamples, seed, confidence)
    metrics["baselines"] = baselines(Y, Y_train, texts, keywords, labels, seed)
    metrics["gain_over_baselines"] = {
        name: {key: round6(metrics[key] - base[key]) for key in ("micro_f1", "macro_f1")}
        for name, base in metrics["baselines"].items()
    }
    return metrics


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
    return [[round6(rc), round6(pr), round6(t)] for rc, pr, t in rows]


def plot_data(
    Y: np.ndarray,
    scores: np.ndarray,
    thresholds: np.ndarray,
    labels: Sequence[str],
    max_points: int,
    calibration_bins: int,
    min_labels: int = 0,
) -> dict[str, Any]:
    """Everything under reports/plots/: {relative path: (header, rows) or list of records}."""
    predicted = apply_thresholds(scores, thresholds, min_labels).astype(bool)
    files: dict[str, Any] = {}
    yes_no = ("no", "yes")
    for j, label in enumerate(labels):
        files[f"precision_recall/{label}.csv"] = (
            ["recall", "precision", "threshold"],
            precision_recall_points(Y[:, j], scores[:, j], max_points),
        )
        files[f"threshold_f1/{label}.csv"] = (
            ["threshold", "f1"],
            threshold_f1_curve(Y[:, j], scores[:, j]),
        )
        files[f"calibration/{label}.csv"] = (
            ["mean_score", "fraction_positive", "articles"],
            calibration_points(Y[:, j], scores[:, j], calibration_bins),
        )
        files[f"confusion/{label}.json"] = [
            {"actual": yes_no[int(a)], "predicted": yes_no[int(p)]}
            for a, p in zip(Y[:, j], predicted[:, j], strict=True)
        ]
    for name, matrix in (("true", Y.astype(bool)), ("predicted", predicted)):
        files[f"cooccurrence/{name}.json"] = [
            {"label": labels[a], "with": labels[b]}
            for row in matrix
            for a in np.flatnonzero(row)
            for b in np.flatnonzero(row)
        ]
    return files


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


def main() -> None:
    import json
    from pathlib import Path

    import joblib

    from pipeline.classifier import label_matrix
    from pipeline.config import load_params, taxonomy_labels, to_plain
    from pipeline.dataset import load_articles
    from pipeline.io import atomic_path, read_json, write_csv_rows, write_json
    from pipeline.stages.split import REPORT as SPLIT_REPORT
    from pipeline.stages.train import MODEL_FILE, texts_of

    params = load_params()
    labels = taxonomy_labels(params)
    split_dir = Path(params.data.split_dir)
    rows = load_articles(split_dir / "test.parquet").to_list()
    train_labels = load_articles(split_dir / "train.parquet")["labels"]
    model = joblib.load(MODEL_FILE)
    Y = label_matrix([r["labels"] for r in rows], labels)
    texts = texts_of(rows)
    scores = model.predict_proba(texts)
    thresholds = model[-1].thresholds_
    keywords = {
        label: list(spec.get("keywords") or ())
        for label, spec in to_plain(params.taxonomy.labels).items()
    }
    metrics = evaluate(
        Y,
        scores,
        thresholds,
        labels,
        label_matrix(train_labels, labels),
        texts,
        keywords,
        params.seed,
        params.evaluate.bootstrap_resamples,
        params.evaluate.confidence,
        min_labels=model[-1].min_labels,
    )
    metrics["data"] = data_summary(read_json(SPLIT_REPORT), labels)
    labelled = None
    if params.evaluate.cv_folds and params.evaluate.cv_folds > 1:
        from pipeline.crossval import cross_validate
        from pipeline.stages.label import gold_rows

        labelled = load_articles(params.data.labelled).to_list()
        gold = gold_rows(labelled)
        metrics["cv"] = cross_validate(gold, labels, params, params.evaluate.cv_folds)
        metrics["cv"].pop("per_fold")
    if params.evaluate.compare_label_sources:
        from pipeline.label_comparison import compare_label_sources

        if labelled is None:
            labelled = load_articles(params.data.labelled).to_list()
        metrics["label_sources"] = compare_label_sources(
            labelled,
            labels,
            params,
            configured=model[-1].decide(scores).astype(int),
            configured_ids=[r["id"] for r in rows],
        )
    write_json(METRICS, metrics)
    for rel, content in plot_data(
        Y,
        scores,
        thresholds,
        labels,
        params.evaluate.max_curve_points,
        params.evaluate.calibration_bins,
        model[-1].min_labels,
    ).items():
        path = Path(PLOTS_DIR) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".csv"):
            write_csv_rows(path, *content)
        else:
            write_json(path, content)
    with atomic_path(PREDICTIONS) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for row, score_row in zip(rows, scores, strict=True):
            fh.write(
                json.dumps(
                    {
                        "id": row["id"],
                        "labels": row["labels"],
                        "scores": [round6(s) for s in score_row],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    ci = metrics["ci"]
    log.info(
        "test micro-F1 %.3f [%.3f, %.3f], macro-F1 %.3f [%.3f, %.3f] on %d articles; "
        "keyword baseline micro-F1 %.3f",
        metrics["micro_f1"],
        ci["micro_f1"]["low"],
        ci["micro_f1"]["high"],
        metrics["macro_f1"],
        ci["macro_f1"]["low"],
        ci["macro_f1"]["high"],
        len(rows),
        metrics["baselines"]["keywords"]["micro_f1"],
    )


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("evaluate", main)
