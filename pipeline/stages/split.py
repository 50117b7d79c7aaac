"""Stage split: labelled articles -> train / validation / test, stratified for multi-label.

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
from pipeline.stages.label import GOLD

log = logging.getLogger("topicwire")
SPLITS = ("train", "validation", "test")
REPORT = "reports/split.json"


def duplicate_groups_matrix(
    gold: Sequence[dict[str, Any]], labels: Sequence[str]
) -> tuple[list[list[int]], np.ndarray]:
    """Groups of article indices (near copies together) and a label matrix per group, with a
    last column for "no topic" so that topic-less articles are stratified too."""
    by_key: dict[str, list[int]] = {}
    for i, row in enumerate(gold):
        by_key.setdefault(row.get("dup_group") or row["id"], []).append(i)
    groups = [by_key[key] for key in sorted(by_key)]
    index = {label: j for j, label in enumerate(labels)}
    Y = np.zeros((len(groups), len(labels) + 1), dtype=np.int8)
    for g, members in enumerate(groups):
        for i in members:
            for label in gold[i]["labels"]:
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
    """Assign every gold-labelled article to one split; the core of the stage."""
    if not (0 < validation_size < 1 and 0 < test_size < 1 and validation_size + test_size < 1):
        raise TopicwireError(
            f"split sizes must be fractions with validation_size + test_size < 1, got "
            f"validation_size={validation_size}, test_size={test_size}"
        )
    gold = [r for r in rows if r.get("label_source") == GOLD]
    groups, Y = duplicate_groups_matrix(gold, labels)
    if len(groups) < 10:
        raise TopicwireError(
            f"only {len(groups)} labelled articles (after grouping duplicates); "
            "expected at least 10 to make train, validation and test splits"
        )
    rest, test = holdout(Y, np.arange(len(groups)), test_size, seed)
    train, validation = holdout(Y, rest, validation_size / (1 - test_size), seed + 1)
    return {
        name: articles_of(groups, members, gold)
        for name, members in zip(SPLITS, (train, validation, test), strict=True)
    }


def fingerprint(splits: dict[str, list[dict[str, Any]]]) -> str:
    """sha256 of the split data's content (ids, text, labels, split), independent of file format."""
    digest = hashlib.sha256()
    for name in SPLITS:
        for row in sorted(splits[name], key=lambda r: r["id"]):
            record = [name, row["id"], row.get("title") or "", row["text"], row["labels"]]
            digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def summarise(
    splits: dict[str, list[dict[str, Any]]], labels: Sequence[str], unlabelled: int
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "fingerprint": fingerprint(splits),
        "unlabelled_not_used": unlabelled,
    }
    for name in SPLITS:
        counts = Counter(label for r in splits[name] for label in r["labels"])
        summary[name] = {
            "articles": len(splits[name]),
            "labels": {label: counts[label] for label in labels},
            "no_topic": sum(1 for r in splits[name] if not r["labels"]),
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
    unlabelled = sum(1 for r in rows if r.get("label_source") != GOLD)
    out = Path(params.data.split_dir)
    for name in SPLITS:
        save_articles(splits[name], out / f"{name}.parquet")
    summary = summarise(splits, labels, unlabelled)
    write_json(REPORT, summary)
    log.info(
        "train %d, validation %d, test %d articles; %d unlabelled not used",
        *(len(splits[n]) for n in SPLITS),
        unlabelled,
    )
    for name in SPLITS:
        missing = [label for label, n in summary[name]["labels"].items() if n == 0]
        if missing:
            log.warning("%s split has no article labelled %s", name, ", ".join(missing))


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("split", main)
