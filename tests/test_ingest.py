"""The ingest core: validation, bad-record policy, cleaning and duplicates."""

from __future__ import annotations

import pytest

from pipeline.errors import BadRecord, TopicwireError
from pipeline.readers import RawArticle
from pipeline.stages.ingest import ingest
from pipeline.text import ArticleCleaner

LABELS = ["arms_transfers", "energy_infrastructure", "evacuations", "sanctions"]
BODY = (
    "Residents of the river towns were bussed out overnight as the reservoir breached and "
    "emergency services opened shelters in schools and sports halls across the province, while "
    "officials warned that the water could keep rising for two more days"
)


def article(id_, text=BODY, labels=None, title=None, line=1):
    return RawArticle(id_, text, title, labels, "feed.jsonl", line)


@pytest.fixture()
def cleaner(cleaning_params):
    return ArticleCleaner(**cleaning_params)


def test_clean_articles_pass_through(cleaner):
    result = ingest(
        [article("a", labels=["evacuations"]), article("b", text="Sanctions bite. " + BODY[::-1])],
        LABELS,
        cleaner,
    )
    assert [r["id"] for r in result.rows] == ["a", "b"]
    assert result.rows[0]["labels"] == ["evacuations"] and result.rows[1]["labels"] is None
    assert result.rows[0]["dup_group"] == "a" and result.rows[0]["duplicate_ids"] == []


def test_unknown_label_fails_by_default_naming_file_and_line(cleaner):
    with pytest.raises(
        TopicwireError,
        match=r"feed.jsonl:7: unknown label\(s\) 'cyber'; "
        r"expected labels from the taxonomy",
    ):
        ingest([article("a", labels=["cyber"], line=7)], LABELS, cleaner)


def test_skip_policy_counts_and_reports_every_bad_record(cleaner):
    records = [
        article("a"),
        BadRecord("feed.jsonl", 2, "not valid JSON"),
        article("a", text="Another text entirely. " + BODY[::-1], line=3),  # duplicate id
        article("c", text="Advertisement\nSource link", line=4),  # nothing left after cleaning
        article("d", labels=["cyber"], line=5),
    ]
    result = ingest(records, LABELS, cleaner, on_bad_record="skip")
    assert [r["id"] for r in result.rows] == ["a"]
    assert result.read == 5
    assert [(b.line, b.reason.split(" (")[0].split(";")[0]) for b in result.skipped] == [
        (2, "not valid JSON"),
        (3, "duplicate id 'a'"),
        (4, "only 0 word(s) of text after cleaning"),
        (5, "unknown label(s) 'cyber'"),
    ]
    report = result.report({"feed.jsonl": 5})
    assert report["bad_records_skipped"] == 4 and len(report["skipped"]) == 4
    assert report["inputs"] == {".jsonl": {"files": 1, "records": 5}}


def test_duplicates_dropped_and_recorded_on_the_kept_article(cleaner):
    records = [article("a"), article("b", text=BODY.upper()), article("c", text=BODY + " Calm.")]
    result = ingest(records, LABELS, cleaner)
    assert [r["id"] for r in result.rows] == ["a"]
    assert result.rows[0]["duplicate_ids"] == ["b", "c"]
    assert [(d["id"], d["match"], d["duplicate_of"]) for d in result.dropped] == [
        ("b", "exact", "a"),
        ("c", "near", "a"),
    ]
    assert result.report({})["duplicates_dropped"] == {"exact": 1, "near": 1}


def test_duplicates_can_be_kept_in_one_group(cleaner):
    result = ingest(
        [article("a"), article("b", text=BODY.upper())], LABELS, cleaner, drop_duplicates=False
    )
    assert [(r["id"], r["dup_group"]) for r in result.rows] == [("a", "a"), ("b", "a")]


def test_cleaning_applies_to_records(cleaner):
    raw = f"Kherson Daily\nDam breach forces evacuations – Kherson Daily\n\n{BODY}\n\nSource link"
    [row] = ingest([article("a", text=raw)], LABELS, cleaner).rows
    assert row["title"] == "Dam breach forces evacuations" and row["text"] == BODY
