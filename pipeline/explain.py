"""Which terms push a label up or down: weights of the fitted linear models, per label.

Works for every model in conf/model/: linear models (coef_), calibrated ones (the mean coef_ of
the calibrated folds' estimators) and complement naive Bayes (the difference of the two classes'
log weights). Feature names come from the vectorizer; hashed features have none and are shown as
"#<column>".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse


def _weights(estimator: Any, width: int) -> np.ndarray:
    if hasattr(estimator, "calibrated_classifiers_"):
        return np.mean(
            [_weights(c.estimator, width) for c in estimator.calibrated_classifiers_], axis=0
        )
    if hasattr(estimator, "coef_"):
        return np.asarray(estimator.coef_, dtype=np.float64).ravel()
    if hasattr(estimator, "feature_log_prob_"):  # naive Bayes: log-odds contribution per feature
        log_prob = np.asarray(estimator.feature_log_prob_, dtype=np.float64)
        return log_prob[1] - log_prob[0] if log_prob.shape[0] == 2 else log_prob[-1]
    return np.zeros(width)  # a label seen with one class only: nothing pushes it


def feature_names(model: Any) -> np.ndarray | None:
    features = model.named_steps["features"]
    try:
        return np.asarray(features.get_feature_names_out(), dtype=object)
    except (AttributeError, ValueError, TypeError):
        return None


def label_weights(model: Any) -> np.ndarray:
    """(labels × features) matrix: how much one unit of each feature adds to each label's score."""
    classifier = model.named_steps["classify"]
    width = _width(model)
    return np.vstack([_weights(est, width) for est in classifier.ovr_.estimators_])


def _width(model: Any) -> int:
    names = feature_names(model)
    if names is not None:
        return len(names)
    features = model.named_steps["features"]
    return int(getattr(features, "n_features", 0) or features[0].n_features)


def _name(names: np.ndarray | None, column: int) -> str:
    return str(names[column]) if names is not None else f"#{column}"


def top_terms(
    model: Any, labels: Sequence[str], k: int = 15
) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """Per label, the k terms with the largest positive and the largest negative weights."""
    W = label_weights(model)
    names = feature_names(model)
    result = {}
    for j, label in enumerate(labels):
        order = np.argsort(W[j], kind="stable")
        result[label] = {
            "positive": [
                (_name(names, c), round(float(W[j, c]), 4)) for c in order[::-1][:k] if W[j, c] > 0
            ],
            "negative": [
                (_name(names, c), round(float(W[j, c]), 4)) for c in order[:k] if W[j, c] < 0
            ],
        }
    return result


def contributions(
    model: Any, texts: Sequence[str], label_index: int, k: int = 6, direction: int = 1
) -> list[list[tuple[str, float]]]:
    """Per text, the k terms that pushed the label's score most up (direction 1) or down (-1)."""
    X = sparse.csr_matrix(model[:-1].transform(list(texts)))
    return pushes(X, label_weights(model)[label_index], feature_names(model), k, direction)


def pushes(
    X: sparse.csr_matrix,
    weights: np.ndarray,
    names: np.ndarray | None,
    k: int = 6,
    direction: int = 1,
) -> list[list[tuple[str, float]]]:
    """Per row of the feature matrix X, the k features whose value x weight pushes most in
    `direction`; for callers that already hold the features and the weights."""
    result = []
    for row in range(X.shape[0]):
        start, end = X.indptr[row], X.indptr[row + 1]
        columns, values = X.indices[start:end], X.data[start:end]
        signed = values * weights[columns] * direction
        order = np.argsort(-signed, kind="stable")[:k]
        result.append(
            [
                (_name(names, columns[i]), round(float(signed[i] * direction), 4))
                for i in order
                if signed[i] > 0
            ]
        )
    return result
