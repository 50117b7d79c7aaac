"""Reading every input format; bad records are named with file and line, never dropped."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.errors import BadRecord, TopicwireError
from pipeline.readers import RawArticle, find_inputs, read_articles


def split(records):
    good = [r for r in records if isinstance(r, RawArticle)]
    bad = [r for r in records if isinstance(r, BadRecord)]
    return good, bad


def test_txt_page_is_one_article(tmp_path):
    page = tmp_path / "kyiv.txt"
    page.write_text("Site\nTitle of the page\n\nBody.", encoding="utf-8")
    [article] = read_articles(page, id_prefix="pages/kyiv")
    assert article.id == "pages/kyiv" and article.text.startswith("Site") and article.labels is None


def test_txt_not_utf8_is_a_bad_record_with_its_line(tmp_path):
    page = tmp_path / "bad.txt"
    page.write_bytes(b"first line\nsecond \xff line\n")
    [bad] = read_articles(page)
    assert isinstance(bad, BadRecord) and bad.line == 2 and "UTF-8" in bad.reason
    assert str(bad).startswith(f"{page}:2:")


def test_jsonl_records_and_bad_lines(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(
        b'{"id": "a1", "title": "T", "text": "Body one", "labels": ["sanctions"]}\n'
        b"\n"
        b'{"text": "no id here"}\n'
        b"{broken\n"
        b'{"title": "no text"}\n'
        b'{"text": "   "}\n'
        b'{"text": "x", "labels": "sanctions;evacuations"}\n'
        b'{"text": "x", "labels": 5}\n'
        b'["a list"]\n'
        b'{"text": "bad \xff byte"}\n'
    )
    good, bad = split(list(read_articles(path)))
    assert [a.id for a in good] == ["a1", f"{path}:3", f"{path}:7"]
    assert good[0].labels == ["sanctions"] and good[1].labels is None
    assert good[2].labels == ["sanctions", "evacuations"]
    assert {b.line: b.reason.split(";")[0].split(" (")[0] for b in bad} == {
        4: "not valid JSON",
        5: "missing field 'text'",
        6: "empty 'text'",
        8: "field 'labels' must be a list of label names, 'a",
        9: "expected a JSON object with a 'text' field, got list",
        10: "not valid UTF-8",
    }


def test_csv_keeps_strings_and_flags_ragged_rows(tmp_path):
    path = tmp_path / "desk.csv"
    path.write_text(
        "id,title,text,labels\n"
        '007,"A title","Body, with a comma\nand a second line",arms_transfers;sanctions\n'
        '8,,"Plain body",\n'
        '9,"T","x",sanctions,extra\n'
        '10,"T","",\n',
        encoding="utf-8",
    )
    good, bad = split(list(read_articles(path)))
    assert [(a.id, a.line) for a in good] == [("007", 2), ("8", 4)]
    assert good[0].labels == ["arms_transfers", "sanctions"]
    assert good[1].labels == [] and good[1].title is None  # empty labels cell: no topic
    assert [(b.line, b.reason.split(";")[0]) for b in bad] == [
        (5, "4 columns in the header but a different number in this record"),
        (6, "empty 'text'"),
    ]


def test_parquet_rows(tmp_path):
    path = tmp_path / "feed.parquet"
    pq.write_table(
        pa.table({"id": ["x", "y"], "text": ["hello world", ""], "labels": [["sanctions"], None]}),
        path,
    )
    good, bad = split(list(read_articles(path)))
    assert [(a.id, a.labels) for a in good] == [("x", ["sanctions"])]
    assert str(bad[0]) == f"{path}: row 2: empty 'text'; expected the article text"


def test_stdin_jsonl(monkeypatch):
    lines = "\n".join(json.dumps({"id": i, "text": f"article {i}"}) for i in range(3))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(lines.encode())))
    assert [a.id for a in read_articles("-")] == ["0", "1", "2"]


def test_unsupported_and_missing_inputs(tmp_path):
    with pytest.raises(TopicwireError, match=r"unsupported input format '\.docx'"):
        list(read_articles(tmp_path / "a.docx"))
    with pytest.raises(TopicwireError, match="file not found"):
        list(read_articles(tmp_path / "missing.jsonl"))
    with pytest.raises(TopicwireError, match="raw data directory not found"):
        find_inputs(tmp_path / "nowhere")


def test_find_inputs_lists_every_format_in_order(tmp_path):
    for name in ("b.jsonl", "a.csv", "sub/c.txt", "d.parquet", "notes.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in find_inputs(tmp_path)] == [
        "a.csv",
        "b.jsonl",
        "d.parquet",
        "sub/c.txt",
    ]
