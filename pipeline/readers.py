"""Reading articles in every input format of the BRIEF, one record at a time.

- `.txt`: one raw article page per file (UTF-8);
- `.jsonl`: one JSON object per line;
- `.csv`: one article per record, labels as a JSON list or "a;b" (an empty cell: no topic);
- `.parquet`: one article per row, streamed through Hugging Face `datasets`;
- `-`: JSON Lines on standard input.

Records carry `text`, and optionally `title`, `id` and `labels`. A record that cannot be used is
yielded as a `BadRecord` naming its file and line (or row), never dropped silently; the caller
decides whether it stops the run or is skipped and counted.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pipeline.errors import BadRecord, TopicwireError

FORMATS = (".txt", ".jsonl", ".csv", ".parquet")
_ARTICLE_FIELDS = ("id", "title", "text", "labels")
_EXTRA = "\x00extra"  # DictReader key for cells beyond the header


@dataclass(frozen=True)
class RawArticle:
    id: str
    text: str
    title: str | None
    labels: list[str] | None  # None: unlabelled; []: labelled with no topic
    source: str
    line: int
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # the record's other fields


def find_inputs(root: str | Path) -> list[Path]:
    """Every article file under `root`, in a stable order."""
    root = Path(root)
    if not root.is_dir():
        raise TopicwireError(f"{root}: raw data directory not found")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)


def read_raw_dir(root: str | Path) -> Iterator[tuple[Path, RawArticle | BadRecord]]:
    """Every record of every article file under `root`, with the file it came from.

    A `.txt` page's id is its path under `root` without the suffix ("pages/page_001"); records
    without an id get "<path under root>:<line>".
    """
    root = Path(root)
    for path in find_inputs(root):
        rel = path.relative_to(root).as_posix()
        prefix = rel.rsplit(".", 1)[0] if path.suffix.lower() == ".txt" else rel
        for record in read_articles(path, id_prefix=prefix):
            yield path, record


def read_articles(
    path: str | Path, id_prefix: str | None = None
) -> Iterator[RawArticle | BadRecord]:
    """Yield the articles of one input (a file path, or '-' for JSON Lines on stdin).

    Articles without an id get "<id_prefix or file name>:<line>"; a `.txt` page's id is
    `id_prefix` or the file's path without its suffix.
    """
    if str(path) == "-":
        yield from _read_jsonl(sys.stdin.buffer, "<stdin>", id_prefix or "stdin")
        return
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise TopicwireError(
            f"{path}: unsupported input format {suffix or '(no suffix)'!r}; "
            f"expected one of {', '.join(FORMATS)} or '-' for JSON Lines on stdin"
        )
    if not path.is_file():
        raise TopicwireError(f"{path}: file not found")
    name = str(path)
    if suffix == ".txt":
        yield _read_txt(path, id_prefix or str(path.with_suffix("")))
    elif suffix == ".jsonl":
        with open(path, "rb") as fh:
            yield from _read_jsonl(fh, name, id_prefix or name)
    elif suffix == ".csv":
        yield from _read_csv(path, id_prefix or name)
    else:
        yield from _read_parquet(path, id_prefix or name)


def _read_txt(path: Path, article_id: str) -> RawArticle | BadRecord:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return BadRecord(
            str(path), line, f"not valid UTF-8 (byte {exc.start}); expected UTF-8 text"
        )
    if not text.strip():
        return BadRecord(str(path), 1, "empty page; expected the text of an article")
    return RawArticle(article_id, text, None, None, str(path), 1)


def _read_jsonl(fh: BinaryIO, name: str, id_prefix: str) -> Iterator[RawArticle | BadRecord]:
    for number, raw in enumerate(fh, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError as exc:
            yield BadRecord(name, number, f"not valid UTF-8 (byte {exc.start} of the line)")
            continue
        except json.JSONDecodeError as exc:
            yield BadRecord(
                name,
                number,
                f"not valid JSON ({exc.msg} at column {exc.colno}); "
                "expected one JSON object per line",
            )
            continue
        yield parse_record(record, name, number, f"{id_prefix}:{number}")


def _read_csv(path: Path, id_prefix: str) -> Iterator[RawArticle | BadRecord]:
    # The csv module, not pandas: it knows each record's line number and never shifts a ragged
    # row's cells into an index or drops them with a warning.
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh, restkey=_EXTRA)
            if not reader.fieldnames:
                raise TopicwireError(
                    f"{path}: empty CSV; expected a header row with a 'text' column"
                )
            line = reader.line_num + 1
            for record in reader:
                if _EXTRA in record or None in record.values():
                    yield BadRecord(
                        name,
                        line,
                        f"{len(reader.fieldnames)} columns in the header "
                        "but a different number in this record",
                    )
                else:
                    yield parse_record(record, name, line, f"{id_prefix}:{line}")
                line = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise TopicwireError(
            f"{path}: not valid UTF-8 (byte {exc.start}); expected UTF-8 CSV"
        ) from exc
    except csv.Error as exc:
        raise TopicwireError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from exc


def _read_parquet(path: Path, id_prefix: str) -> Iterator[RawArticle | BadRecord]:
    from datasets import load_dataset

    try:
        rows = load_dataset("parquet", data_files=str(path), split="train", streaming=True)
        for number, record in enumerate(rows, start=1):
            yield parse_record(record, str(path), number, f"{id_prefix}:{number}", unit="row")
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's fault; say so
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TopicwireError(f"{path}: cannot read as Parquet: {message}") from exc


def parse_record(
    record: Any, source: str, line: int, default_id: str, unit: str = "line"
) -> RawArticle | BadRecord:
    """Validate one structured record: an object with a non-empty string `text`."""

    def bad(reason: str) -> BadRecord:
        return BadRecord(source, line, reason, unit)

    if not isinstance(record, dict):
        return bad(f"expected a JSON object with a 'text' field, got {type(record).__name__}")
    text = record.get("text")
    if text is None:
        return bad("missing field 'text'; expected the article text")
    if not isinstance(text, str):
        return bad(f"field 'text' must be a string, got {type(text).__name__}")
    if not text.strip():
        return bad("empty 'text'; expected the article text")
    title = record.get("title")
    if title is not None and not isinstance(title, str):
        return bad(f"field 'title' must be a string or null, got {type(title).__name__}")
    raw_id = record.get("id")
    if isinstance(raw_id, bool) or (raw_id is not None and not isinstance(raw_id, (str, int))):
        return bad(f"field 'id' must be a string or an integer, got {type(raw_id).__name__}")
    article_id = str(raw_id).strip() if raw_id is not None and str(raw_id).strip() else default_id
    labels = parse_labels(record.get("labels"))
    if isinstance(labels, str):
        return bad(labels)
    extra = {k: v for k, v in record.items() if k not in _ARTICLE_FIELDS}
    return RawArticle(article_id, text, title or None, labels, source, line, extra)


def parse_labels(value: Any) -> list[str] | None | str:
    """Labels as a list, a JSON list in a string, or 'a;b' in a CSV cell. A str result is an error.

    None (field absent) means unlabelled; an empty list or empty cell means "no topic".
    """
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                return f"field 'labels' is not a valid JSON list: {stripped[:60]!r}"
        else:
            return [part.strip() for part in stripped.split(";") if part.strip()]
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, dict)):
        items = list(value)
        if all(isinstance(item, str) for item in items):
            return [item.strip() for item in items]
    return "field 'labels' must be a list of label names, 'a;b', or null"
