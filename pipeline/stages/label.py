"""Stage label: attach gold labels from the annotation files and validate them.

Gold labels come from records' own `labels` field and from annotation files under
data/annotations/ (`.jsonl` or `.csv` records with `id` and `labels`; the sidecar for `.txt`
pages). An annotation file wins over a record's own field. Annotations for an article dropped as
a duplicate label the copy that was kept. Every label is checked against the taxonomy in conf/.
Articles without gold labels stay in the table as "unlabelled" (a later stage version labels them
with topic rules) and are counted in reports/label.json.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import BadRecord, TopicwireError, raise_or_count
from pipeline.readers import parse_labels

log = logging.getLogger("topicwire")
REPORT = "reports/label.json"
GOLD, UNLABELLED = "gold", "unlabelled"


@dataclass(frozen=True)
class Annotation:
    id: str
    labels: list[str]
    source: str
    line: int
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # other fields, kept as is


def read_annotations(path: str | Path) -> Iterator[Annotation | BadRecord]:
    """Annotation records of one file: `.jsonl` or `.csv`, each with `id` and `labels`."""
    import csv

    path = Path(path)
    name = str(path)
    if path.suffix.lower() == ".jsonl":
        with open(path, encoding="utf-8-sig") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except json.JSONDecodeError as exc:
                    yield BadRecord(name, number, f"not valid JSON ({exc.msg})")
                    continue
                yield _annotation(record, name, number)
    elif path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            line = 2
            for record in reader:
                yield _annotation(record, name, line)
                line = reader.line_num + 1
    else:
        raise TopicwireError(f"{path}: unsupported annotation format; expected .jsonl or .csv")


def annotation_files(directory: str | Path) -> list[Path]:
    """The annotation files (.jsonl, .csv) under `directory`, in a stable order."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*") if p.suffix.lower() in {".jsonl", ".csv"})


def _annotation(record: Any, source: str, line: int) -> Annotation | BadRecord:
    if not isinstance(record, dict) or not str(record.get("id") or "").strip():
        return BadRecord(
            source, line, 'missing field \'id\'; expected {"id": ..., "labels": [...]}'
        )
    labels = parse_labels(record.get("labels"))
    if labels is None:
        return BadRecord(source, line, "missing field 'labels'; expected a list ([] for no topic)")
    if isinstance(labels, str):
        return BadRecord(source, line, labels)
    extra = {k: v for k, v in record.items() if k not in ("id", "labels")}
    return Annotation(str(record["id"]).strip(), sorted(set(labels)), source, line, extra)


def attach_labels(
    articles: Sequence[dict[str, Any]],
    annotations: Iterable[Annotation | BadRecord],
    labels: Sequence[str],
    on_bad_record: str = "fail",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Merge gold labels into the articles; the core of the stage, free of file I/O."""
    known = set(labels)
    index = {a["id"]: i for i, a in enumerate(articles)}
    kept_copy = {dup: i for i, a in enumerate(articles) for dup in (a.get("duplicate_ids") or ())}
    skipped: list[BadRecord] = []
    own: dict[int, Annotation] = {}
    via_copy: dict[int, Annotation] = {}
    conflicts: list[str] = []
    for ann in annotations:
        if isinstance(ann, BadRecord):
            raise_or_count(ann, on_bad_record, skipped)
            continue
        unknown = sorted(set(ann.labels) - known)
        target = index.get(ann.id, kept_copy.get(ann.id))
        problem = None
        if unknown:
            problem = (
                f"unknown label(s) {', '.join(map(repr, unknown))}; "
                f"expected labels from the taxonomy: {', '.join(labels)}"
            )
        elif target is None:
            problem = f"no article with id {ann.id!r} in the ingested corpus"
        elif ann.id in index and target in own and own[target].labels != ann.labels:
            first = own[target]
            problem = (
                f"id {ann.id!r} annotated twice with different labels "
                f"(also at {first.source}:{first.line})"
            )
        if problem:
            raise_or_count(BadRecord(ann.source, ann.line, problem), on_bad_record, skipped)
            continue
        (own if ann.id in index else via_copy)[target] = ann

    rows: list[dict[str, Any]] = []
    origins: Counter[str] = Counter()
    overridden = 0
    for i, article in enumerate(articles):
        row = dict(article)
        ann = own.get(i)
        copy = via_copy.get(i)
        if ann and copy and copy.labels != ann.labels:
            conflicts.append(
                f"{copy.source}:{copy.line}: labels {copy.labels} for duplicate "
                f"{copy.id!r} differ from {ann.labels} of kept article {article['id']!r}"
            )
        chosen = ann or copy
        if chosen is not None:
            if article.get("labels") is not None and article["labels"] != chosen.labels:
                overridden += 1
            row["labels"] = chosen.labels
            origins["annotation" if ann else "annotation of a dropped duplicate"] += 1
        elif article.get("labels") is not None:
            origins["record"] += 1
        row["label_source"] = GOLD if row.get("labels") is not None else UNLABELLED
        rows.append(row)

    gold = [r for r in rows if r["label_source"] == GOLD]
    counts = Counter(label for r in gold for label in r["labels"])
    report = {
        "articles": len(rows),
        "gold": len(gold),
        "unlabelled": len(rows) - len(gold),
        "gold_from": dict(sorted(origins.items())),
        "record_labels_overridden_by_annotations": overridden,
        "label_counts": {label: counts[label] for label in labels},
        "no_topic": sum(1 for r in gold if not r["labels"]),
        "multi_topic": sum(1 for r in gold if len(r["labels"]) > 1),
        "bad_annotations_skipped": len(skipped),
        "skipped": [str(b) for b in skipped],
        "duplicate_conflicts": conflicts,
    }
    return rows, report


def main() -> None:
    from pipeline.config import load_params, taxonomy_labels
    from pipeline.dataset import load_articles, save_articles
    from pipeline.io import write_json

    params = load_params()
    data = params.data
    articles = load_articles(data.interim).to_list()
    files = annotation_files(data.annotations_dir)

    def annotations() -> Iterator[Annotation | BadRecord]:
        for path in files:
            yield from read_annotations(path)

    rows, report = attach_labels(
        articles, annotations(), taxonomy_labels(params), on_bad_record=data.on_bad_record
    )
    report["annotation_files"] = [str(p) for p in files]
    save_articles(rows, data.labelled)
    write_json(REPORT, report)
    for bad in report["skipped"]:
        log.warning("skipped %s", bad)
    for conflict in report["duplicate_conflicts"]:
        log.warning("conflict: %s", conflict)
    log.info(
        "%d articles: %d with gold labels, %d unlabelled; label counts %s",
        report["articles"],
        report["gold"],
        report["unlabelled"],
        report["label_counts"],
    )


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("label", main)
