"""Active learning: the articles the model is least sure about, diverse, ready to annotate."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import scipy.sparse as sp

from pipeline.errors import TopicwireError
from pipeline.stages.label import read_annotations
from pipeline.suggest import Candidate, select, suggest, uncertainty, write_suggestions


def test_uncertainty_is_one_at_the_threshold_and_zero_at_the_ends():
    thresholds = np.array([0.2, 0.5])
    scores = np.array([[0.2, 0.5], [0.0, 1.0], [1.0, 0.0], [0.6, 0.75]])
    assert uncertainty(scores, thresholds).round(6).tolist() == [
        [1.0, 1.0],
        [0.0, 0.0],
        [0.0, 0.0],
        [0.5, 0.5],  # 0.6 is halfway from 0.2 to 1; 0.75 halfway from 0.5 to 1
    ]


def test_topics_take_turns_and_near_copies_are_passed_over():
    uncertain = np.array(
        [
            [0.90, 0.10],  # 0: topic 0's first choice
            [0.80, 0.20],  # 1: a near copy of 0 -> skipped
            [0.70, 0.95],  # 2: topic 1's first choice
            [0.60, 0.30],  # 3
            [0.10, 0.40],  # 4
        ]
    )
    features = sp.csr_matrix(
        [[1.0, 0, 0, 0], [0.99, 0.1, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]]
    )
    assert select(uncertain, features, 4, max_similarity=0.5) == [(0, 0), (2, 1), (3, 0), (4, 1)]
    # allowing near copies, article 1 comes right after 0 and 2
    assert select(uncertain, features, 3, max_similarity=1.0) == [(0, 0), (2, 1), (1, 0)]
    # asking for more than there is: every article at most once
    assert sorted(i for i, _ in select(uncertain, features, 50, max_similarity=1.0)) == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_suggest_and_write_a_batch_ready_for_label_studio(artefact, tmp_path):
    from pipeline import load_model

    model = load_model(artefact)
    candidates = [
        Candidate("c1", "Ministry confirms shipment", "Ammunition was shipped to the front."),
        Candidate("c2", "Weather", "Rain is expected in the north on Tuesday."),
        Candidate("c3", "Power cut", "A substation was hit and the city lost power."),
    ]
    chosen = suggest(model, candidates, 2)
    assert len(chosen) == 2 and len({s.candidate.id for s in chosen}) == 2
    assert all(0 <= s.uncertainty <= 1 and set(s.scores) == set(model.labels) for s in chosen)
    with pytest.raises(TopicwireError, match="at least 1"):
        suggest(model, candidates, 0)

    taxonomy = {label: f"about {label} & more" for label in model.labels}
    paths = write_suggestions(chosen, tmp_path / "batch.jsonl", model.version, taxonomy)
    records = [json.loads(line) for line in paths["jsonl"].read_text().splitlines()]
    assert [r["id"] for r in records] == [s.candidate.id for s in chosen]
    assert {"title", "text", "suggested_labels", "scores", "uncertain_topic"} <= set(records[0])
    assert "labels" not in records[0]  # left for the annotator

    config = ET.fromstring(paths["label_config"].read_text())
    choices = config.find("Choices")
    assert choices.get("choice") == "multiple" and choices.get("toName") == "article"
    assert [c.get("value") for c in choices] == model.labels

    tasks = json.loads(paths["label_studio"].read_text())
    assert [t["data"]["id"] for t in tasks] == [r["id"] for r in records]
    prediction = tasks[0]["predictions"][0]["result"][0]
    assert prediction["from_name"] == "topics" and prediction["to_name"] == "article"
    # What Label Studio exports after annotation reads back as gold annotations
    for task, labels in zip(tasks, (["arms_transfers"], []), strict=True):
        task["annotations"] = [
            {"id": 1, "result": [{"type": "choices", "value": {"choices": labels}}]}
        ]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    assert [(a.id, a.labels) for a in read_annotations(export)] == [
        (tasks[0]["data"]["id"], ["arms_transfers"]),
        (tasks[1]["data"]["id"], []),
    ]
    with pytest.raises(TopicwireError, match="must be a .jsonl file"):
        write_suggestions(chosen, tmp_path / "batch.txt", model.version, taxonomy)


def test_cli_suggests_from_input_files_and_counts_bad_records(artefact, tmp_path):
    import subprocess

    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"id": "n1", "title": "Grid hit", "text": "A substation was struck overnight."})
        + "\n"
        + json.dumps({"id": "n2", "text": "Sanctions were widened to six banks on Monday."})
        + "\n{broken\n"
    )
    out = tmp_path / "batch.jsonl"
    result = subprocess.run(
        [
            "topicwire",
            "label",
            "suggest",
            "-n",
            "5",
            "-m",
            str(artefact),
            "-o",
            str(out),
            str(feed),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "2 of 2 article(s) from 1 input(s) suggested" in result.stdout
    assert "1 bad record(s) skipped" in result.stderr and f"{feed}:3" in result.stderr
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == ["n1", "n2"]
    assert (tmp_path / "batch.label-studio.json").is_file()
    assert (tmp_path / "batch.label-studio.xml").is_file()


def test_cli_without_candidates_is_a_clear_error(artefact, tmp_path):
    import subprocess

    from pipeline.dataset import save_articles

    table = tmp_path / "labelled.parquet"
    save_articles([{"id": "g1", "text": "t", "labels": [], "gold_labels": []}], table)
    result = subprocess.run(
        ["topicwire", "label", "suggest", "-m", str(artefact), "--table", str(table)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no candidate articles (0 article(s) of" in result.stderr
    assert "without gold labels (1 with)" in result.stderr
