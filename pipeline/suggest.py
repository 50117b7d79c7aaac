"""Active learning: which unlabelled articles to annotate next (`topicwire label suggest`).

An article is worth a human's time when the current model is unsure about it: a topic's score
close to that topic's decision threshold. Topics take turns, so every topic gets its most
uncertain articles, and an article too similar to one already chosen (cosine similarity of the
model's own features) is passed over, so a batch does not spend the annotator's time on ten
reports of one event. The batch is written as JSON Lines (add `labels` to each record) and as a
Label Studio import file with its labelling configuration; either, once annotated, goes into
data/annotations/ and becomes gold on the next `dvc repro`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import TopicwireError


@dataclass(frozen=True)
class Candidate:
    id: str
    title: str | None
    text: str


@dataclass(frozen=True)
class Suggestion:
    candidate: Candidate
    topic: str  # the topic whose uncertainty chose it
    uncertainty: float  # 1 at the topic's threshold, 0 at a score of 0 or 1
    scores: dict[str, float]
    predicted: list[str]


def uncertainty(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per article and topic: 1 - distance of the score from the threshold, scaled to [0, 1] by
    the longest distance possible on that side of the threshold."""
    span = np.where(scores >= thresholds, 1.0 - thresholds, thresholds)
    return 1.0 - np.abs(scores - thresholds) / np.maximum(span, 1e-12)


def select(
    uncertain: np.ndarray,
    features: Any,
    n: int,
    max_similarity: float = 0.5,
) -> list[tuple[int, int]]:
    """(article, topic) pairs: topics take turns picking their most uncertain article that is not
    more similar than `max_similarity` (cosine) to one already picked."""
    from sklearn.preprocessing import normalize

    vectors = normalize(features)
    # Each topic's articles, most uncertain first; `next_of[j]` is how far topic j has got.
    order = np.argsort(-uncertain, axis=0, kind="stable").T
    next_of = [0] * uncertain.shape[1]
    picked: list[tuple[int, int]] = []
    taken: set[int] = set()
    while len(picked) < n and any(k < len(uncertain) for k in next_of):
        for j, queue in enumerate(order):
            while next_of[j] < len(queue):
                i = int(queue[next_of[j]])
                next_of[j] += 1
                if i in taken:
                    continue
                if taken:
                    rows = sorted(taken)
                    if (vectors[rows] @ vectors[i].T).toarray().max() > max_similarity:
                        continue
                picked.append((i, j))
                taken.add(i)
                break
            if len(picked) == n:
                break
    return picked


def suggest(
    model: Any, candidates: Sequence[Candidate], n: int, max_similarity: float = 0.5
) -> list[Suggestion]:
    """The `n` candidates to annotate next, most useful first."""
    from pipeline.text import join_title_body

    if n < 1:
        raise TopicwireError(f"the number of articles to suggest must be at least 1, got {n}")
    if not candidates:
        return []
    texts = [join_title_body(c.title, c.text) for c in candidates]
    # Featurise once: the same features give the scores and the similarity between candidates.
    features = model.pipeline[:-1].transform(texts)
    scores = model.pipeline[-1].predict_proba(features)
    u = uncertainty(scores, model.pipeline[-1].thresholds_)
    picked = select(u, features, n, max_similarity)
    predicted = model.labels_from_scores(scores)
    return [
        Suggestion(
            candidates[i],
            model.labels[j],
            round(float(u[i, j]), 6),
            {label: round(float(s), 6) for label, s in zip(model.labels, scores[i], strict=True)},
            predicted[i],
        )
        for i, j in picked
    ]


def label_studio_config(taxonomy: dict[str, str]) -> str:
    """Label Studio labelling configuration: the article, and one checkbox per topic."""
    choices = "\n".join(
        f'    <Choice value="{html.escape(label)}" hint="{html.escape(hint)}"/>'
        for label, hint in taxonomy.items()
    )
    return (
        "<View>\n"
        '  <Header value="$title"/>\n'
        '  <Text name="article" value="$text"/>\n'
        '  <Choices name="topics" toName="article" choice="multiple" showInline="false">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def write_suggestions(
    suggestions: Sequence[Suggestion], out: str | Path, model_version: str, taxonomy: dict[str, str]
) -> dict[str, Path]:
    """Write the batch: JSON Lines, a Label Studio import file and its labelling config."""
    from pipeline.io import write_text

    out = Path(out)
    if out.suffix != ".jsonl":
        raise TopicwireError(f"{out}: the output must be a .jsonl file")
    stem = out.with_suffix("")
    paths = {
        "jsonl": out,
        "label_studio": stem.with_name(stem.name + ".label-studio.json"),
        "label_config": stem.with_name(stem.name + ".label-studio.xml"),
    }
    lines = []
    tasks = []
    for rank, s in enumerate(suggestions, start=1):
        c = s.candidate
        lines.append(
            json.dumps(
                {
                    "id": c.id,
                    "title": c.title,
                    "text": c.text,
                    "suggested_labels": s.predicted,
                    "scores": s.scores,
                    "uncertain_topic": s.topic,
                    "uncertainty": s.uncertainty,
                    "rank": rank,
                },
                ensure_ascii=False,
            )
        )
        tasks.append(
            {
                "data": {"id": c.id, "title": c.title or "", "text": c.text},
                "predictions": [
                    {
                        "model_version": model_version,
                        "score": 1 - s.uncertainty,
                        "result": [
                            {
                                "from_name": "topics",
                                "to_name": "article",
                                "type": "choices",
                                "value": {"choices": s.predicted},
                            }
                        ],
                    }
                ],
            }
        )
    write_text(paths["jsonl"], "".join(line + "\n" for line in lines))
    write_text(paths["label_studio"], json.dumps(tasks, ensure_ascii=False, indent=1) + "\n")
    write_text(paths["label_config"], label_studio_config(taxonomy))
    return paths


def candidates_from_table(path: str | Path) -> tuple[list[Candidate], int]:
    """The articles of the label stage's table that have no gold labels, and how many have."""
    from pipeline.dataset import load_articles

    rows = load_articles(path)
    candidates = []
    gold = 0
    for row in rows:
        if row.get("gold_labels") is not None:
            gold += 1
            continue
        candidates.append(Candidate(row["id"], row.get("title"), row["text"]))
    return candidates, gold
