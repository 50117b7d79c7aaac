"""Article tables between stages, stored and loaded with Hugging Face `datasets` as Parquet."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datasets import Dataset, Features, Value
from datasets import Sequence as ListOf

from pipeline.errors import TopicwireError
from pipeline.io import atomic_path

# One schema for every stage's table. `labels` (the labels the model trains on) is null for an
# article with none and an empty list for an article labelled with no topic; `label_source` says
# where they came from (gold, weak or unlabelled). `gold_labels` are the annotators' labels,
# `held_out_labels` the true labels of a simulated unlabelled pool (kept only to measure the
# rules), `weak_*` what the topic rules said (conf/labels/).
ARTICLE_FEATURES = Features(
    {
        "id": Value("string"),
        "title": Value("string"),
        "text": Value("string"),
        "labels": ListOf(Value("string")),
        "label_source": Value("string"),
        "gold_labels": ListOf(Value("string")),
        "held_out_labels": ListOf(Value("string")),
        "weak_labels": ListOf(Value("string")),
        "weak_abstained": ListOf(Value("string")),
        "weak_scores": ListOf(Value("float32")),
        "weak_confidence": Value("float32"),
        "source": Value("string"),
        "line": Value("int64"),
        "duplicate_ids": ListOf(Value("string")),
        "dup_group": Value("string"),
    }
)


def save_articles(rows: Sequence[dict[str, Any]], path: str | os.PathLike) -> None:
    """Write rows atomically as Parquet (missing columns are null)."""
    columns = {name: [row.get(name) for row in rows] for name in ARTICLE_FEATURES}
    table = Dataset.from_dict(columns, features=ARTICLE_FEATURES)
    with atomic_path(path) as tmp:
        table.to_parquet(str(tmp))


def load_articles(path: str | os.PathLike) -> Dataset:
    path = Path(path)
    if not path.is_file():
        raise TopicwireError(f"{path}: not found; run the earlier stages with `dvc repro`")
    return Dataset.from_parquet(str(path), features=ARTICLE_FEATURES, keep_in_memory=True)
