"""The resolved configuration (params.yaml) and the objects it describes.

conf/ is the only place a user edits. The compose stage (pipeline.stages.compose) turns it into
params.yaml, which DVC tracks per stage; every stage reads params.yaml through `load_params`.
Training-time only: imports Hydra and OmegaConf, which prediction does not need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from pipeline.errors import TopicwireError

PARAMS_FILE = "params.yaml"


def load_params(path: str | Path = PARAMS_FILE) -> DictConfig:
    path = Path(path)
    if not path.is_file():
        raise TopicwireError(
            f"{path}: not found; it is composed from conf/ by the compose stage — run `dvc repro`"
        )
    return OmegaConf.load(path)


def to_plain(node: Any) -> Any:
    """An OmegaConf node as plain dicts and lists (for scikit-learn and JSON)."""
    if OmegaConf.is_config(node):
        return OmegaConf.to_container(node, resolve=True)
    return node


def taxonomy_labels(params: DictConfig) -> list[str]:
    labels = list(params.taxonomy.labels.keys())
    if not labels:
        raise TopicwireError(
            "taxonomy.labels is empty; expected at least one label in conf/taxonomy/"
        )
    return labels


def build_model(params: DictConfig) -> Any:
    """The unfitted model: clean -> features -> one thresholded binary classifier per label."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate
    from sklearn.pipeline import Pipeline

    from pipeline.classifier import PerLabelThresholdClassifier
    from pipeline.text import ArticleCleaner

    try:
        features = instantiate(params.features.vectorizer, _convert_="all")
        estimator = instantiate(params.model.estimator, _convert_="all")
        cleaner = ArticleCleaner(**to_plain(params.cleaning))
    except (InstantiationException, TypeError, ValueError) as exc:
        raise TopicwireError(f"cannot build the model from params.yaml: {exc}") from exc
    classifier = PerLabelThresholdClassifier(
        estimator,
        calibration=to_plain(params.model.get("calibration")),
        n_jobs=params.model.get("n_jobs"),
        min_labels=_min_labels(params),
    )
    return Pipeline([("clean", cleaner), ("features", features), ("classify", classifier)])


def _min_labels(params: DictConfig) -> int:
    value = params.thresholds.get("min_labels", 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TopicwireError(
            f"thresholds.min_labels must be a whole number >= 0 (0: none), got {value!r}"
        )
    return value
