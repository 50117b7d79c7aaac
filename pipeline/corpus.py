"""Corpus statistics and quality checks: what the data card reports and the tests enforce.

Reads a corpus as the pipeline does (every input format under the raw directory, labels from the
records and the annotation files) and measures it: label counts and co-occurrence, lengths,
formats, regions, years, styles; near duplicates (TF-IDF cosine) and repeated sentences
(templates); agreement between two labelling passes (F1 and Cohen's kappa per label).

    python -m pipeline.corpus            # statistics of data/ as Markdown tables
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.readers import RawArticle, read_raw_dir
from pipeline.text import ArticleCleaner

FORMAT_NAMES = {
    ".txt": "raw page (.txt)",
    ".jsonl": "JSON Lines",
    ".csv": "CSV",
    ".parquet": "Parquet",
}


@dataclass
class CorpusArticle:
    id: str
    title: str
    body: str
    labels: list[str]
    format: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def words(self) -> int:
        return len(self.body.split())


def load_corpus(
    raw_dir: str | Path, annotations_dir: str | Path, cleaner: ArticleCleaner
) -> list[CorpusArticle]:
    """Every article with its gold labels and metadata; fails on any bad record."""
    from pipeline.errors import BadRecord, TopicwireError
    from pipeline.stages.label import annotation_files, read_annotations

    notes: dict[str, Any] = {}
    for path in annotation_files(annotations_dir):
        for ann in read_annotations(path):
            if isinstance(ann, BadRecord):
                raise TopicwireError(str(ann))
            notes[ann.id] = ann
    articles = []
    for path, record in read_raw_dir(raw_dir):
        if isinstance(record, BadRecord):
            raise TopicwireError(str(record))
        articles.append(_article(record, notes.get(record.id), path.suffix.lower(), cleaner))
    return articles


def _article(record: RawArticle, note: Any, suffix: str, cleaner: ArticleCleaner) -> CorpusArticle:
    clean = cleaner.clean(record.text, record.title)
    labels = note.labels if note is not None else record.labels
    meta = {**record.extra, **(note.extra if note is not None else {})}
    return CorpusArticle(record.id, clean.title, clean.body, list(labels or []), suffix, meta)


def _share(n: int, total: int) -> float:
    return round(n / total, 4) if total else 0.0


def statistics_of(articles: Sequence[CorpusArticle], labels: Sequence[str]) -> dict[str, Any]:
    """Counts and shares that the data card reports and the corpus tests check."""
    n = len(articles)
    words = [a.words for a in articles]
    topical = [a for a in articles if a.labels]
    label_counts = Counter(label for a in articles for label in a.labels)
    cooccurrence = {
        first: {
            second: sum(1 for a in articles if first in a.labels and second in a.labels)
            for second in labels
        }
        for first in labels
    }
    years = Counter(str(a.meta.get("published", ""))[:4] or "unknown" for a in articles)
    return {
        "articles": n,
        "label_counts": {label: label_counts[label] for label in labels},
        "label_shares": {label: _share(label_counts[label], n) for label in labels},
        "no_topic": _share(n - len(topical), n),
        "multi_topic": _share(sum(1 for a in articles if len(a.labels) > 1), n),
        "labels_per_article": dict(sorted(Counter(len(a.labels) for a in articles).items())),
        "cooccurrence": cooccurrence,
        "words": {
            "median": statistics.median(words) if words else 0,
            "p10": float(np.percentile(words, 10)) if words else 0,
            "p90": float(np.percentile(words, 90)) if words else 0,
            "max": max(words, default=0),
            "over_500": _share(sum(w > 500 for w in words), n),
            "under_100": _share(sum(w < 100 for w in words), n),
        },
        "formats": dict(sorted(Counter(a.format for a in articles).items())),
        "kinds": dict(sorted(Counter(a.meta.get("kind", "unknown") for a in articles).items())),
        "styles": dict(sorted(Counter(a.meta.get("style", "unknown") for a in articles).items())),
        "regions": dict(sorted(Counter(a.meta.get("region", "unknown") for a in articles).items())),
        "ukraine_russia_share_of_topical": _share(
            sum(1 for a in topical if a.meta.get("region") == "ukraine_russia"), len(topical)
        ),
        "years": dict(sorted(years.items())),
    }


def similar_pairs(texts: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """Pairs (i < j) whose TF-IDF cosine similarity (word 1–2-grams) is above `threshold`."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, min_df=1, dtype=np.float32
    ).fit_transform(texts)
    found = []
    for start in range(0, X.shape[0], 1024):
        sims = (X[start : start + 1024] @ X.T).tocoo()
        for i, j, s in zip(sims.row + start, sims.col, sims.data, strict=True):
            if i < j and s > threshold:
                found.append((int(i), int(j), round(float(s), 4)))
    return sorted(found)


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def repeated_sentences(texts: Sequence[str], min_words: int = 10) -> dict[str, list[int]]:
    """Sentences of at least `min_words` words that appear in more than one text (templates)."""
    seen: dict[str, set[int]] = {}
    for i, text in enumerate(texts):
        for sentence in _SENTENCE.split(text):
            key = " ".join(sentence.casefold().split())
            if len(key.split()) >= min_words:
                seen.setdefault(key, set()).add(i)
    return {s: sorted(ids) for s, ids in seen.items() if len(ids) > 1}


