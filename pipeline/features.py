"""Feature extractors named in conf/features/ (`_target_`).

Thin factories over scikit-learn: YAML has lists where scikit-learn wants tuples (`ngram_range`),
and every extractor here produces float32 sparse matrices, half the memory of float64.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
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


def hashed_streaming(
    n_features: int = 2**20, binary: bool = False, norm: str = "l2", **options: Any
) -> HashingVectorizer:
    """Hashed word n-grams with no fitted state at all (no IDF): what out-of-core training
    (model.streaming) needs, since every batch is featurised before the next one is seen."""
    return HashingVectorizer(
        n_features=n_features,
        alternate_sign=False,
        binary=binary,
        norm=norm,
        dtype=np.float32,
        **_tuples(options),
    )


def resolve_n_jobs(n_jobs: int | None) -> int:
    """None or 1: one process; -1: every core; n > 1: n processes (at most the core count)."""
    cores = os.cpu_count() or 1
    if n_jobs is None or n_jobs == 0:
        return 1
    return cores if n_jobs < 0 else min(n_jobs, cores)


def parallel_transform(
    transformer: Any, texts: Sequence[str], n_jobs: int | None = None, min_chunk: int = 500
) -> Any:
    """`transformer.transform(texts)` split across processes, rows stacked back in order.

    Text featurisation (cleaning, tokenising, n-grams) is pure Python and holds the GIL, so
    threads do not help; joblib's loky processes do. Every row depends on its own text only,
    so the result is identical to the serial transform. Below `2 * min_chunk` texts the
    transform runs in this process (shipping the transformer to workers would cost more).
    """
    from joblib import Parallel, delayed
    from scipy import sparse

    jobs = min(resolve_n_jobs(n_jobs), len(texts) // max(min_chunk, 1))
    if jobs <= 1:
        return transformer.transform(texts)
    bounds = np.linspace(0, len(texts), jobs + 1).astype(int)
    parts = Parallel(n_jobs=jobs)(
        delayed(transformer.transform)(texts[a:b])
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    )
    if not all(sparse.issparse(p) for p in parts):
        return np.vstack(parts)
    return sparse.vstack(parts, format="csr", dtype=parts[0].dtype)


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
