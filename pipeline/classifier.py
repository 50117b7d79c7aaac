"""The multi-label classifier: one binary linear model per label, each with its own threshold.

scikit-learn's `OneVsRestClassifier` predicts with a fixed 0.5 and ignores thresholds tuned by
`TunedThresholdClassifierCV` (scikit-learn #30036), which itself refuses multi-label targets. So
`PerLabelThresholdClassifier` wraps a fitted one-vs-rest model and applies a threshold per label,
tuned on held-out data by `tune_thresholds`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import precision_recall_curve
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted


class PerLabelThresholdClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """One-vs-rest probabilities with a decision threshold per label.

    Parameters
    ----------
    estimator:
        A binary classifier, fitted once per label.
    calibration:
        None, or a dict of `CalibratedClassifierCV` options (e.g. ``{"method": "sigmoid",
        "cv": 3}``). Required for estimators without `predict_proba`, so that every model's
        scores are probabilities in [0, 1] and mean the same thing.
    min_labels:
        Every article gets at least this many labels: where fewer pass their thresholds, the
        labels whose scores come closest to theirs (highest score / threshold) are added.
        0 (the default) for taxonomies where an article may have no label; 1 where every
        article has one (Reuters-21578: every story has a category).
    n_jobs:
        Labels fitted in parallel processes. Not threads: liblinear shuffles with one
        process-wide random generator, so labels fitted in threads race on it and the model
        would change from run to run.
    """

    def __init__(
        self,
        estimator: BaseEstimator,
        calibration: dict[str, Any] | None = None,
        n_jobs: int | None = None,
        min_labels: int = 0,
    ) -> None:
        self.estimator = estimator
        self.calibration = calibration
        self.n_jobs = n_jobs
        self.min_labels = min_labels

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Models saved before min_labels existed used none: the same decisions, and they
        # still print, clone and give their parameters.
        state.setdefault("min_labels", 0)
        super().__setstate__(state)

    def _binary_estimator(self) -> BaseEstimator:
        base = clone(self.estimator)
        if self.calibration:
            return CalibratedClassifierCV(base, **dict(self.calibration))
        if not hasattr(base, "predict_proba"):
            raise ValueError(
                f"{type(base).__name__} has no predict_proba; set the model's calibration "
                "(e.g. calibration: {method: sigmoid, cv: 3}) so that scores are probabilities"
            )
        return base

    def fit(self, X: Any, Y: np.ndarray) -> PerLabelThresholdClassifier:
        Y = _label_indicator(Y)
        X = canonical(X)
        known = Y >= 0
        if known.all():
            self.ovr_ = OneVsRestClassifier(self._binary_estimator(), n_jobs=self.n_jobs).fit(X, Y)
        else:
            self.ovr_ = self._fit_known(X, Y, known)
        self.thresholds_ = np.full(Y.shape[1], 0.5)
        return self

    def _fit_known(self, X: Any, Y: np.ndarray, known: np.ndarray) -> OneVsRestClassifier:
        """One-vs-rest where Y is -1 for "unknown": each label's model is fitted only on the
        articles whose value for that label is known (e.g. topic rules abstained on the others)."""
        from joblib import Parallel, delayed

        def fit_label(j: int) -> Any:
            rows = np.flatnonzero(known[:, j])
            if len(rows) == 0:
                raise ValueError(f"label {j}: no training article with a known value")
            # A one-column OneVsRestClassifier handles a constant label like the full one does.
            single = OneVsRestClassifier(self._binary_estimator()).fit(X[rows], Y[rows, j])
            return single.estimators_[0]

        estimators = Parallel(n_jobs=self.n_jobs)(delayed(fit_label)(j) for j in range(Y.shape[1]))
        # The same fitted object `fit` would build, with the per-label estimators.
        ovr = OneVsRestClassifier(self._binary_estimator(), n_jobs=self.n_jobs)
        ovr.label_binarizer_ = LabelBinarizer(sparse_output=True).fit(np.where(known, Y, 0))
        ovr.classes_ = ovr.label_binarizer_.classes_
        ovr.estimators_ = estimators
        if hasattr(estimators[0], "n_features_in_"):
            ovr.n_features_in_ = estimators[0].n_features_in_
        return ovr

    def partial_fit(self, X: Any, Y: np.ndarray) -> PerLabelThresholdClassifier:
        """One more pass of each label's estimator over a batch (out-of-core training).

        The estimator must have `partial_fit` and `predict_proba` (e.g. SGDClassifier with
        `loss: log_loss`); calibration and class_weight 'balanced' need the whole data at once
        and are refused. With n_jobs > 1 the labels are updated in threads (SGD releases the GIL).
        """
        Y = _label_indicator(Y)
        X = canonical(X)
        if not hasattr(self, "ovr_"):
            base = clone(self.estimator)
            if self.calibration or not hasattr(base, "partial_fit"):
                raise ValueError(
                    f"streaming training needs an estimator with partial_fit and no calibration; "
                    f"got {type(base).__name__} with calibration={self.calibration!r}"
                )
            if getattr(base, "class_weight", None) == "balanced":
                raise ValueError("class_weight 'balanced' needs all the data; use null or a dict")
            ovr = OneVsRestClassifier(base, n_jobs=self.n_jobs)
            ovr.estimators_ = [clone(base) for _ in range(Y.shape[1])]
            # Fitted like OneVsRestClassifier.fit on a multi-label target, so it predicts alike.
            ovr.label_binarizer_ = LabelBinarizer(sparse_output=True).fit(
                np.eye(Y.shape[1], dtype=np.int8)
            )
            self.ovr_ = ovr
            self.thresholds_ = np.full(Y.shape[1], 0.5)
        elif Y.shape[1] != len(self.ovr_.estimators_):
            raise ValueError(
                f"Y has {Y.shape[1]} labels, the model was started with "
                f"{len(self.ovr_.estimators_)}"
            )
        estimators = self.ovr_.estimators_

        def update(j: int, est: Any) -> None:
            rows = np.flatnonzero(Y[:, j] >= 0)  # -1: unknown for this label, left out
            if len(rows) == len(Y):
                est.partial_fit(X, Y[:, j], classes=[0, 1])
            elif len(rows):
                est.partial_fit(X[rows], Y[rows, j], classes=[0, 1])

        if self.n_jobs is not None and self.n_jobs != 1:
            from joblib import Parallel, delayed

            Parallel(n_jobs=self.n_jobs, backend="threading")(
                delayed(update)(j, est) for j, est in enumerate(estimators)
            )
        else:
            for j, est in enumerate(estimators):
                update(j, est)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Scores in [0, 1], one column per label (independent, they need not sum to 1)."""
        check_is_fitted(self, "ovr_")
        return self.ovr_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """A label-indicator matrix: score >= the label's threshold (and `min_labels`)."""
        return self.decide(self.predict_proba(X))

    def decide(self, scores: np.ndarray, thresholds: Any = None) -> np.ndarray:
        """Scores -> label-indicator matrix, by the tuned thresholds (or `thresholds`) and
        `min_labels`: the one decision rule of evaluation, reports and prediction."""
        cuts = self.thresholds_ if thresholds is None else thresholds
        return apply_thresholds(scores, cuts, self.min_labels)

    def tune_thresholds(
        self,
        X: Any,
        Y: np.ndarray,
        strategy: str = "max_fbeta",
        beta: float = 1.0,
        fallback: float = 0.5,
    ) -> PerLabelThresholdClassifier:
        """Set each label's threshold from held-out data (see `choose_thresholds`)."""
        self.thresholds_ = choose_thresholds(
            np.asarray(Y), self.predict_proba(X), strategy=strategy, beta=beta, fallback=fallback
        )
        return self


