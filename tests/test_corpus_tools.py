"""Corpus statistics, duplicate and template checks, agreement, and cross-validation."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf

from pipeline.corpus import (
    CorpusArticle,
    agreement,
    repeated_sentences,
    similar_pairs,
    statistics_of,
)

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["arms_transfers", "energy_infrastructure", "evacuations", "sanctions"]


def test_agreement_hand_computed():
    first = {"a": ["sanctions"], "b": [], "c": ["sanctions", "evacuations"], "d": ["evacuations"]}
    second = {"a": ["sanctions"], "b": ["sanctions"], "c": ["sanctions"], "d": ["evacuations"]}
    result = agreement(first, second, LABELS)
    # sanctions: both say yes on a, c; only second on b -> F1 = 2*2/(2*2+1) = 0.8
    assert result["per_label"]["sanctions"]["f1"] == 0.8
    # kappa for sanctions: observed 3/4; expected 0.5*0.25+0.5*0.75... computed by hand = 0.5
    assert result["per_label"]["sanctions"]["kappa"] == 0.5
    assert result["per_label"]["evacuations"]["disagreements"] == 1
    # micro: TP 3 (a-s, c-s, d-e), FP/FN 2 (b-s, c-e) -> 6/8
    assert result["micro_f1"] == 0.75 and result["identical_label_sets"] == 0.5


def test_statistics_of_counts_and_shares():
    arts = [
        CorpusArticle(
            "a",
            "T",
            "w " * 600,
            ["sanctions", "arms_transfers"],
            ".txt",
            {"region": "ukraine_russia", "kind": "standard", "published": "2023-01-02"},
        ),
        CorpusArticle("b", "T", "w " * 50, [], ".jsonl", {"region": "africa"}),
        CorpusArticle("c", "T", "w " * 300, ["evacuations"], ".csv", {"region": "asia"}),
    ]
    stats = statistics_of(arts, LABELS)
    assert stats["articles"] == 3 and stats["no_topic"] == round(1 / 3, 4)
    assert stats["multi_topic"] == round(1 / 3, 4)
    assert stats["cooccurrence"]["sanctions"]["arms_transfers"] == 1
    assert stats["words"]["median"] == 300 and stats["words"]["over_500"] == round(1 / 3, 4)
    assert stats["ukraine_russia_share_of_topical"] == 0.5
    assert stats["years"] == {"2023": 1, "unknown": 2}


def test_similar_pairs_and_repeated_sentences():
    base = (
        "Engineers restored power to the eastern districts after the substation fire, the "
        "grid operator said, while hospitals kept running on generators through the night."
    )
    texts = [base, base + " Schools reopen on Monday.", "Sanctions on shipping firms widened."]
    assert [p[:2] for p in similar_pairs(texts, 0.5)] == [(0, 1)]
    assert list(repeated_sentences(texts, min_words=10).values()) == [[0, 1]]
    assert repeated_sentences(texts, min_words=40) == {}


def test_cross_validation_covers_every_article_once_and_is_deterministic():
    from pipeline.crossval import cross_validate
    from pipeline.stages.compose import compose

    params = OmegaConf.create(compose(ROOT / "conf"))
    rows = [
        json.loads(line)
        for path in sorted((ROOT / "data/raw").rglob("*.jsonl"))
        for line in path.open(encoding="utf-8")
    ]
    gold = [{**r, "dup_group": r["id"]} for r in rows if r.get("labels") is not None]
    first = cross_validate(gold, LABELS, params, folds=3)
    assert sum(f["test_articles"] for f in first["per_fold"]) == len(gold)
    assert first == cross_validate(gold, LABELS, params, folds=3)
    assert 0 <= first["micro_f1"]["mean"] <= 1 and first["micro_f1"]["std"] >= 0
