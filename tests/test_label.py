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


# --- Merging gold and rule labels -----------------------------------------------------------

from pipeline.rules import TopicRuleSet  # noqa: E402
from pipeline.stages.label import apply_rules, gold_rows, in_pool, training_labels  # noqa: E402

RULES = {
    "min_confidence": 0.8,
    "slope": 2.0,
    "topics": {
        "sanctions": {
            "threshold": 2.0,
            "min_sentences": 2,
            "rules": {"s": {"terms": ["sanction*"], "weight": 2.0}},
        },
        # the other topics have a rule that never fires here: the rules say a confident "no"
        **{
            topic: {"threshold": 2.0, "rules": {"r": {"terms": [f"{topic}-term"]}}}
            for topic in ("arms_transfers", "energy_infrastructure", "evacuations")
        },
    },
}
SANCTIONS_TEXT = "Sanctions were imposed. The sanctions hit banks."


def merged(use, pool_fraction=0.0):
    rows = [
        {**art("gold-no-topic", []), "text": SANCTIONS_TEXT},  # gold says no; the rules say yes
        {**art("unlabelled-yes"), "text": SANCTIONS_TEXT},
        {**art("unlabelled-abstain"), "text": "Sanctions were mentioned once."},
        {**art("gold-arms", ["arms_transfers"]), "text": "Nothing the rules know."},
    ]
    return apply_rules(rows, TopicRuleSet(RULES, LABELS), use, pool_fraction, seed=7)


@pytest.mark.parametrize(
    ("use", "expected"),
    [
        (
            "gold",
            [
                ([], "gold"),
                (None, "unlabelled"),
                (None, "unlabelled"),
                (["arms_transfers"], "gold"),
            ],
        ),
        (
            "weak",
            [(["sanctions"], "weak"), (["sanctions"], "weak"), ([], "weak"), ([], "weak")],
        ),
        (
            # gold wins where it exists, rule labels elsewhere: "unlabelled-abstain" trains the
            # three topics the rules decided; sanctions, where they abstained, leaves it out
            "both",
            [([], "gold"), (["sanctions"], "weak"), ([], "weak"), (["arms_transfers"], "gold")],
        ),
    ],
)
def test_training_labels_follow_the_configured_sources_with_gold_first(use, expected):
    rows, report = merged(use)
    assert [(r["labels"], r["label_source"]) for r in rows] == expected
    assert [r["gold_labels"] for r in rows] == [[], None, None, ["arms_transfers"]]
    assert rows[2]["weak_abstained"] == ["sanctions"] and rows[1]["weak_labels"] == ["sanctions"]
    assert report["training_labels"] == {
        s: sum(1 for _, source in expected if source == s) for s in ("gold", "weak", "unlabelled")
    }
    # measured against the two known labels: the rules said sanctions where gold says none
    assert report["measured_on"] == 2
    assert report["per_topic"]["sanctions"]["precision"] == 0.0


def test_the_pool_hides_gold_labels_from_training_but_keeps_them_for_measuring():
    rows, report = merged("both", pool_fraction=0.999)
    gold_articles = [r for r in rows if r["id"].startswith("gold")]
    assert all(r["gold_labels"] is None for r in gold_articles)
    assert [r["held_out_labels"] for r in gold_articles] == [[], ["arms_transfers"]]
    assert report["pool"] == 2 and report["measured_on"] == 2
    assert [r["label_source"] for r in gold_articles] == ["weak", "weak"]
    assert gold_rows(rows) == []


def test_pool_membership_is_stable_per_article_and_near_the_fraction():
    ids = [f"article-{i}" for i in range(4000)]
    pooled = [i for i in ids if in_pool(i, 0.3, seed=42)]
    assert 0.27 < len(pooled) / len(ids) < 0.33
    assert pooled == [i for i in ids if in_pool(i, 0.3, seed=42)]
    assert set(pooled) <= {i for i in ids if in_pool(i, 0.5, seed=42)}  # larger pool, superset
    assert not any(in_pool(i, 0.0, seed=42) for i in ids)


def test_bad_label_source_settings_are_refused():
    with pytest.raises(TopicwireError, match="expected one of gold, weak, both"):
        merged("rules")
    with pytest.raises(TopicwireError, match="pool_fraction must be in \\[0, 1\\)"):
        merged("both", pool_fraction=1.0)
    assert training_labels({"gold_labels": None, "weak_labels": None}, "both") == (
        None,
        "unlabelled",
    )


# --- Label Studio exports come back as gold ---------------------------------------------------


def test_label_studio_export_latest_annotation_wins_and_unannotated_tasks_are_counted(tmp_path):
    import json

    export = tmp_path / "export.json"
    choice = lambda *c: {"type": "choices", "value": {"choices": list(c)}}  # noqa: E731
    export.write_text(
        json.dumps(
            [
                {
                    "data": {"id": "a1"},
                    "annotations": [
                        {
                            "id": 1,
                            "updated_at": "2026-11-01T10:00:00",
                            "result": [choice("sanctions")],
                        },
                        {
                            "id": 2,
                            "updated_at": "2026-11-02T10:00:00",
                            "result": [choice("evacuations", "sanctions")],
                        },
                    ],
                },
                {"data": {"id": "a2"}, "annotations": [{"id": 3, "result": []}]},  # no topic
                {"data": {"id": "a3"}, "annotations": [{"id": 4, "was_cancelled": True}]},
                {"data": {"id": "a4"}, "annotations": [{"id": 5, "result": [choice("piracy")]}]},
                {"data": {}},
            ]
        )
    )
    got = list(read_annotations(export))
    assert got[0] == Annotation("a1", ["evacuations", "sanctions"], str(export), 1)
    assert got[1] == Annotation("a2", [], str(export), 2)
    assert isinstance(got[2], BadRecord) and "task 3 (a3): not annotated yet" in str(got[2])
    assert got[3] == Annotation("a4", ["piracy"], str(export), 4)  # refused later: unknown label
    assert isinstance(got[4], BadRecord) and "no data.id" in str(got[4])
    rows, report = attach_labels(
        [art("a1"), art("a2"), art("a3"), art("a4")], got, LABELS, on_bad_record="skip"
    )
    assert [r["labels"] for r in rows] == [["evacuations", "sanctions"], [], None, None]
    assert report["bad_annotations_skipped"] == 3
    assert any("unknown label(s) 'piracy'" in s for s in report["skipped"])


def test_a_file_that_is_not_an_export_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "a"}')
    (got,) = read_annotations(bad)
    assert isinstance(got, BadRecord) and "expected a Label Studio export" in str(got)
    bad.write_text("[{,}]")
    (got,) = read_annotations(bad)
    assert isinstance(got, BadRecord) and "not valid JSON" in str(got) and got.line == 1
