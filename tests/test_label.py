"""The label stage: gold labels from annotations, validated, merged with precedence."""

from __future__ import annotations

import pytest

from pipeline.errors import BadRecord, TopicwireError
from pipeline.stages.label import Annotation, attach_labels, read_annotations

LABELS = ["arms_transfers", "energy_infrastructure", "evacuations", "sanctions"]


def art(id_, labels=None, duplicate_ids=()):
    return {
        "id": id_,
        "title": "",
        "text": "t",
        "labels": labels,
        "duplicate_ids": list(duplicate_ids),
        "dup_group": id_,
    }


def ann(id_, labels, line=1):
    return Annotation(id_, labels, "ann.jsonl", line)


def test_annotation_wins_over_record_labels_and_unlabelled_stay_unlabelled():
    rows, report = attach_labels(
        [art("a", ["sanctions"]), art("b"), art("c", [])], [ann("a", ["arms_transfers"])], LABELS
    )
    assert [(r["labels"], r["label_source"]) for r in rows] == [
        (["arms_transfers"], "gold"),
        (None, "unlabelled"),
        ([], "gold"),
    ]
    assert report["record_labels_overridden_by_annotations"] == 1
    assert report["gold"] == 2 and report["unlabelled"] == 1 and report["no_topic"] == 1
    assert report["label_counts"] == {
        "arms_transfers": 1,
        "energy_infrastructure": 0,
        "evacuations": 0,
        "sanctions": 0,
    }


def test_annotation_of_a_dropped_duplicate_labels_the_kept_copy():
    rows, report = attach_labels(
        [art("a", duplicate_ids=["a-copy"])], [ann("a-copy", ["evacuations"])], LABELS
    )
    assert rows[0]["labels"] == ["evacuations"]
    assert report["gold_from"] == {"annotation of a dropped duplicate": 1}


def test_conflicting_duplicate_annotation_is_reported_and_own_label_wins():
    rows, report = attach_labels(
        [art("a", duplicate_ids=["b"])],
        [ann("a", ["sanctions"]), ann("b", ["evacuations"], line=2)],
        LABELS,
    )
    assert rows[0]["labels"] == ["sanctions"]
    assert (
        len(report["duplicate_conflicts"]) == 1
        and "ann.jsonl:2" in report["duplicate_conflicts"][0]
    )


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (ann("zzz", ["sanctions"], line=4), r"ann.jsonl:4: no article with id 'zzz'"),
        (ann("a", ["cyber"], line=5), r"ann.jsonl:5: unknown label\(s\) 'cyber'"),
        (BadRecord("ann.jsonl", 6, "not valid JSON"), r"ann.jsonl:6: not valid JSON"),
    ],
)
def test_bad_annotations_fail_by_default(annotation, message):
    with pytest.raises(TopicwireError, match=message):
        attach_labels([art("a")], [annotation], LABELS)


def test_bad_annotations_skipped_and_counted_when_asked():
    rows, report = attach_labels(
        [art("a")],
        [ann("a", ["sanctions"]), ann("a", ["evacuations"], line=2), ann("q", [], line=3)],
        LABELS,
        on_bad_record="skip",
    )
    assert rows[0]["labels"] == ["sanctions"]
    assert report["bad_annotations_skipped"] == 2
    assert "annotated twice with different labels" in report["skipped"][0]


def test_read_annotation_files(tmp_path):
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(
        '{"id": "p1", "labels": ["sanctions", "sanctions"]}\n{"id": "p2"}\n{"labels": []}\n',
        encoding="utf-8",
    )
    got = list(read_annotations(jsonl))
    assert got[0] == Annotation("p1", ["sanctions"], str(jsonl), 1)
    assert [(b.line, b.reason.split(";")[0]) for b in got[1:]] == [
        (2, "missing field 'labels'"),
        (3, "missing field 'id'"),
    ]
    csv = tmp_path / "b.csv"
    csv.write_text('id,labels\nf1,"[""evacuations""]"\nf2,\n', encoding="utf-8")
    assert [(a.id, a.labels, a.line) for a in read_annotations(csv)] == [
        ("f1", ["evacuations"], 2),
        ("f2", [], 3),
    ]
