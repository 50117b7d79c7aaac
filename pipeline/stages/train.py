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

from pipeline.classifier import choose_thresholds, label_matrix
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
    streaming: dict[str, Any] | None = None,
    cv_folds: int = 3,
    floor: float | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> tuple[Pipeline, dict[str, Any]]:
    """Fit `model` on train and tune its thresholds on validation; the core of the stage.

    Strategy 'cv_fbeta' tunes them on the train split instead: `cv_folds`-fold out-of-fold
    scores (folds shuffled with `seed`), no validation split needed, every article used
    (see `out_of_fold_scores`). `floor` is the lowest threshold a tuned label may get.

    `streaming` (conf/model's `streaming: {batch_size, epochs, seed}`) trains out of core:
    features are computed batch by batch and each label's estimator is updated with
    `partial_fit`, so the feature matrix of the whole train split never exists (features must
    be stateless, e.g. features=hashed_streaming). With strategy 'fixed', `validation_rows` may
    be empty: the thresholds do not depend on it. `n_jobs` > 1 cleans the articles in that
    many processes (the classifier's own `n_jobs` fits the labels in processes).
    """
    if strategy == "cv_fbeta" and streaming:
        raise TopicwireError(
            "thresholds.strategy 'cv_fbeta' refits the classifier on folds: it needs all the "
            "data at once; use 'fixed' or 'max_fbeta' with model.streaming"
        )
    Y_train = training_matrix(train_rows, labels)
    Y_val = training_matrix(validation_rows, labels)
    classifier = model[-1]
    X_train = None
    try:
        if streaming:
            _fit_streaming(model, train_rows, Y_train, **streaming)
        else:
            X_train = fit_features(model, texts_of(train_rows), n_jobs)
            classifier.fit(X_train, Y_train)
    except InvalidParameterError as exc:  # a bad value in conf/features or conf/model
        raise TopicwireError(f"invalid model configuration: {exc}") from exc
    compact_vocabularies(model.named_steps["features"])
    report: dict[str, Any] = {
        "train_articles": len(train_rows),
        "validation_articles": len(validation_rows),
    }
    if strategy == "cv_fbeta":
        scores = out_of_fold_scores(classifier, X_train, Y_train, cv_folds, seed)
        classifier.thresholds_ = choose_thresholds(
            Y_train, scores, strategy=strategy, beta=beta, fallback=fallback, floor=floor
        )
        report |= {"thresholds": _rounded(labels, classifier.thresholds_), "cv_folds": cv_folds}
        return model, report
    if not validation_rows:
        if strategy != "fixed":
            raise TopicwireError(
                f"the validation split is empty; thresholds.strategy {strategy!r} tunes "
                "thresholds on it (use strategy 'fixed' or give validation articles)"
            )
        classifier.thresholds_ = choose_thresholds(Y_val, Y_val, "fixed", beta, fallback)
        report["thresholds"] = _rounded(labels, classifier.thresholds_)
        return model, report
    X_val = model[:-1].transform(texts_of(validation_rows))
    scores = classifier.predict_proba(X_val)  # once: thresholds and validation F1 share them
    classifier.thresholds_ = choose_thresholds(
        Y_val, scores, strategy=strategy, beta=beta, fallback=fallback, floor=floor
    )
    predicted = classifier.decide(scores)
    report |= {
        "features": int(X_val.shape[1]),
        "thresholds": _rounded(labels, classifier.thresholds_),
        "validation_f1": {
            label: _known_f1(Y_val[:, j], predicted[:, j]) for j, label in enumerate(labels)
        },
        "unknown_labels_left_out": {
            label: int((Y_train[:, j] < 0).sum()) for j, label in enumerate(labels)
        },
        "untuned_labels": [
            label for j, label in enumerate(labels) if (Y_val[:, j] == 1).sum() == 0
        ],
    }
    return model, report


def _known_f1(y: np.ndarray, predicted: np.ndarray) -> float:
    """F1 over the articles whose value is known (-1: unknown, left out)."""
    known = y >= 0
    return round(float(f1_score(y[known], predicted[known], zero_division=0)), 6)


def fit_features(model: Pipeline, texts: Sequence[str], n_jobs: int | None = None) -> Any:
    """Fit every step before the classifier; return the training features.

    Cleaning is stateless (its fit only compiles patterns), so its transform runs in `n_jobs`
    processes; the features are fitted once on
    the cleaned texts (and may parallelise themselves, e.g. HashedTfidf). The matrix is
    returned so that the classifier's fit and the threshold folds share it.
    """
    from pipeline.features import parallel_transform

    *preparation, (_, features) = model.steps[:-1]
    texts = list(texts)
    for _, step in preparation:
        texts = parallel_transform(step.fit(texts), texts, n_jobs)
    return features.fit_transform(texts)


