"""Stage label: gold labels where annotators gave them, topic-rule labels elsewhere.

Gold labels come from records' own `labels` field and from annotation files under
data/annotations/ (`.jsonl` or `.csv` records with `id` and `labels`, or a Label Studio JSON
export; the sidecar for `.txt` pages). An annotation file wins over a record's own field.
Annotations for an article dropped as a duplicate label the copy that was kept. Every label is
checked against the taxonomy in conf/.

Then the topic rules (conf/labels/, pipeline/rules.py) label every article, and
`label_sources.use` decides what the model trains on: `gold` only, `weak` (rule) labels only, or
`both` — gold wins where it exists. `label_sources.pool_fraction` turns a share of the gold
articles into a simulated unlabelled pool: their labels are hidden from training and kept only to
measure the rules. reports/label.json counts every source and holds the rules' analysis against
the known labels: coverage, overlap, conflicts, precision and recall per rule and per topic.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import BadRecord, TopicwireError, raise_or_count
from pipeline.readers import parse_labels
from pipeline.rules import TopicRuleSet, rule_analysis, topic_analysis

log = logging.getLogger("topicwire")
REPORT = "reports/label.json"
GOLD, WEAK, UNLABELLED = "gold", "weak", "unlabelled"
USES = ("gold", "weak", "both")


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
    elif path.suffix.lower() == ".json":
        yield from read_label_studio_export(path)
    elif path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            line = 2
            for record in reader:
                yield _annotation(record, name, line)
                line = reader.line_num + 1
    else:
        raise TopicwireError(
            f"{path}: unsupported annotation format; expected .jsonl, .csv or .json (Label Studio)"
        )


def read_label_studio_export(path: str | Path) -> Iterator[Annotation | BadRecord]:
    """Annotations from a Label Studio JSON export of tasks made by `topicwire label suggest`.

    Each task's `data.id` is the article id; the latest annotation's `choices` are its labels
    (none chosen = no topic). Tasks nobody annotated are skipped and counted as bad records, so
    they are neither lost silently nor taken for "no topic".
    """
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            tasks = json.load(fh)
    except json.JSONDecodeError as exc:
        yield BadRecord(name, exc.lineno, f"not valid JSON ({exc.msg})")
        return
    if not isinstance(tasks, list):
        yield BadRecord(name, 1, "expected a Label Studio export: a JSON list of tasks")
        return
    for number, task in enumerate(tasks, start=1):
        where = f"task {number}"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not str(data.get("id") or "").strip():
            yield BadRecord(name, number, f"{where}: no data.id; expected the article id")
            continue
        done = [a for a in task.get("annotations") or () if not a.get("was_cancelled")]
        if not done:
            yield BadRecord(name, number, f"{where} ({data['id']}): not annotated yet")
            continue
        latest = max(done, key=lambda a: (str(a.get("updated_at") or ""), a.get("id") or 0))
        chosen = [
            choice
            for result in latest.get("result") or ()
            if result.get("type") == "choices"
            for choice in (result.get("value") or {}).get("choices") or ()
        ]
        yield _annotation({"id": data["id"], "labels": chosen}, name, number)


def annotation_files(directory: str | Path) -> list[Path]:
    """Annotation files (.jsonl, .csv, Label Studio .json) under `directory`, in a stable order."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    suffixes = {".jsonl", ".csv", ".json"}
    return sorted(p for p in directory.rglob("*") if p.suffix.lower() in suffixes)


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


