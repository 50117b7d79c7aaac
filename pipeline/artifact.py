"""The published model: load it, check it, and tag articles with it.

An artefact directory holds `model.joblib` (the fitted scikit-learn Pipeline: clean -> features
-> per-label thresholded classifier), `metadata.json` (version, labels, thresholds, metrics,
parameters, data fingerprint, library versions, file checksums) and `README.md` (model card).
This module needs no training dependency (no DVC, no Hydra).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import TopicwireError
from pipeline.io import sha256_file

DEFAULT_NAME = "topic-classifier"
MODEL_FILE = "model.joblib"  # the default format
MODEL_FILES = {"joblib": MODEL_FILE, "skops": "model.skops"}
# The only non-scikit-learn types a skops model may contain; anything else is refused.
TRUSTED_TYPES = [
    "pipeline.classifier.PerLabelThresholdClassifier",
    "pipeline.features.HashedTfidf",
    "pipeline.text.ArticleCleaner",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
]
METADATA_FILE = "metadata.json"
CARD_FILE = "README.md"
PREDICTIONS_FILE = "test_predictions.jsonl"  # the test split's scores, for paired comparisons
ENV_MODEL = "TOPICWIRE_MODEL"
ENV_N_JOBS = "TOPICWIRE_N_JOBS"


class TopicModel:
    """A loaded topic classifier.

    >>> model = load_model()                    # doctest: +SKIP
    >>> model.predict(["Kyiv was left without power after strikes on substations ..."])
    [['energy_infrastructure']]
    """

    def __init__(
        self, pipeline: Any, metadata: dict[str, Any], path: Path, n_jobs: int | None = None
    ) -> None:
        self.pipeline = pipeline
        self.metadata = metadata
        self.path = path
        # Processes that clean and featurise a large batch in parallel (None or 1: this one;
        # -1: every core); the scores are identical either way. $TOPICWIRE_N_JOBS sets it too.
        self.n_jobs = n_jobs if n_jobs is not None else _env_n_jobs()

    @property
    def labels(self) -> list[str]:
        return list(self.metadata["labels"])

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(zip(self.labels, self.pipeline[-1].thresholds_.tolist(), strict=True))

    def score_matrix(self, texts: Sequence[str]) -> np.ndarray:
        """Scores in [0, 1], one row per text and one column per label."""
        if isinstance(texts, str):
            raise TypeError("expected a list of texts, got a single string; wrap it in a list")
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        if self.n_jobs in (None, 1):
            return self.pipeline.predict_proba(list(texts))
        from pipeline.features import parallel_transform

        X = parallel_transform(self.pipeline[:-1], list(texts), self.n_jobs)
        return self.pipeline[-1].predict_proba(X)

    def predict_scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Each label's score per text."""
        return [
            dict(zip(self.labels, row.tolist(), strict=True)) for row in self.score_matrix(texts)
        ]

    def predict(self, texts: Sequence[str]) -> list[list[str]]:
        """The labels whose score reaches their tuned threshold, per text."""
        return self.labels_from_scores(self.score_matrix(texts))

    def labels_from_scores(
        self,
        scores: np.ndarray,
        thresholds: Sequence[float] | float | None = None,
        top_k: int | None = None,
    ) -> list[list[str]]:
        """Labels whose score reaches the threshold (the tuned ones by default, or one value for
        all; at least the model's `min_labels`), at most `top_k` of them (the highest-scoring),
        in taxonomy order."""
        cuts = None if thresholds is None else np.asarray(thresholds, dtype=float)
        decided = self.pipeline[-1].decide(np.asarray(scores), cuts)
        labels = self.labels
        result = []
        for row, chosen in zip(scores, decided, strict=True):
            passing = np.flatnonzero(chosen)
            if top_k is not None and len(passing) > top_k:
                passing = np.sort(passing[np.argsort(-row[passing], kind="stable")[:top_k]])
            result.append([labels[j] for j in passing])
        return result

    def explain(self, text: str, k: int = 8) -> dict[str, list[tuple[str, float]]]:
        """For each label predicted for `text`, the k terms that pushed its score up most."""
        return self.explain_batch([text], self.predict([text]), k)[0]

    def explain_batch(
        self, texts: Sequence[str], predicted: Sequence[Sequence[str]], k: int = 8
    ) -> list[dict[str, list[tuple[str, float]]]]:
        """Per text, the terms behind each of its `predicted` labels (features computed once)."""
        from scipy import sparse

        from pipeline.explain import feature_names, label_weights, pushes

        if not texts:
            return []
        X = sparse.csr_matrix(self.pipeline[:-1].transform(list(texts)))
        W, names = label_weights(self.pipeline), feature_names(self.pipeline)
        result: list[dict[str, list[tuple[str, float]]]] = [{} for _ in texts]
        for j, label in enumerate(self.labels):
            rows = [i for i, chosen in enumerate(predicted) if label in chosen]
            if rows:
                for i, terms in zip(rows, pushes(X[rows], W[j], names, k), strict=True):
                    result[i][label] = terms
        return [{label: r[label] for label in predicted[i]} for i, r in enumerate(result)]

    def __repr__(self) -> str:
        return f"TopicModel(version={self.version!r}, labels={self.labels}, path='{self.path}')"


