"""End to end: topic rules in the real `dvc repro`, and the suggest -> annotate -> repro loop."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run

pytestmark = pytest.mark.e2e
LABELS = ["arms_transfers", "energy_infrastructure", "evacuations", "sanctions"]


def test_default_repro_runs_the_rules_and_reports_their_analysis(reproduced):
    report = json.loads((reproduced / "reports/label.json").read_text())
    rules = report["rules"]
    assert rules["use"] == "both" and rules["measured_on"] == report["gold"] > 1000
    assert set(rules["per_topic"]) == set(LABELS)
    for name, entry in rules["per_rule"].items():
        assert 0 <= entry["coverage"] <= 1, name
    for topic, entry in rules["per_topic"].items():
        assert entry["precision"] > 0.8, topic  # the shipped rules are precise, if incomplete
    page = (reproduced / "reports/report.html").read_text()
    assert "Topic rules" in page and "arms_transfers/weapon_near_supply_verb" in page


def test_model_trained_on_rule_labels_beats_the_rules_alone(reproduced):
    """The BRIEF's promise for users without labels, measured on the gold test split."""
    metrics = json.loads((reproduced / "reports/metrics.json").read_text())
    sources = metrics["label_sources"]
    assert sources["test_articles"] == metrics["test_articles"]
    assert sources["weak"]["train_articles"]["gold"] == 0  # no gold label used for training
    assert sources["weak"]["micro_f1"] > sources["rules"]["micro_f1"]
    assert sources["weak"]["macro_f1"] > sources["rules"]["macro_f1"]
    assert sources["weak_minus_rules"]["micro_f1"]["difference"] > 0
    assert sources["gold"]["micro_f1"] == metrics["micro_f1"]  # default: every article has gold
    assert sources["both"]["same_training_set_as"] == "gold"


def strip_labels(path: Path, count: int) -> dict[str, list[str]]:
    """Make the first `count` records of a JSON Lines file unlabelled; return their labels."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    truth = {}
    for record in records[:count]:
        truth[record["id"]] = record.pop("labels")
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return truth


def test_suggest_annotate_and_repro_merges_new_gold(reproduced, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(reproduced, project, symlinks=True)
    truth = strip_labels(project / "data/raw/africa.jsonl", 40)
    config = project / "conf/config.yaml"
    config.write_text(config.read_text().replace("  use: both ", "  use: weak "))
    run(["dvc", "repro"], project)

    report = json.loads((project / "reports/label.json").read_text())
    assert report["unlabelled"] == 40
    assert report["rules"]["use"] == "weak"
    metrics = json.loads((project / "reports/metrics.json").read_text())
    # the configured weak-only model is the one the comparison calls "weak"
    assert metrics["micro_f1"] == metrics["label_sources"]["weak"]["micro_f1"]
    assert metrics["micro_f1"] > metrics["label_sources"]["rules"]["micro_f1"]

    result = run(["topicwire", "label", "suggest", "-n", "10"], project)
    assert "10 of 40 article(s)" in result.stdout
    batch = project / "data/suggestions/to-annotate.jsonl"
    suggested = [json.loads(line) for line in batch.read_text().splitlines()]
    assert len(suggested) == 10 and {s["id"] for s in suggested} <= set(truth)
    assert (project / "data/suggestions/to-annotate.label-studio.json").is_file()

    # The annotator adds `labels` and files the batch with the other annotations.
    annotated = project / "data/annotations/batch-01.jsonl"
    annotated.write_text(
        "".join(json.dumps({**s, "labels": truth[s["id"]]}) + "\n" for s in suggested)
    )
    result = run(["dvc", "repro"], project)
    assert "Running stage 'label'" in result.stdout
    report = json.loads((project / "reports/label.json").read_text())
    assert report["unlabelled"] == 30 and report["gold"] == report["articles"] - 30
    assert str(annotated.relative_to(project)) in report["annotation_files"]

    from datasets import Dataset

    table = Dataset.from_parquet(str(project / "data/labelled/articles.parquet")).to_list()
    gold = {r["id"]: r["gold_labels"] for r in table if r["id"] in truth}
    assert {i: gold[i] for i in (s["id"] for s in suggested)} == {
        s["id"]: sorted(truth[s["id"]]) for s in suggested
    }
    assert sum(1 for labels in gold.values() if labels is None) == 30
    # The next batch is drawn from the articles still unlabelled.
    run(["topicwire", "label", "suggest", "-n", "5", "-o", "batch-02.jsonl"], project)
    second = [json.loads(line) for line in (project / "batch-02.jsonl").read_text().splitlines()]
    assert not {s["id"] for s in second} & {s["id"] for s in suggested}