def apply_thresholds(scores: np.ndarray, thresholds: Any, min_labels: int = 0) -> np.ndarray:
    """1 where a score reaches its label's threshold; rows with fewer than `min_labels`
    such labels get the labels with the highest score / threshold added, up to `min_labels`."""
    scores = np.asarray(scores, dtype=float)
    cuts = np.asarray(thresholds, dtype=float)
    if scores.size == 0:
        return np.zeros(scores.shape, dtype=np.int8)
    predicted = (scores >= cuts).astype(np.int8)
    k = min(int(min_labels), scores.shape[1]) if scores.ndim == 2 else 0
    if k <= 0:
        return predicted
    short = np.flatnonzero(predicted.sum(axis=1) < k)
    if len(short):
        # Labels already passing rank first, then the others by how close they come.
        closeness = np.where(predicted[short], np.inf, scores[short] / np.maximum(cuts, 1e-12))
        top = np.argsort(-closeness, axis=1, kind="stable")[:, :k]
        predicted[short[:, None], top] = 1
    return predicted


def _label_indicator(Y: Any) -> np.ndarray:
    Y = np.asarray(Y)
    if Y.ndim != 2:
        raise ValueError(f"Y must be a 2-D label-indicator matrix, got shape {Y.shape}")
    return Y


def canonical(X: Any) -> Any:
    """A sparse matrix in canonical CSR form (sorted indices, no duplicates), in place.

    TfidfVectorizer can return unsorted indices; some estimators (LogisticRegression) then sort
    them in place while fitting, which fails on the read-only memory-mapped copy that labels
    fitted in parallel processes (n_jobs > 1) share, and races in threads. Sorting once here
    changes no value.
    """
    from scipy import sparse

    if sparse.issparse(X):
        X = X.tocsr()
        if not X.has_canonical_format:
            X.sum_duplicates()
    return X


