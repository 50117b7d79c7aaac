"""K-fold cross-validation of the configured model on all labelled articles.

One test split says little on a small corpus; k folds give a mean and a spread. Folds are made by
iterative multi-label stratification over groups of near copies (as the split stage does); in
each fold the model is trained exactly as the train stage trains it — thresholds tuned on a
validation part of the training folds — and scored on the held-out fold.

    python -m pipeline.crossval --folds 5     # reads params.yaml and data/labelled/
"""

from __future__ import annotations

import argparse
import logging
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.stages.split import articles_of, duplicate_groups_matrix, holdout

log = logging.getLogger("topicwire")
REPORT = "reports/crossval.json"


def cross_validate(
    gold: Sequence[dict[str, Any]], labels: Sequence[str], params: Any, folds: int = 5
) -> dict[str, Any]:
    """Per-fold and summary (mean, standard deviation) test metrics."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    from pipeline.classifier import label_matrix
    from pipeline.stages.evaluate import score_predictions
    from pipeline.stages.train import texts_of, train_configured

    groups, Y = duplicate_groups_matrix(gold, labels)
    kfold = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=params.seed)
    validation_share = params.split.validation_size / (1 - params.split.test_size)
    per_fold = []
    for k, (rest, test) in enumerate(kfold.split(np.zeros((len(groups), 1)), Y)):
        fit_groups, val_groups = holdout(Y, rest, validation_share, params.seed + k)
        train_rows = articles_of(groups, fit_groups, gold)
        test_rows = articles_of(groups, test, gold)
        model, _ = train_configured(
            params, train_rows, articles_of(groups, val_groups, gold), labels
        )
        truth = label_matrix([r["labels"] for r in test_rows], labels)
        scores = model.predict_proba(texts_of(test_rows))
        thresholds = model[-1].thresholds_
        per_fold.append(
            score_predictions(
                truth, model[-1].decide(scores).astype(int), thresholds, labels, scores
            )
        )
        log.info(
            "fold %d/%d: micro-F1 %.3f, macro-F1 %.3f",
            k + 1,
            folds,
            per_fold[-1]["micro_f1"],
            per_fold[-1]["macro_f1"],
        )

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "mean": round(statistics.fmean(values), 4),
            "std": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
            "min": round(min(values), 4),
            "max": round(max(values), 4),
        }

    return {
        "folds": folds,
        "articles": len(gold),
        "micro_f1": summary([f["micro_f1"] for f in per_fold]),
        "macro_f1": summary([f["macro_f1"] for f in per_fold]),
        "per_label_f1": {
            label: summary([f["per_label"][label]["f1"] for f in per_fold]) for label in labels
        },
        "per_fold": [
            {k: f[k] for k in ("test_articles", "micro_f1", "macro_f1")} for f in per_fold
        ],
    }


def main(argv: Sequence[str] | None = None) -> None:
    from pipeline.config import load_params, taxonomy_labels
    from pipeline.dataset import load_articles
    from pipeline.io import write_json
    from pipeline.stages.label import gold_rows

    parser = argparse.ArgumentParser(
        prog="python -m pipeline.crossval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
    args = parser.parse_args(argv)
    params = load_params()
    labels = taxonomy_labels(params)
    rows = load_articles(params.data.labelled).to_list()
    gold = gold_rows(rows)
    result = cross_validate(gold, labels, params, args.folds)
    write_json(REPORT, result)
    print(
        f"{args.folds}-fold cross-validation on {len(gold)} articles "
        f"({params.features.name} + {params.model.name}):"
    )
    for key in ("micro_f1", "macro_f1"):
        s = result[key]
        print(
            f"  {key:<24} {s['mean']:.3f} ± {s['std']:.3f}"
            f"  (min {s['min']:.3f}, max {s['max']:.3f})"
        )
    for label, s in result["per_label_f1"].items():
        print(f"  f1 {label:<21} {s['mean']:.3f} ± {s['std']:.3f}")


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("crossval", main)
