"""Exact and near-duplicate detection."""

from __future__ import annotations

import pytest

from pipeline.dedup import duplicate_groups, near_duplicate_pairs

BASE = (
    "The regional grid operator ordered rolling blackouts on Tuesday after a fire gutted the "
    "main substation feeding the port district, and engineers said repairs would take a week "
    "while hospitals switched to backup generators and schools closed early across the city"
)


def test_near_copy_with_an_extra_sentence_is_found():
    texts = [
        BASE,
        BASE + " The mayor called for calm.",
        "A different story about sanctions on "
        "shipping firms accused of moving oil above the price cap through the Gulf waters.",
    ]
    [pair] = near_duplicate_pairs(texts, threshold=0.8)
    assert (pair.first, pair.second) == (0, 1) and 0.8 <= pair.similarity < 1


def test_threshold_decides():
    edited = BASE.replace("Tuesday", "Wednesday").replace("a week", "ten days")
    similarity = near_duplicate_pairs([BASE, edited], threshold=0.01)[0].similarity
    assert near_duplicate_pairs([BASE, edited], threshold=similarity) != []
    assert near_duplicate_pairs([BASE, edited], threshold=min(1.0, similarity + 0.01)) == []


def test_groups_are_transitive_and_exact_matches_ignore_case_and_spacing():
    texts = [BASE, "short text", BASE.upper(), "SHORT   text", BASE + " Extra words here."]
    group, how = duplicate_groups(texts, threshold=0.8)
    assert group == [0, 1, 0, 1, 0]
    assert how[2] == ("exact", 1.0) and how[3] == ("exact", 1.0) and how[4][0] == "near"


def test_bad_threshold_is_refused():
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\]"):
        near_duplicate_pairs(["a b", "c d"], threshold=0)
