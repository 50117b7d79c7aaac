"""Publishing and loading the artefact: metadata, version ids, integrity, the Python API."""

from __future__ import annotations

import json
import shutil

import pytest

import pipeline
from pipeline.artifact import load_model
from pipeline.errors import TopicwireError
from pipeline.io import sha256_file
from pipeline.stages.publish import model_card, publish, version_id


def test_artefact_contents(artefact):
    assert sorted(p.name for p in artefact.iterdir()) == [
        "README.md",
        "metadata.json",
        "model.joblib",
    ]
    meta = json.loads((artefact / "metadata.json").read_text())
    for key in (
        "version",
        "created_at",
        "labels",
        "thresholds",
        "metrics",
        "params",
        "data",
        "libraries",
        "files",
        "taxonomy",
    ):
        assert key in meta, key
    assert meta["files"]["model.joblib"]["sha256"] == sha256_file(artefact / "model.joblib")
    assert meta["data"]["fingerprint"] == "f" * 64
    assert meta["libraries"]["scikit-learn"] and meta["libraries"]["python"]
    card = (artefact / "README.md").read_text()
    assert meta["version"] in card and "Micro-F1 **0.900**" in card
    assert "`arms_transfers`" in card and "Not in:" in card
    assert "Corpus: 38 records read" in card


def test_version_id_is_stable_and_tracks_its_inputs():
    params = {"model": {"C": 1.0}}
    assert version_id("abc", params, "0.1.0") == version_id("abc", params, "0.1.0")
    assert version_id("abc", params, "0.1.0") != version_id("abd", params, "0.1.0")
    assert version_id("abc", params, "0.1.0") != version_id("abc", {"model": {"C": 2.0}}, "0.1.0")
    assert version_id("abc", params, "0.1.0") != version_id("abc", params, "0.2.0")


def test_python_api(artefact):
    model = pipeline.load_model(artefact)
    assert model.labels == ["arms_transfers", "energy_infrastructure", "evacuations", "sanctions"]
    assert model.version.startswith("tw-")
    texts = [
        "Washington announced a new military aid package with HIMARS rockets and 155 mm "
        "shells for Ukraine, the Pentagon said.",
        "The football club won the cup final.",
    ]
    scores = model.predict_scores(texts)
    assert [sorted(s) for s in scores] == [sorted(model.labels)] * 2
    assert all(0 <= v <= 1 for s in scores for v in s.values())
    predicted = model.predict(texts)
    assert predicted == [
        [label for label in model.labels if s[label] >= model.thresholds[label]] for s in scores
    ]
    assert model.predict([]) == []
    with pytest.raises(TypeError, match="list of texts"):
        model.predict("a single string")


def test_default_model_comes_from_the_environment(artefact, monkeypatch):
    monkeypatch.setenv("TOPICWIRE_MODEL", str(artefact))
    assert load_model().path == artefact


