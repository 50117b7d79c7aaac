"""Feature extractors named in conf/features/ (`_target_`).

Thin factories over scikit-learn: YAML has lists where scikit-learn wants tuples (`ngram_range`),
and every extractor here produces float32 sparse matrices, half the memory of float64.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted


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


class HashedTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF over several kinds of token, each found by its own regular expression and hashed
    into its own block of `n_features` columns; each block is scaled to unit length on its
    own, and only the columns seen in training are kept.

    Example (conf/features/word_prefixes_hashed.yaml): words plus every word's first five
    characters, a cheap stand-in for stemming and character n-grams. Tokens are found by the
    regex engine (a pattern with a group yields the group) and hashed in C, with no vocabulary
    to look up, so this featurises several times faster than character n-grams. Counting is
    stateless: `fit` counts in `n_jobs` processes, then learns the IDF; `transform` runs in
    the calling process (the predict path parallelises whole batches itself).
    """

    def __init__(
        self,
        token_patterns: Sequence[str] = (r"\w\w+",),
        n_features: int = 2**20,
        lowercase: bool = True,
        strip_accents: str | None = None,
        sublinear_tf: bool = True,
        n_jobs: int | None = None,
    ) -> None:
        self.token_patterns = token_patterns
        self.n_features = n_features
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.sublinear_tf = sublinear_tf
        self.n_jobs = n_jobs

    def counts(self, texts: Sequence[str]) -> Any:
        """Term counts, one block of columns per token pattern (stateless)."""
        from scipy import sparse
        from sklearn.feature_extraction import FeatureHasher

        if not self.token_patterns or isinstance(self.token_patterns, str):
            raise ValueError(
                "HashedTfidf: token_patterns is empty or a string; expected a list of regexes"
            )
        for pattern in self.token_patterns:
            if re.compile(pattern).groups > 1:
                raise ValueError(
                    f"HashedTfidf: token pattern {pattern!r} has more than one group; "
                    "expected at most one (the group is the token)"
                )
        preprocess = HashingVectorizer(
            lowercase=self.lowercase, strip_accents=self.strip_accents
        ).build_preprocessor()
        texts = [preprocess(text) for text in texts]
        hasher = FeatureHasher(
            self.n_features, input_type="string", alternate_sign=False, dtype=np.float32
        )
        blocks = []
        for pattern in self.token_patterns:
            find = re.compile(pattern).findall
            blocks.append(hasher.transform(find(text) for text in texts))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def fit(self, X: Sequence[str], y: object = None) -> HashedTfidf:
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Sequence[str], y: object = None) -> Any:
        counts = parallel_transform(_Counter(self), list(X), self.n_jobs)
        # Keep only the columns that occur in training: a linear model gives the others no
        # weight, and dropping them shrinks the model (and its file) from blocks x n_features
        # columns to about the number of distinct tokens seen.
        self.kept_columns_ = np.unique(counts.indices)  # sorted hashed columns
        if len(self.kept_columns_) == 0:
            raise ValueError("HashedTfidf: no token found in the training texts")
        self.column_blocks_ = (self.kept_columns_ // self.n_features).astype(np.int16)
        counts = self._kept(counts)
        self.tfidf_ = TfidfTransformer(norm=None, sublinear_tf=self.sublinear_tf).fit(counts)
        return self._weighted(counts)

    def transform(self, X: Sequence[str]) -> Any:
        check_is_fitted(self, "tfidf_")
        return self._weighted(self._kept(self.counts(list(X))))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Hashed tokens have no names: "#<column>" (as explanations show hashed features)."""
        check_is_fitted(self, "tfidf_")
        return np.asarray([f"#{j}" for j in range(len(self.column_blocks_))], dtype=object)

    def _lookup(self) -> np.ndarray:
        """Hashed column -> kept column (-1: not kept). Rebuilt after loading rather than
        saved: 4 bytes per hashed column would make the file 8 MB; a binary search instead
        of this table would make featurising 20 Newsgroups about 25 % slower."""
        table = self.__dict__.get("_lookup_table")
        if table is None:
            table = np.full(len(self.token_patterns) * self.n_features, -1, dtype=np.int32)
            table[self.kept_columns_] = np.arange(len(self.kept_columns_), dtype=np.int32)
            self._lookup_table = table
        return table

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # a copy: pickling must not change the object
        state.pop("_lookup_table", None)
        return state

    def _kept(self, counts: Any) -> Any:
        """`counts` restricted to the training columns, renumbered (order kept)."""
        from scipy import sparse

        columns = self._lookup()[counts.indices]
        keep = columns >= 0
        indptr = np.concatenate([[0], np.cumsum(keep)])[counts.indptr]
        return sparse.csr_matrix(
            (counts.data[keep], columns[keep], indptr),
            shape=(counts.shape[0], len(self.column_blocks_)),
        )

    def _weighted(self, counts: Any) -> Any:
        """TF-IDF, then each block scaled to unit length on its own (as FeatureUnion would
        give): one norm over all blocks would let the longer block swamp the other."""
        X = self.tfidf_.transform(counts).astype(np.float32, copy=False)
        blocks = len(self.token_patterns)
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        cell = rows * blocks + self.column_blocks_[X.indices]
        norms = np.sqrt(np.bincount(cell, weights=X.data**2, minlength=X.shape[0] * blocks))
        X.data /= np.maximum(norms[cell], 1e-12).astype(np.float32)
        return X


class _Counter:
    """`HashedTfidf.counts` as a transformer, for `parallel_transform`."""

    def __init__(self, features: HashedTfidf) -> None:
        self.features = features

    def transform(self, texts: Sequence[str]) -> Any:
        return self.features.counts(texts)


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
    if all(isinstance(p, list) for p in parts):  # e.g. cleaned texts
        return [row for part in parts for row in part]
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
