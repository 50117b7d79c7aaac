"""Stage train: train split -> fitted model with per-label thresholds tuned on validation.

The model is built from conf/features/ and conf/model/ (`_target_`): clean -> TF-IDF features
-> one binary linear classifier per label. It is fitted on the train split; then each label's
decision threshold is chosen on the validation split (thresholds.*) and stored in the model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError

from pipeline.classifier import label_matrix
from pipeline.errors import TopicwireError
from pipeline.features import compact_vocabularies
from pipeline.stages.label import WEAK
from pipeline.text import join_title_body

log = logging.getLogger("topicwire")
MODEL_FILE = "models/train/model.joblib"
REPORT = "reports/train.json"


def texts_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    return [join_title_body(r.get("title"), r["text"]) for r in rows]


def training_matrix(rows: Sequence[dict[str, Any]], labels: Sequence[str]) -> np.ndarray:
    """Label-indicator matrix of the training labels, -1 where a rule-labelled article's topic
    is unknown (the topic rules abstained on it): that label's model leaves the article out."""
    Y = label_matrix([r["labels"] for r in rows], labels)
    index = {label: j for j, label in enumerate(labels)}
    for i, row in enumerate(rows):
        if row.get("label_source") == WEAK:
            for topic in row.get("weak_abstained") or ():
                Y[i, index[topic]] = -1
    return Y


def train(
    model: Pipeline,
    train_rows: Sequence[dict[str, Any]],
    validation_rows: Sequence[dict[str, Any]],
    labels: Sequence[str],
    strategy: str = "max_fbeta",
    beta: float = 1.0,
    fallback: float = 0.5,
) -> tuple[Pipeline, dict[str, Any]]:
    """Fit `model` on train and tune its thresholds on validation; the core of the stage."""
    Y_train = training_matrix(train_rows, labels)
    Y_val = training_matrix(validation_rows, labels)
    try:
        model.fit(texts_of(train_rows), Y_train)
    except InvalidParameterError as exc:  # a bad value in conf/features or conf/model
        raise TopicwireError(f"invalid model configuration: {exc}") from exc
    compact_vocabularies(model.named_steps["features"])
    X_val = model[:-1].transform(texts_of(validation_rows))
    classifier = model[-1]
    classifier.tune_thresholds(X_val, Y_val, strategy=strategy, beta=beta, fallback=fallback)
    predicted = classifier.predict(X_val)
    report = {
        "train_articles": len(train_rows),
        "validation_articles": len(validation_rows),
        "features": int(X_val.shape[1]),
        "thresholds": {
            label: round(float(t), 6)
            for label, t in zip(labels, classifier.thresholds_, strict=True)
        },
        "validation_f1": {
            label: round(
                float(
                    f1_score(
                        Y_val[Y_val[:, j] >= 0, j],
                        predicted[Y_val[:, j] >= 0, j],
                        zero_division=0,
                    )
                ),
                6,
            )
            for j, label in enumerate(labels)
        },
        "unknown_labels_left_out": {
            label: int((Y_train[:, j] < 0).sum()) for j, label in enumerate(labels)
        },
        "untuned_labels": [
            label for j, label in enumerate(labels) if (Y_val[:, j] == 1).sum() == 0
        ],
    }
    return model, report


def main() -> None:
    from pathlib import Path

    import joblib

    from pipeline.config import build_model, load_params, taxonomy_labels
    from pipeline.dataset import load_articles
    from pipeline.io import atomic_path, write_json

    params = load_params()
    labels = taxonomy_labels(params)
    split_dir = Path(params.data.split_dir)
    train_rows = load_articles(split_dir / "train.parquet").to_list()
    validation_rows = load_articles(split_dir / "validation.parquet").to_list()
    np.random.seed(params.seed)  # for any estimator that falls back on the global generator
    model, report = train(
        build_model(params),
        train_rows,
        validation_rows,
        labels,
        params.thresholds.strategy,
        params.thresholds.beta,
        params.thresholds.fallback,
    )
    with atomic_path(MODEL_FILE) as tmp:
        joblib.dump(model, tmp, compress=3)
    write_json(REPORT, report)
    for label in report["untuned_labels"]:
        log.warning(
            "no validation article is labelled %s: its threshold is the fallback %.2f",
            label,
            params.thresholds.fallback,
        )
    log.info(
        "fitted %s + %s on %d articles; thresholds %s",
        params.features.name,
        params.model.name,
        len(train_rows),
        report["thresholds"],
    )


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("train", main)