def agreement(
    first: Mapping[str, Sequence[str]], second: Mapping[str, Sequence[str]], labels: Sequence[str]
) -> dict[str, Any]:
    """Agreement of two labelling passes over the same articles: F1 of one against the other
    (symmetric) and Cohen's kappa, per label and overall (micro)."""
    import warnings

    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import f1_score

    from pipeline.classifier import label_matrix

    ids = sorted(set(first) & set(second))
    A = label_matrix([first[i] for i in ids], labels)
    B = label_matrix([second[i] for i in ids], labels)
    with warnings.catch_warnings():  # a label nobody used: kappa is undefined, agreement is total
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        per_label = _per_label_agreement(A, B, labels)
    return {
        "articles": len(ids),
        "micro_f1": round(float(f1_score(A, B, average="micro", zero_division=1.0)), 4),
        "identical_label_sets": _share(int((A == B).all(axis=1).sum()), len(ids)),
        "per_label": per_label,
    }


def _per_label_agreement(A: np.ndarray, B: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import cohen_kappa_score, f1_score

    return {
        label: {
            "f1": round(float(f1_score(A[:, j], B[:, j], zero_division=1.0)), 4),
            "kappa": round(
                float(cohen_kappa_score(A[:, j], B[:, j], labels=[0, 1], replace_undefined_by=1.0)),
                4,
            ),
            "disagreements": int((A[:, j] != B[:, j]).sum()),
        }
        for j, label in enumerate(labels)
    }


def markdown(stats: dict[str, Any], labels: Sequence[str]) -> str:
    """The statistics as the Markdown tables of the data card."""
    n = stats["articles"]
    out = [
        f"Articles: **{n}**. No topic: {stats['no_topic']:.1%}. Two or more topics: "
        f"{stats['multi_topic']:.1%}. Ukraine and Russia: "
        f"{stats['ukraine_russia_share_of_topical']:.1%} of topical articles.",
        "",
        "| label | articles | share |",
        "|---|---|---|",
    ]
    out += [
        f"| `{label}` | {stats['label_counts'][label]} | {stats['label_shares'][label]:.1%} |"
        for label in labels
    ]
    out += [
        "",
        "Co-occurrence (articles carrying both labels):",
        "",
        "| | " + " | ".join(f"`{label}`" for label in labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    out += [
        f"| `{a}` | " + " | ".join(str(stats["cooccurrence"][a][b]) for b in labels) + " |"
        for a in labels
    ]
    w = stats["words"]
    out += [
        "",
        f"Body length in words: median {w['median']:.0f}, 10th percentile {w['p10']:.0f}, "
        f"90th percentile {w['p90']:.0f}, longest {w['max']}; {w['over_500']:.1%} over 500 "
        f"words, {w['under_100']:.1%} under 100.",
        "",
    ]
    for title, key, names in (
        ("Format", "formats", FORMAT_NAMES),
        ("Kind", "kinds", {}),
        ("Style", "styles", {}),
        ("Region", "regions", {}),
        ("Year", "years", {}),
    ):
        out += [f"| {title.lower()} | articles | share |", "|---|---|---|"]
        out += [f"| {names.get(k, k)} | {v} | {v / n:.1%} |" for k, v in stats[key].items()]
        out.append("")
    return "\n".join(out)


def main() -> None:
    from pipeline.config import load_params, taxonomy_labels, to_plain

    params = load_params()
    labels = taxonomy_labels(params)
    cleaner = ArticleCleaner(**to_plain(params.cleaning))
    articles = load_corpus(params.data.raw_dir, params.data.annotations_dir, cleaner)
    print(markdown(statistics_of(articles, labels), labels))


if __name__ == "__main__":
    main()
