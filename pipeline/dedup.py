"""Exact and near-duplicate detection over word shingles.

Two articles are near copies when the Jaccard similarity of their sets of k-word shingles is at
least a threshold. Shingles are hashed into a sparse binary matrix (scikit-learn's
HashingVectorizer); the intersections of all pairs come from one sparse product per block of
rows, so memory stays bounded and only pairs that share a shingle are ever looked at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer


@dataclass(frozen=True)
class DuplicatePair:
    first: int  # index of the earlier article
    second: int  # index of the later article
    similarity: float


def exact_key(text: str) -> str:
    """Case- and whitespace-insensitive identity of a text."""
    return " ".join(text.casefold().split())


def near_duplicate_pairs(
    texts: Sequence[str], threshold: float = 0.8, shingle_words: int = 5, block: int = 2048
) -> list[DuplicatePair]:
    """All pairs (i < j) whose shingle Jaccard similarity is >= threshold."""
    if not 0 < threshold <= 1:
        raise ValueError(f"near-duplicate threshold must be in (0, 1], got {threshold}")
    if len(texts) < 2:
        return []
    shingles = (
        HashingVectorizer(
            analyzer="word",
            ngram_range=(shingle_words, shingle_words),
            n_features=2**24,
            binary=True,
            norm=None,
            alternate_sign=False,
            dtype=np.float32,
        )
        .transform(texts)
        .tocsr()
    )
    sizes = np.diff(shingles.indptr).astype(np.float64)
    pairs: list[DuplicatePair] = []
    transposed = shingles.T.tocsc()
    for start in range(0, shingles.shape[0], block):
        shared = (shingles[start : start + block] @ transposed).tocoo()
        rows = shared.row + start
        keep = rows < shared.col
        rows, cols, inter = rows[keep], shared.col[keep], shared.data[keep].astype(np.float64)
        union = sizes[rows] + sizes[cols] - inter
        jaccard = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        for i, j, sim in zip(rows, cols, jaccard, strict=True):
            if sim >= threshold:
                pairs.append(DuplicatePair(int(i), int(j), float(sim)))
    pairs.sort(key=lambda p: (p.first, p.second))
    return pairs


def duplicate_groups(
    texts: Sequence[str], threshold: float = 0.8, shingle_words: int = 5
) -> tuple[list[int], dict[int, tuple[str, float]]]:
    """Group exact and near copies.

    Returns `group` (for each article, the index of the first article of its group) and, for
    every article that is not first in its group, how it matched: ("exact" | "near", similarity).
    """
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    how: dict[int, tuple[str, float]] = {}
    first_seen: dict[str, int] = {}
    for i, text in enumerate(texts):
        key = exact_key(text)
        if key in first_seen:
            union(first_seen[key], i)
            how[i] = ("exact", 1.0)
        else:
            first_seen[key] = i
    for pair in near_duplicate_pairs(texts, threshold, shingle_words):
        union(pair.first, pair.second)
        if pair.second not in how or how[pair.second][0] == "near":
            best = how.get(pair.second, ("near", 0.0))[1]
            how[pair.second] = ("near", max(best, pair.similarity))
    group = [find(i) for i in range(len(texts))]
    how = {i: m for i, m in how.items() if group[i] != i}
    return group, how
