"""The split: stratified, reproducible, and duplicates never straddle two splits."""

from __future__ import annotations

import random

import pytest

from pipeline.errors import TopicwireError
from pipeline.stages.split import SPLITS, fingerprint, split_articles

LABELS = ["arms_transfers", "energy_infrastructure", "evacuations", "sanctions"]


def corpus(n=200, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        labels = sorted({label for label in LABELS if rng.random() < 0.25})
        rows.append(
            {
                "id": f"a{i:03d}",
                "title": "",
                "text": f"text {i}",
                "labels": labels,
                "gold_labels": labels,
                "label_source": "gold",
                "dup_group": f"a{i:03d}",
            }
        )
    for i in range(0, min(n - 1, 40), 4):  # groups of near copies
        rows[i + 1]["dup_group"] = rows[i]["id"]
    rows.append(
        {
            "id": "u1",
            "title": "",
            "text": "unlabelled",
            "labels": None,
            "gold_labels": None,
            "label_source": "unlabelled",
            "dup_group": "u1",
        }
    )
    return rows


def ids(splits):
    return {name: [r["id"] for r in splits[name]] for name in SPLITS}


def test_every_labelled_article_in_exactly_one_split():
    splits = split_articles(corpus(), LABELS, 0.15, 0.15, seed=1)
    all_ids = [i for name in SPLITS for i in ids(splits)[name]]
    assert sorted(all_ids) == sorted(r["id"] for r in corpus() if r["label_source"] == "gold")
    assert len(splits["test"]) == pytest.approx(30, abs=8)
    assert len(splits["validation"]) == pytest.approx(30, abs=8)


def test_duplicate_groups_stay_together():
    splits = split_articles(corpus(), LABELS, 0.15, 0.15, seed=3)
    where = {r["id"]: name for name in SPLITS for r in splits[name]}
    for i in range(0, 40, 4):
        assert where[f"a{i:03d}"] == where[f"a{i + 1:03d}"]


def test_labels_are_stratified():
    splits = split_articles(corpus(400), LABELS, 0.2, 0.2, seed=5)
    for label in LABELS:
        shares = [sum(label in r["labels"] for r in splits[n]) / len(splits[n]) for n in SPLITS]
        assert max(shares) - min(shares) < 0.06, (label, shares)


def test_same_seed_same_split_other_seed_other_split():
    a = split_articles(corpus(), LABELS, 0.15, 0.15, seed=7)
    b = split_articles(corpus(), LABELS, 0.15, 0.15, seed=7)
    c = split_articles(corpus(), LABELS, 0.15, 0.15, seed=8)
    assert ids(a) == ids(b) and ids(a) != ids(c)
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)


def test_bad_sizes_and_tiny_corpora_are_refused():
    with pytest.raises(TopicwireError, match="validation_size \\+ test_size < 1"):
        split_articles(corpus(), LABELS, 0.5, 0.5, seed=0)
    with pytest.raises(
        TopicwireError, match="only 4 labelled articles \\(after grouping duplicates\\)"
    ):
        split_articles(corpus(5), LABELS, 0.2, 0.2, seed=0)


def test_weak_labels_train_while_validation_and_test_stay_gold_articles():
    rows = corpus()
    # `use: weak`: gold articles train on rule labels (here: none); where the rules abstained,
    # an article has no training labels; an article without gold with rule labels trains too.
    for i, row in enumerate(rows[:-1]):
        row["labels"], row["label_source"] = (None, "unlabelled") if i % 10 == 0 else ([], "weak")
    rows.append(
        {**rows[-1], "id": "w1", "dup_group": "w1", "labels": ["sanctions"], "label_source": "weak"}
    )
    gold_splits = split_articles(corpus(), LABELS, 0.15, 0.15, seed=1)
    splits = split_articles(rows, LABELS, 0.15, 0.15, seed=1)
    # the same test articles whatever the model trains on, scored on their gold labels
    assert ids(splits)["test"] == ids(gold_splits)["test"]
    assert [r["labels"] for r in splits["test"]] == [r["labels"] for r in gold_splits["test"]]
    assert {r["label_source"] for r in splits["test"]} == {"gold"}
    train = {r["id"]: r for r in splits["train"]}
    assert train["w1"]["labels"] == ["sanctions"] and "u1" not in train
    abstained = {r["id"] for r in rows[:-2] if r["label_source"] == "unlabelled"}
    assert not abstained & (set(train) | set(ids(splits)["validation"]))
    assert all(r["labels"] == [] for r in splits["validation"])