def test_tampered_or_truncated_model_is_refused(artefact, tmp_path):
    import shutil

    for damage in ("tampered", "truncated"):
        copy = tmp_path / damage
        shutil.copytree(artefact, copy)
        data = (copy / "model.joblib").read_bytes()
        (copy / "model.joblib").write_bytes(
            data[:-1] + b"\0" if damage == "tampered" else data[: len(data) // 2]
        )
        with pytest.raises(TopicwireError, match="does not match the metadata.*refusing to load"):
            load_model(copy)


def test_missing_or_foreign_directories_are_clear_errors(tmp_path):
    with pytest.raises(TopicwireError, match="no metadata.json; expected a published model"):
        load_model(tmp_path)
    with pytest.raises(TopicwireError, match="topic-classifier@v1.0.0: not found in"):
        load_model("topic-classifier@v1.0.0")  # no such tag in this project


def test_publish_replaces_the_directory_whole(artefact, tmp_path):
    meta = json.loads((artefact / "metadata.json").read_text())
    target = tmp_path / "out"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    publish(artefact / "model.joblib", target, meta)
    assert sorted(p.name for p in target.iterdir()) == [
        "README.md",
        "metadata.json",
        "model.joblib",
    ]
    assert not list(tmp_path.glob(".out*"))  # no staging leftovers
    assert model_card(meta).startswith("# Model card: topic-classifier")
    assert "Every article gets at least" not in model_card(meta)
    meta["params"]["thresholds"]["min_labels"] = 1
    assert "Every article gets at least 1 label(s)" in model_card(meta)


def test_top_k_and_one_threshold_for_all(artefact):
    import numpy as np

    model = load_model(artefact)
    scores = np.array([[0.9, 0.2, 0.6, 0.7]])
    assert model.labels_from_scores(scores, 0.5) == [["arms_transfers", "evacuations", "sanctions"]]
    assert model.labels_from_scores(scores, 0.5, top_k=2) == [["arms_transfers", "sanctions"]]
    assert model.labels_from_scores(scores, 0.95) == [[]]
    # A model trained with thresholds.min_labels 1 always names its closest label.
    model.pipeline[-1].min_labels = 1
    assert model.labels_from_scores(scores, 0.95) == [["arms_transfers"]]
    assert model.labels_from_scores(scores, 0.5, top_k=2) == [["arms_transfers", "sanctions"]]


def test_explain_returns_terms_for_predicted_labels(artefact):
    model = load_model(artefact)
    text = (
        "Washington approved a military aid package of HIMARS rockets and 155 mm shells for "
        "Ukraine; the first deliveries arrived this week."
    )
    assert set(model.explain(text)) == set(model.predict([text])[0])
    [forced] = model.explain_batch([text], [["arms_transfers"]], k=5)
    terms = forced["arms_transfers"]
    assert 0 < len(terms) <= 5 and all(weight > 0 for _, weight in terms)
    assert all(all(part in text.lower() for part in term.split()) for term, _ in terms)


def test_other_scikit_learn_versions_warn_or_refuse(artefact, tmp_path):
    import shutil

    import sklearn

    major, minor = (int(x) for x in sklearn.__version__.split(".")[:2])
    for version, outcome in ((f"{major}.{minor + 1}.0", "warn"), (f"{major + 1}.0.0", "refuse")):
        copy = tmp_path / version
        shutil.copytree(artefact, copy)
        meta = json.loads((copy / "metadata.json").read_text())
        meta["libraries"]["scikit-learn"] = version
        (copy / "metadata.json").write_text(json.dumps(meta))
        if outcome == "warn":
            with pytest.warns(UserWarning, match=f"trained with scikit-learn {version}"):
                load_model(copy)
        else:
            with pytest.raises(TopicwireError, match=f"trained with scikit-learn {version}"):
                load_model(copy)


class NotTrusted:
    """A type that no trusted list names."""


def test_skops_format_loads_safely_and_predicts_the_same(artefact, tmp_path):
    import skops.io

    from pipeline.io import sha256_file

    meta = json.loads((artefact / "metadata.json").read_text())
    meta["format"] = "skops"
    publish(artefact / "model.joblib", tmp_path / "safe", meta)
    assert sorted(p.name for p in (tmp_path / "safe").iterdir()) == [
        "README.md",
        "metadata.json",
        "model.skops",
    ]
    texts = ["Rolling blackouts after strikes on substations.", "Sanctions on shipping firms."]
    assert load_model(tmp_path / "safe").predict_scores(texts) == load_model(
        artefact
    ).predict_scores(texts)

    # A skops file carrying any other type is refused, even with a matching checksum.
    foreign = tmp_path / "foreign"
    shutil.copytree(tmp_path / "safe", foreign)
    skops.io.dump({"model": NotTrusted()}, foreign / "model.skops")
    meta["files"] = {"model.skops": {"sha256": sha256_file(foreign / "model.skops"), "bytes": 1}}
    (foreign / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(TopicwireError, match="outside the trusted list: .*NotTrusted"):
        load_model(foreign)
