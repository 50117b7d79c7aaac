"""What the model adds to the topic rules: rules alone vs models trained on each label source.

On the gold test split, the evaluate stage scores the topic rules used alone as a classifier (an
abstention counts as "no topic") and the configured model retrained on each source of training
labels — `gold` only, `weak` (rule) labels only, `both` — with everything else as configured. All
are scored on the same test articles, against gold; paired bootstraps say whether the model
trained on rule labels beats the rules it learnt from, and whether rule labels add to gold.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.evaluation import bootstrap_ci, paired_bootstrap, per_label_metrics, summary_metrics

log = logging.getLogger("topicwire")
HEADLINE = ("micro_f1", "macro_f1", "micro_precision", "micro_recall")


def _rows_for(rows: Sequence[dict[str, Any]], use: str) -> list[dict[str, Any]]:
    from pipeline.stages.label import training_labels

    out = []
    for row in rows:
        labels, source = training_labels(row, use)
        out.append({**row, "labels": labels, "label_source": source})
    return out


def _training_key(splits: dict[str, list[dict[str, Any]]]) -> str:
    digest = hashlib.sha256()
    for name in ("train", "validation"):
        for row in splits[name]:
            digest.update(json.dumps([name, row["id"], row["labels"]]).encode() + b"\n")
    return digest.hexdigest()


def _scored(Y: np.ndarray, P: np.ndarray, labels: Sequence[str], seed: int, params: Any) -> dict:
    summary = summary_metrics(Y, P)
    return {
        **{key: summary[key] for key in HEADLINE},
        "ci": bootstrap_ci(
            Y, P, params.evaluate.bootstrap_resamples, seed, params.evaluate.confidence
        ),
        "per_label_f1": {
            label: entry["f1"]
            for label, entry in per_label_metrics(Y, P, None, None, labels).items()
        },
    }


def compare_label_sources(
    labelled: Sequence[dict[str, Any]],
    labels: Sequence[str],
    params: Any,
    configured: np.ndarray | None = None,
    configured_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Rules alone and the model trained on gold, weak and both label sources, on the test split.

    `labelled` is the label stage's table; the split is made again for each source exactly as the
    split stage makes it, so the test articles are the same for all. `configured`: the test
    predictions of the train stage's model on the articles `configured_ids`, which is the
    model for `label_sources.use` (not trained again).
    """
    from pipeline.classifier import label_matrix
    from pipeline.errors import TopicwireError
    from pipeline.stages.split import split_articles
    from pipeline.stages.train import texts_of, train_configured

    seed = params.seed
    result: dict[str, Any] = {"trained_on": params.label_sources.use, "test_articles": 0}
    predictions: dict[str, np.ndarray] = {}
    fitted: dict[str, str] = {}  # training-set key -> source first trained on it
    test_ids: list[str] | None = None
    Y = None
    for use in ("gold", "weak", "both"):
        splits = split_articles(
            _rows_for(labelled, use),
            labels,
            params.split.validation_size,
            params.split.test_size,
            seed,
        )
        test = splits["test"]
        if test_ids is None:
            test_ids = [r["id"] for r in test]
            if configured_ids is not None and list(configured_ids) != test_ids:
                raise TopicwireError(
                    "the test split on disk is not the split of the labelled table; run `dvc repro`"
                )
            Y = label_matrix([r["labels"] for r in test], labels)
            result["test_articles"] = len(test)
            rules = label_matrix([r["weak_labels"] or [] for r in test], labels)
            predictions["rules"] = rules
            result["rules"] = _scored(Y, rules, labels, seed, params)
        train_sources = {
            s: sum(1 for r in splits["train"] if r["label_source"] == s) for s in ("gold", "weak")
        }
        if not splits["train"]:
            result[use] = {"skipped": "no article has training labels from this source"}
            continue
        key = _training_key(splits)
        if key in fitted:  # e.g. `both` on a corpus where every article has gold labels
            result[use] = {**result[fitted[key]], "same_training_set_as": fitted[key]}
            predictions[use] = predictions[fitted[key]]
            continue
        if use == result["trained_on"] and configured is not None:
            predictions[use] = configured  # the train stage's model: same config, same split
        else:
            model, _ = train_configured(params, splits["train"], splits["validation"], labels)
            scores = model.predict_proba(texts_of(test))
            predictions[use] = model[-1].decide(scores).astype(int)
        fitted[key] = use
        result[use] = {
            **_scored(Y, predictions[use], labels, seed, params),
            "train_articles": train_sources,
        }
        log.info(
            "%s on %s labels (%s): test micro-F1 %.3f",
            "the train stage's model" if use == result["trained_on"] else "trained",
            use,
            train_sources,
            result[use]["micro_f1"],
        )

    def versus(a: str, b: str) -> dict[str, Any] | None:
        if a not in predictions or b not in predictions:
            return None
        if np.array_equal(predictions[a], predictions[b]):
            return None  # the same model (the same training set): nothing to test
        return paired_bootstrap(
            Y,
            predictions[a],
            predictions[b],
            params.evaluate.bootstrap_resamples,
            seed,
            params.evaluate.confidence,
        )

    # Differences are second minus first: positive = the second is better.
    result["weak_minus_rules"] = versus("rules", "weak")
    result["gold_minus_weak"] = versus("weak", "gold")
    result["both_minus_gold"] = versus("gold", "both")
    return result