def out_of_fold_scores(classifier: Any, X: Any, Y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Every training article scored by a copy of `classifier` fitted on the other folds.

    `X` holds the features fitted on the whole train split: only the classifier is refitted
    per fold (`folds` more fits, no more featurisation). The IDF has seen the held-out fold
    (no labels leak; the thresholds come out a little optimistic, as on any re-used
    vocabulary).
    """
    from sklearn.base import clone
    from sklearn.model_selection import KFold

    if folds < 2 or folds > len(Y):
        raise TopicwireError(
            f"thresholds.cv_folds must be between 2 and the {len(Y)} training articles, got {folds}"
        )
    scores = np.zeros(Y.shape, dtype=float)
    for fit_rows, held_out in KFold(folds, shuffle=True, random_state=seed).split(Y):
        fold_model = clone(classifier).fit(X[fit_rows], Y[fit_rows])
        scores[held_out] = fold_model.predict_proba(X[held_out])
    return scores


def threshold_options(params: Any) -> dict[str, Any]:
    """train()'s keyword arguments for thresholds.cv_folds / floor (absent: the defaults)."""
    return {
        "cv_folds": int(params.thresholds.get("cv_folds", 3)),
        "floor": params.thresholds.get("floor"),
        "seed": int(params.seed),
    }


def _rounded(labels: Sequence[str], thresholds: np.ndarray) -> dict[str, float]:
    return {label: round(float(t), 6) for label, t in zip(labels, thresholds, strict=True)}


def train_configured(
    params: Any,
    train_rows: Sequence[dict[str, Any]],
    validation_rows: Sequence[dict[str, Any]],
    labels: Sequence[str],
) -> tuple[Pipeline, dict[str, Any]]:
    """`train` with everything params.yaml configures: the model, thresholds, streaming. The
    train stage, cross-validation and the label-source comparison all train through here."""
    from pipeline.config import build_model, to_plain

    return train(
        build_model(params),
        train_rows,
        validation_rows,
        labels,
        params.thresholds.strategy,
        params.thresholds.beta,
        params.thresholds.fallback,
        streaming=to_plain(params.model.get("streaming")),
        n_jobs=params.model.get("n_jobs"),
        **threshold_options(params),
    )


def _fit_streaming(
    model: Pipeline,
    rows: Sequence[dict[str, Any]],
    Y: np.ndarray,
    batch_size: int = 10_000,
    epochs: int = 1,
    seed: int = 0,
    n_jobs: int | None = None,
) -> None:
    """Out-of-core fit: per batch, clean and featurise (in `n_jobs` processes), then
    `partial_fit` every label."""
    from sklearn.utils import get_tags

    from pipeline.features import parallel_transform

    if batch_size < 1 or epochs < 1:
        raise TopicwireError(
            f"model.streaming: batch_size and epochs must be >= 1, got {batch_size}, {epochs}"
        )
    features = model.named_steps["features"]
    if get_tags(features).requires_fit:
        raise TopicwireError(
            f"model.streaming needs stateless features (e.g. features=hashed_streaming); "
            f"{type(features).__name__} must be fitted on all the data first"
        )
    model[:-1].fit(texts_of(rows[:1]))  # stateless: compiles the cleaner's patterns only
    classifier = model[-1]
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(rows))  # SGD needs shuffled input
        for start in range(0, len(rows), batch_size):
            batch = np.sort(order[start : start + batch_size])
            X = parallel_transform(model[:-1], texts_of([rows[i] for i in batch]), n_jobs)
            classifier.partial_fit(X, Y[batch])


def main() -> None:
    from pathlib import Path

    import joblib

    from pipeline.config import load_params, taxonomy_labels
    from pipeline.dataset import load_articles
    from pipeline.io import atomic_path, write_json

    params = load_params()
    labels = taxonomy_labels(params)
    split_dir = Path(params.data.split_dir)
    train_rows = load_articles(split_dir / "train.parquet").to_list()
    validation_rows = load_articles(split_dir / "validation.parquet").to_list()
    np.random.seed(params.seed)  # for any estimator that falls back on the global generator
    model, report = train_configured(params, train_rows, validation_rows, labels)
    with atomic_path(MODEL_FILE) as tmp:
        joblib.dump(model, tmp, compress=3)
    write_json(REPORT, report)
    for label in report.get("untuned_labels", []):
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
