"""Stage ingest: raw articles in any input format -> one clean, deduplicated table.

Reads every `.txt`, `.jsonl`, `.csv` and `.parquet` file under data/raw/, cleans each page with
the same `ArticleCleaner` the model uses, drops exact and near duplicates (keeping the first and
recording the ids of the copies), and writes data/interim/articles.parquet with Hugging Face
`datasets`. Bad records stop the run or are skipped and counted (data.on_bad_record); every
skipped record and every dropped duplicate is listed in reports/ingest.json.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.dedup import duplicate_groups
from pipeline.errors import BadRecord, TopicwireError, raise_or_count
from pipeline.readers import RawArticle, find_inputs, read_raw_dir
from pipeline.text import ArticleCleaner, join_title_body

log = logging.getLogger("topicwire")
REPORT = "reports/ingest.json"


@dataclass
class IngestResult:
    rows: list[dict[str, Any]]
    skipped: list[BadRecord] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0

    def report(self, files: Counter[str]) -> dict[str, Any]:
        kinds = Counter(d["match"] for d in self.dropped)
        formats: dict[str, dict[str, int]] = {}
        for name, records in sorted(files.items()):
            entry = formats.setdefault(Path(name).suffix.lower(), {"files": 0, "records": 0})
            entry["files"] += 1
            entry["records"] += records
        return {
            "inputs": formats,
            "records_read": self.read,
            "bad_records_skipped": len(self.skipped),
            "duplicates_dropped": {"exact": kinds["exact"], "near": kinds["near"]},
            "articles_written": len(self.rows),
            "skipped": [str(b) for b in self.skipped],
            "dropped": self.dropped,
        }


def ingest(
    records: Iterable[RawArticle | BadRecord],
    labels: Sequence[str],
    cleaner: ArticleCleaner,
    on_bad_record: str = "fail",
    min_words: int = 5,
    drop_duplicates: bool = True,
    near_threshold: float = 0.8,
    shingle_words: int = 5,
) -> IngestResult:
    """Clean, validate and deduplicate records; the core of the stage, free of file I/O."""
    known = set(labels)
    result = IngestResult(rows=[])
    articles: list[dict[str, Any]] = []
    first_seen: dict[str, str] = {}
    for record in records:
        result.read += 1
        if isinstance(record, BadRecord):
            raise_or_count(record, on_bad_record, result.skipped)
            continue
        where = f"{record.source}:{record.line}"
        problem = None
        unknown = sorted(set(record.labels or ()) - known)
        clean = cleaner.clean(record.text, record.title)
        words = len(clean.as_text().split())
        if unknown:
            problem = (
                f"unknown label(s) {', '.join(map(repr, unknown))}; "
                f"expected labels from the taxonomy: {', '.join(labels)}"
            )
        elif record.id in first_seen:
            problem = f"duplicate id {record.id!r} (first seen at {first_seen[record.id]})"
        elif words < min_words:
            problem = (
                f"only {words} word(s) of text after cleaning; "
                f"expected at least {min_words} (data.min_words)"
            )
        if problem:
            raise_or_count(
                BadRecord(record.source, record.line, problem), on_bad_record, result.skipped
            )
            continue
        first_seen[record.id] = where
        articles.append(
            {
                "id": record.id,
                "title": clean.title,
                "text": clean.body,
                "labels": sorted(set(record.labels)) if record.labels is not None else None,
                "source": record.source,
                "line": record.line,
            }
        )

    group, how = duplicate_groups(
        [join_title_body(a["title"], a["text"]) for a in articles],
        near_threshold,
        shingle_words,
    )
    copies: dict[int, list[str]] = {}
    for i, article in enumerate(articles):
        root = group[i]
        if root != i:
            match, similarity = how[i]
            result.dropped.append(
                {
                    "id": article["id"],
                    "source": f"{article['source']}:{article['line']}",
                    "duplicate_of": articles[root]["id"],
                    "match": match,
                    "similarity": round(similarity, 4),
                    "dropped": drop_duplicates,
                }
            )
            copies.setdefault(root, []).append(article["id"])
    for i, article in enumerate(articles):
        if drop_duplicates and group[i] != i:
            continue
        article["duplicate_ids"] = copies.get(i, [])
        article["dup_group"] = articles[group[i]]["id"]
        result.rows.append(article)
    return result


def main() -> None:
    from pipeline.config import load_params, taxonomy_labels, to_plain
    from pipeline.dataset import save_articles
    from pipeline.io import write_json

    params = load_params()
    data = params.data
    files = find_inputs(data.raw_dir)
    if not files:
        raise TopicwireError(f"{data.raw_dir}: no .txt, .jsonl, .csv or .parquet files found")
    per_file: Counter[str] = Counter()

    def records() -> Iterable[RawArticle | BadRecord]:
        for path, record in read_raw_dir(data.raw_dir):
            per_file[str(path)] += 1
            yield record

    result = ingest(
        records(),
        taxonomy_labels(params),
        ArticleCleaner(**to_plain(params.cleaning)),
        on_bad_record=data.on_bad_record,
        min_words=data.min_words,
        drop_duplicates=data.duplicates.drop,
        near_threshold=data.duplicates.near_threshold,
        shingle_words=data.duplicates.shingle_words,
    )
    if not result.rows:
        raise TopicwireError(f"{data.raw_dir}: no usable articles among {result.read} records")
    save_articles(result.rows, data.interim)
    report = result.report(per_file)
    write_json(REPORT, report)
    kinds = report["duplicates_dropped"]
    verb = "dropped" if data.duplicates.drop else "found (kept)"
    log.info(
        "read %d records from %d files; %d bad record(s) skipped; duplicates %s: %d exact, %d near",
        result.read,
        len(files),
        len(result.skipped),
        verb,
        kinds["exact"],
        kinds["near"],
    )
    for bad in result.skipped:
        log.warning("skipped %s", bad)
    log.info("wrote %d articles to %s", len(result.rows), data.interim)


if __name__ == "__main__":
    from pipeline.stages import run_stage

    run_stage("ingest", main)