def _env_n_jobs() -> int | None:
    value = os.environ.get(ENV_N_JOBS, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise TopicwireError(
            f"${ENV_N_JOBS}={value!r}: expected an integer (-1: all cores)"
        ) from None


def default_model_dir() -> Path:
    """$TOPICWIRE_MODEL, else models/topic-classifier in the project around the working directory
    (or around this package, for an editable install)."""
    if os.environ.get(ENV_MODEL):
        return Path(os.environ[ENV_MODEL])
    rel = Path("models") / DEFAULT_NAME
    for base in (Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[1]):
        if (base / rel / METADATA_FILE).is_file():
            return base / rel
    return Path.cwd() / rel


def resolve_model_dir(model: str | os.PathLike | None) -> Path:
    """An artefact directory, or a registry reference (name@version, name#stage) fetched with
    DVC into the local cache (see pipeline.registry)."""
    if model is None:
        return default_model_dir()
    text = str(model)
    if not Path(text).exists():
        from pipeline.registry import fetch, parse_ref

        if parse_ref(text):
            return fetch(text)
    return Path(text)


def load_model(model: str | os.PathLike | None = None, n_jobs: int | None = None) -> TopicModel:
    """Load a published model after checking its files against its metadata.

    `model` is an artefact directory or a registered `name@version` / `name#stage`; by default,
    the model that `dvc repro` published. `n_jobs` > 1 (or -1, all cores) cleans and
    featurises large batches in that many processes; the scores do not change.
    """
    import joblib

    path = resolve_model_dir(model)
    meta_path = path / METADATA_FILE
    if not meta_path.is_file():
        raise TopicwireError(
            f"{path}: no {METADATA_FILE}; expected a published model directory "
            "(run `dvc repro`, or pass --model)"
        )
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        model_format = metadata.get("format", "joblib")
        model_file = MODEL_FILES[model_format]
        expected = metadata["files"][model_file]["sha256"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise TopicwireError(
            f"{meta_path}: unreadable metadata ({exc}); "
            "expected the metadata written by the publish stage"
        ) from exc
    model_path = path / model_file
    if not model_path.is_file():
        raise TopicwireError(f"{model_path}: model file missing")
    # Unpickling runs code: never load a file that is not the one that was published.
    actual = sha256_file(model_path)
    if actual != expected:
        raise TopicwireError(
            f"{model_path}: sha256 {actual[:16]}… does not match the metadata's "
            f"{expected[:16]}…; the file is damaged or was replaced — refusing "
            "to load it"
        )
    check_library_versions(metadata, path)
    if model_format == "skops":
        return TopicModel(_load_skops(model_path), metadata, path, n_jobs)
    return TopicModel(joblib.load(model_path), metadata, path, n_jobs)


def _load_skops(model_path: Path) -> Any:
    """Load a skops file, trusting scikit-learn's types and TRUSTED_TYPES only."""
    import skops.io

    untrusted = [t for t in skops.io.get_untrusted_types(file=model_path) if t not in TRUSTED_TYPES]
    if untrusted:
        raise TopicwireError(
            f"{model_path}: contains types outside the trusted list: "
            f"{', '.join(untrusted)}; refusing to load it"
        )
    return skops.io.load(model_path, trusted=TRUSTED_TYPES)


def check_library_versions(metadata: dict[str, Any], path: Path) -> None:
    """A model pickled by another scikit-learn may behave differently: warn on a different
    minor version, refuse a different major version (its pickles are not compatible)."""
    import warnings

    import sklearn

    trained = str(metadata.get("libraries", {}).get("scikit-learn", ""))
    running = sklearn.__version__
    if not trained or trained == running:
        return
    major = [v.split(".")[0] for v in (trained, running)]
    if major[0] != major[1]:
        raise TopicwireError(
            f"{path}: trained with scikit-learn {trained}, this environment has "
            f"{running}; install scikit-learn=={trained} or retrain"
        )
    if trained.split(".")[:2] != running.split(".")[:2]:
        warnings.warn(
            f"{path}: trained with scikit-learn {trained}, running {running}; "
            "predictions may differ slightly — retrain or pin the version",
            UserWarning,
            stacklevel=3,
        )