# max_fbeta: tuned on the validation split; cv_fbeta: tuned on out-of-fold scores of the train
# split (k-fold, no validation split needed); fixed: `fallback` for every label.
STRATEGIES = ("max_fbeta", "cv_fbeta", "fixed")


def choose_thresholds(
    Y: np.ndarray,
    scores: np.ndarray,
    strategy: str = "max_fbeta",
    beta: float = 1.0,
    fallback: float = 0.5,
    floor: float | None = None,
) -> np.ndarray:
    """Per label, the score threshold that maximises F-beta on (Y, scores).

    Ties go to the highest threshold (fewest false positives). A label without positives in Y
    cannot be tuned and gets `fallback`; so does every label under strategy 'fixed'. Entries of
    -1 in Y (unknown) are left out of that label's choice. `floor`, if given, is the lowest
    threshold a tuned label may get: a rare label tuned on one or two positives otherwise ends
    up with a threshold so low that it fires on many articles.
    """
    if strategy not in STRATEGIES:
        raise ValueError(
            f"thresholds.strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}"
        )
    if strategy == "cv_fbeta":  # the same choice, made on out-of-fold scores (train stage)
        strategy = "max_fbeta"
    thresholds = np.full(Y.shape[1], float(fallback))
    if strategy == "fixed":
        return thresholds
    b2 = beta * beta
    for j in range(Y.shape[1]):
        known = Y[:, j] >= 0  # -1: unknown for this label (left out)
        if Y[known, j].sum() == 0:
            continue
        precision, recall, cuts = precision_recall_curve(Y[known, j], scores[known, j])
        precision, recall = precision[:-1], recall[:-1]
        denom = b2 * precision + recall
        fbeta = np.divide(
            (1 + b2) * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0
        )
        best = np.flatnonzero(fbeta == fbeta.max())[-1]
        thresholds[j] = float(cuts[best]) if floor is None else max(float(cuts[best]), floor)
    return thresholds


def label_matrix(label_lists: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """Label lists -> indicator matrix with one column per taxonomy label, in taxonomy order."""
    index = {label: j for j, label in enumerate(labels)}
    Y = np.zeros((len(label_lists), len(labels)), dtype=np.int8)
    for i, names in enumerate(label_lists):
        for name in names:
            Y[i, index[name]] = 1
    return Y