def in_pool(article_id: str, fraction: float, seed: int) -> bool:
    """Whether a gold article belongs to the simulated unlabelled pool: a stable draw per id, so
    an article stays in (or out of) the pool when the corpus grows."""
    digest = hashlib.sha256(f"{seed}:{article_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def training_labels(row: dict[str, Any], use: str) -> tuple[list[str] | None, str]:
    """The labels an article trains on, and their source, when the model uses `use` labels."""
    gold, weak = row.get("gold_labels"), row.get("weak_labels")
    # Rule labels are usable when the rules decided at least one topic; the topics they
    # abstained on are left out of those topics' models (see train.training_matrix).
    abstained = row.get("weak_abstained") or ()
    usable_weak = weak is not None and len(abstained) < len(row.get("weak_scores") or ())
    if use in ("gold", "both") and gold is not None:
        return gold, GOLD
    if use in ("weak", "both") and usable_weak:
        return weak, WEAK
    return None, UNLABELLED


def gold_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The articles with gold labels, labelled with them (whatever the model trains on)."""
    return [
        {**r, "labels": r["gold_labels"], "label_source": GOLD}
        for r in rows
        if r.get("gold_labels") is not None
    ]


def apply_rules(
    rows: Sequence[dict[str, Any]],
    ruleset: TopicRuleSet,
    use: str = "both",
    pool_fraction: float = 0.0,
    seed: int = 0,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Weak labels from the topic rules, merged with gold; the analysis of the rules against
    every known label (gold, and the pool's held-out labels)."""
    if use not in USES:
        raise TopicwireError(f"label_sources.use is {use!r}; expected one of {', '.join(USES)}")
    if not 0 <= pool_fraction < 1:
        raise TopicwireError(f"label_sources.pool_fraction must be in [0, 1), got {pool_fraction}")
    out: list[dict[str, Any]] = []
    results = []
    for row in rows:
        row = dict(row)
        gold = row.get("labels")
        pooled = gold is not None and in_pool(row["id"], pool_fraction, seed)
        row["gold_labels"] = None if pooled else gold
        row["held_out_labels"] = gold if pooled else None
        result = ruleset.label(row.get("title"), row["text"])
        results.append(result)
        row["weak_labels"] = result.labels
        row["weak_abstained"] = result.abstained
        row["weak_scores"] = result.scores
        row["weak_confidence"] = result.confidence
        row["labels"], row["label_source"] = training_labels(row, use)
        out.append(row)
    truth = [
        r["gold_labels"] if r["gold_labels"] is not None else r["held_out_labels"] for r in out
    ]
    sources = Counter(r["label_source"] for r in out)
    report = {
        "use": use,
        "pool_fraction": pool_fraction,
        "pool": sum(1 for r in out if r["held_out_labels"] is not None),
        "training_labels": {s: sources[s] for s in (GOLD, WEAK, UNLABELLED)},
        "rules_abstained_articles": sum(1 for r in results if r.abstained),
        "rules_abstained_by_topic": {
            label: sum(1 for r in results if label in r.abstained) for label in ruleset.labels
        },
        "measured_on": sum(1 for t in truth if t is not None),
        "per_topic": topic_analysis(ruleset, results, truth),
        "per_rule": rule_analysis(ruleset, results, truth),
    }
    return out, report


def main() -> None:
    from pipeline.config import load_params, taxonomy_labels, to_plain
    from pipeline.dataset import load_articles, save_articles
    from pipeline.io import write_json

    params = load_params()
    data = params.data
    articles = load_articles(data.interim).to_list()
    files = annotation_files(data.annotations_dir)

    def annotations() -> Iterator[Annotation | BadRecord]:
        for path in files:
            yield from read_annotations(path)

    labels = taxonomy_labels(params)
    rows, report = attach_labels(articles, annotations(), labels, on_bad_record=data.on_bad_record)
    report["annotation_files"] = [str(p) for p in files]
    ruleset = TopicRuleSet(to_plain(params.labels), labels)
    sources = params.label_sources
    rows, report["rules"] = apply_rules(
        rows, ruleset, sources.use, sources.pool_fraction, params.seed
    )
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
    rules = report["rules"]
    log.info(
        "training labels (use=%s, pool %d): %s; rules abstained on %d articles",
        rules["use"],
        rules["pool"],
        rules["training_labels"],
        rules["rules_abstained_articles"],
    )


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("label", main)
