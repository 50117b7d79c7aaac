"""Stage split: labelled articles -> train / validation / test, stratified for multi-label.

Validation and test are drawn from gold articles only, and the test split is always scored on
gold labels — whatever `label_sources.use` says — so models trained on gold, on rule labels or on
both are measured on the same articles. Train and validation rows carry the labels the model
trains on (the label stage's `labels`: gold, or rule labels with `use: weak`); articles without
gold labels (unlabelled, or the simulated pool) that have rule labels join the train split.

Iterative stratification (iterative-stratification's MultilabelStratifiedShuffleSplit) keeps
every label's share, and the share of articles with no topic, close to equal in each split. It
works on groups of duplicates, not articles, so near copies never land in two splits even when
data.duplicates.drop is false. The same seed gives the same split. reports/split.json holds the
counts and the data fingerprint that the published model records.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.errors import TopicwireError
from pipeline.stages.label import GOLD, UNLABELLED

log = logging.getLogger("topicwire")
SPLITS = ("train", "validation", "test")
REPORT = "reports/split.json"


def duplicate_groups_matrix(
    gold: Sequence[dict[str, Any]], labels: Sequence[str], key: str = "labels"
) -> tuple[list[list[int]], np.ndarray]:
    """Groups of article indices (near copies together) and a label matrix per group (labels
    from the rows' `key` field), with a last column for "no topic" so that topic-less articles
    are stratified too."""
    by_key: dict[str, list[int]] = {}
    for i, row in enumerate(gold):
        by_key.setdefault(row.get("dup_group") or row["id"], []).append(i)
    groups = [by_key[key] for key in sorted(by_key)]
    index = {label: j for j, label in enumerate(labels)}
    Y = np.zeros((len(groups), len(labels) + 1), dtype=np.int8)
    for g, members in enumerate(groups):
        for i in members:
            for label in gold[i][key]:
                Y[g, index[label]] = 1
        Y[g, -1] = int(not Y[g, :-1].any())
    return groups, Y


def holdout(
    Y: np.ndarray, members: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split of the groups `members` into (kept, held out ~fraction)."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    keep, held = next(splitter.split(np.zeros((len(members), 1)), Y[members]))
    return members[keep], members[held]


def articles_of(
    groups: Sequence[Sequence[int]], members: np.ndarray, gold: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    return [gold[i] for i in sorted(i for g in members for i in groups[g])]


def split_articles(
    rows: Sequence[dict[str, Any]],
    labels: Sequence[str],
    validation_size: float,
    test_size: float,
    seed: int,
) -> dict[str, list[dict[str, Any]]]:
    """Assign every gold-labelled article to one split, and add the articles that only have
    rule labels to train; the core of the stage."""
    if not (0 < validation_size < 1 and 0 < test_size < 1 and validation_size + test_size < 1):
        raise TopicwireError(
            f"split sizes must be fractions with validation_size + test_size < 1, got "
            f"validation_size={validation_size}, test_size={test_size}"
        )
    gold = [r for r in rows if r.get("gold_labels") is not None]
    groups, Y = duplicate_groups_matrix(gold, labels, key="gold_labels")
    if len(groups) < 10:
        raise TopicwireError(
            f"only {len(groups)} labelled articles (after grouping duplicates); "
            "expected at least 10 to make train, validation and test splits"
        )
    rest, test = holdout(Y, np.arange(len(groups)), test_size, seed)
    train, validation = holdout(Y, rest, validation_size / (1 - test_size), seed + 1)
    splits = {
        name: articles_of(groups, members, gold)
        for name, members in zip(SPLITS, (train, validation, test), strict=True)
    }
    return trainable(splits, [r for r in rows if r.get("gold_labels") is None])


def trainable(
    splits: dict[str, list[dict[str, Any]]], without_gold: Sequence[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Train and validation keep the rows that have training labels (rules abstaining on a gold
    article in `use: weak` leave it out); test rows are scored on their gold labels."""
    out = {name: [r for r in splits[name] if r.get("labels") is not None] for name in SPLITS[:2]}
    out["train"] += [r for r in without_gold if r.get("labels") is not None]
    out["test"] = [{**r, "labels": r["gold_labels"], "label_source": GOLD} for r in splits["test"]]
    return out


def fingerprint(splits: dict[str, list[dict[str, Any]]]) -> str:
    """sha256 of the split data's content (ids, text, labels, split), independent of file format."""
    digest = hashlib.sha256()
    for name in SPLITS:
        for row in sorted(splits[name], key=lambda r: r["id"]):
            record = [name, row["id"], row.get("title") or "", row["text"], row["labels"]]
            digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def summarise(
    splits: dict[str, list[dict[str, Any]]], labels: Sequence[str], rows: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    used = {r["id"] for name in SPLITS for r in splits[name]}
    summary: dict[str, Any] = {
        "fingerprint": fingerprint(splits),
        "not_used": sum(1 for r in rows if r["id"] not in used),
        "not_used_unlabelled": sum(
            1 for r in rows if r["id"] not in used and r.get("label_source") == UNLABELLED
        ),
    }
    for name in SPLITS:
        counts = Counter(label for r in splits[name] for label in r["labels"])
        sources = Counter(r.get("label_source") for r in splits[name])
        summary[name] = {
            "articles": len(splits[name]),
            "labels": {label: counts[label] for label in labels},
            "no_topic": sum(1 for r in splits[name] if not r["labels"]),
            "label_sources": dict(sorted(sources.items())),
        }
    return summary


def main() -> None:
    from pathlib import Path

    from pipeline.config import load_params, taxonomy_labels
    from pipeline.dataset import load_articles, save_articles
    from pipeline.io import write_json

    params = load_params()
    rows = load_articles(params.data.labelled).to_list()
    labels = taxonomy_labels(params)
    splits = split_articles(
        rows, labels, params.split.validation_size, params.split.test_size, params.seed
    )
    out = Path(params.data.split_dir)
    for name in SPLITS:
        save_articles(splits[name], out / f"{name}.parquet")
    summary = summarise(splits, labels, rows)
    write_json(REPORT, summary)
    log.info(
        "train %d (%s), validation %d, test %d articles; %d without training labels not used",
        len(splits["train"]),
        ", ".join(f"{n} {s}" for s, n in summary["train"]["label_sources"].items()),
        len(splits["validation"]),
        len(splits["test"]),
        summary["not_used"],
    )
    for name in SPLITS:
        missing = [label for label, n in summary[name]["labels"].items() if n == 0]
        if missing:
            log.warning("%s split has no article labelled %s", name, ", ".join(missing))


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("split", main)
