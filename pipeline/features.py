"""Feature extractors named in conf/features/ (`_target_`).

Thin factories over scikit-learn: YAML has lists where scikit-learn wants tuples (`ngram_range`),
and every extractor here produces float32 sparse matrices, half the memory of float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline


def _tuples(options: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}


def word_ngrams(**options: Any) -> TfidfVectorizer:
    """TF-IDF over word n-grams; `options` are TfidfVectorizer's parameters."""
    return TfidfVectorizer(dtype=np.float32, **_tuples(options))


def char_ngrams(**options: Any) -> TfidfVectorizer:
    """TF-IDF over character n-grams inside word boundaries (`char_wb`)."""
    return TfidfVectorizer(analyzer="char_wb", dtype=np.float32, **_tuples(options))


def word_and_char_ngrams(word: dict[str, Any], char: dict[str, Any]) -> FeatureUnion:
    """Word and character TF-IDF side by side."""
    return FeatureUnion([("word", word_ngrams(**word)), ("char", char_ngrams(**char))])


def hashed_ngrams(n_features: int = 2**20, sublinear_tf: bool = True, **options: Any) -> Pipeline:
    """Hashed word n-grams weighted by TF-IDF: no vocabulary is kept in memory.

    `alternate_sign` is off so that features stay non-negative (naive Bayes needs that).
    """
    hashing = HashingVectorizer(
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
        **_tuples(options),
    )
    return Pipeline([("hash", hashing), ("tfidf", TfidfTransformer(sublinear_tf=sublinear_tf))])


def compact_vocabularies(features: object) -> None:
    """Store fitted vocabularies as plain ints instead of numpy scalars: same model, and a
    published file that unpickles about twice as fast (cold load is what a CLI call pays)."""
    parts = [features]
    while parts:
        part = parts.pop()
        vocabulary = getattr(part, "vocabulary_", None)
        if isinstance(vocabulary, dict):
            part.vocabulary_ = {term: int(column) for term, column in vocabulary.items()}
        parts += [step for _, step in getattr(part, "transformer_list", [])]
        parts += [step for _, step in getattr(part, "steps", [])]
