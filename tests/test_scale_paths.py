"""Parallel featurisation, streaming (out-of-core) training and the benchmark configurations.

Speed is measured in benchmarks/, never here: these tests check that the fast paths give the
same results as the plain ones and fail clearly when misused.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from pipeline.artifact import TopicModel
from pipeline.classifier import (
    PerLabelThresholdClassifier,
    canonical,
    choose_thresholds,
    label_matrix,
)
from pipeline.config import build_model, taxonomy_labels, to_plain
from pipeline.errors import TopicwireError
from pipeline.features import HashedTfidf, parallel_transform, resolve_n_jobs
from pipeline.stages.compose import compose
from pipeline.stages.train import out_of_fold_scores, texts_of, threshold_options, train

ROOT = Path(__file__).resolve().parents[1]
STREAMING_OVERRIDES = (
    "features=hashed_streaming",
    "model=sgd_streaming",
    "thresholds.strategy=fixed",
)


def composed(*overrides: str):
    return OmegaConf.create(compose(ROOT / "conf", overrides=overrides))


@pytest.fixture(scope="module")
def rows():
    path = ROOT / "data/raw/wire.jsonl"
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def test_parallel_transform_equals_serial(rows):
    params = composed()
    texts = [r["title"] + "\n\n" + r["text"] for r in rows]
    model = build_model(params)
    features = model[:-1].fit(texts)
    serial = features.transform(texts)
    parallel = parallel_transform(features, texts, n_jobs=2, min_chunk=5)
    assert parallel.dtype == np.float32 and parallel.format == "csr"
    assert (serial != parallel).nnz == 0 and serial.shape == parallel.shape


def test_resolve_n_jobs():
    assert resolve_n_jobs(None) == 1 and resolve_n_jobs(1) == 1
    assert 1 <= resolve_n_jobs(-1) == resolve_n_jobs(10_000)


def test_published_model_scores_do_not_depend_on_n_jobs(rows, monkeypatch):
    import pipeline.features

    params = composed()
    labels = taxonomy_labels(params)
    model, _ = train(build_model(params), rows, rows, labels)
    texts = [r["text"] for r in rows]
    serial = TopicModel(model, {"labels": labels, "version": "t"}, ROOT).score_matrix(texts)
    real = pipeline.features.parallel_transform
    monkeypatch.setattr(
        pipeline.features, "parallel_transform", lambda t, x, n: real(t, x, n, min_chunk=5)
    )
    parallel = TopicModel(model, {"labels": labels, "version": "t"}, ROOT, n_jobs=2)
    assert np.array_equal(serial, parallel.score_matrix(texts))


def test_labels_fitted_in_parallel_processes(rows):
    # LogisticRegression used to sort the shared read-only matrix in place and crash.
    params = composed("model=logistic_regression_parallel")
    labels = taxonomy_labels(params)
    model, _ = train(build_model(params), rows, rows, labels)
    assert model.predict_proba([rows[0]["text"]]).shape == (1, len(labels))


def test_training_on_two_cores_gives_the_same_model(rows):
    # Cleaning, counting and the label fits in 2 processes: the same model as serial.
    params = composed("model=logistic_regression_parallel", "features=word_prefixes_hashed")
    labels = taxonomy_labels(params)
    texts = [r["text"] for r in rows]
    parallel, _ = train(build_model(params), rows, rows, labels, n_jobs=2)
    serial_params = composed(
        "model=logistic_regression_parallel",
        "features=word_prefixes_hashed",
        "model.n_jobs=1",
        "features.vectorizer.n_jobs=1",
    )
    serial, _ = train(build_model(serial_params), rows, rows, labels, n_jobs=1)
    assert np.array_equal(parallel.predict_proba(texts), serial.predict_proba(texts))


def test_hashed_tfidf_blocks_prefixes_and_kept_columns():
    from scipy import sparse

    texts = ["Negotiators negotiated the ceasefire", "the ceasefire held", "talks resumed"] * 4
    features = HashedTfidf([r"\w\w+", r"(\w{1,5})\w*"], n_features=2**12)
    X = features.fit_transform(texts)
    assert sparse.isspmatrix_csr(X) and X.dtype == np.float32
    # Only the columns of tokens seen in training are kept: 7 words + 6 distinct prefixes
    # ("negot" is shared by two words; "the", "held" and "talks" are their own prefixes).
    assert X.shape[1] == 7 + 6
    # Each kind of token is scaled to unit length on its own.
    blocks = features.column_blocks_
    for row in X.toarray():
        for block in (0, 1):
            assert np.isclose(np.linalg.norm(row[blocks == block]), 1.0)
    # An unseen word adds nothing; its prefix counts when the prefix was seen ("negot").
    unseen = features.transform(["negotiable zebras"]).toarray()[0]
    assert np.count_nonzero(unseen[blocks == 0]) == 0
    assert np.count_nonzero(unseen[blocks == 1]) == 1
    # Counting in 2 processes gives the same matrix.
    parallel = HashedTfidf([r"\w\w+", r"(\w{1,5})\w*"], n_features=2**12, n_jobs=2)
    from pipeline import features as module

    real = module.parallel_transform
    try:
        module.parallel_transform = lambda t, x, n: real(t, x, n, min_chunk=3)
        assert (parallel.fit_transform(texts) != X).nnz == 0
    finally:
        module.parallel_transform = real
    # The file holds the kept columns, not a lookup over every hashed column (2 x 2^20 here);
    # a loaded copy featurises the same.
    import pickle

    wide = HashedTfidf([r"\w\w+", r"(\w{1,5})\w*"]).fit(texts)
    saved = pickle.dumps(wide)
    assert len(saved) < 100_000
    same = pickle.loads(saved).transform(["negotiable ceasefire"])
    assert (same != wide.transform(["negotiable ceasefire"])).nnz == 0
    assert list(features.get_feature_names_out()[:2]) == ["#0", "#1"]
    assert len(features.get_feature_names_out()) == X.shape[1]
    with pytest.raises(ValueError, match="token_patterns is empty"):
        HashedTfidf([]).fit(texts)


def test_canonical_sorts_indices_without_changing_values():
    from scipy import sparse

    X = sparse.csr_matrix(
        (np.array([1.0, 2.0, 3.0]), np.array([2, 0, 1]), np.array([0, 2, 3])), shape=(2, 3)
    )
    dense = X.toarray()
    assert not X.has_sorted_indices
    Y = canonical(X)
    assert Y.has_canonical_format and np.array_equal(Y.toarray(), dense)


def test_streaming_training_trains_and_predicts(rows):
    params = composed(
        "features=hashed_streaming", "model=sgd_streaming", "thresholds.strategy=fixed"
    )
    labels = taxonomy_labels(params)
    streaming = to_plain(params.model.streaming) | {"batch_size": 7, "epochs": 2, "n_jobs": 1}
    model, report = train(build_model(params), rows, [], labels, "fixed", streaming=streaming)
    scores = model.predict_proba([r["text"] for r in rows])
    assert scores.shape == (len(rows), len(labels))
    assert ((scores >= 0) & (scores <= 1)).all()
    assert report["thresholds"] == dict.fromkeys(labels, 0.5)
    # Deterministic for the same seed.
    again, _ = train(build_model(params), rows, [], labels, "fixed", streaming=streaming)
    assert np.array_equal(scores, again.predict_proba([r["text"] for r in rows]))


def test_streaming_refuses_stateful_features(rows):
    params = composed("model=sgd_streaming")  # word_ngrams must see all the data
    labels = taxonomy_labels(params)
    with pytest.raises(TopicwireError, match="stateless features"):
        train(build_model(params), rows, rows, labels, streaming={"batch_size": 10})


def test_partial_fit_refuses_calibration_and_balanced_weights():
    from sklearn.linear_model import SGDClassifier
    from sklearn.svm import LinearSVC

    X, Y = np.eye(4), np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    with pytest.raises(ValueError, match="partial_fit and no calibration"):
        PerLabelThresholdClassifier(LinearSVC(), calibration={"cv": 2}).partial_fit(X, Y)
    with pytest.raises(ValueError, match="balanced"):
        PerLabelThresholdClassifier(SGDClassifier(class_weight="balanced")).partial_fit(X, Y)
    model = PerLabelThresholdClassifier(SGDClassifier(loss="log_loss", random_state=0))
    model.partial_fit(X, Y).partial_fit(X, Y)
    assert model.predict_proba(X).shape == (4, 2) and model.predict(X).shape == (4, 2)
    with pytest.raises(ValueError, match="3 labels"):
        model.partial_fit(X, np.zeros((4, 3)))


def test_empty_validation_needs_fixed_thresholds(rows):
    params = composed()
    labels = taxonomy_labels(params)
    with pytest.raises(TopicwireError, match="validation split is empty"):
        train(build_model(params), rows, [], labels, "max_fbeta")
    _, report = train(build_model(params), rows, [], labels, "fixed", fallback=0.4)
    assert report["thresholds"] == dict.fromkeys(labels, 0.4)


def test_cv_thresholds_are_tuned_on_out_of_fold_training_scores(rows):
    params = composed()
    labels = taxonomy_labels(params)
    model, report = train(
        build_model(params), rows, [], labels, "cv_fbeta", cv_folds=3, floor=0.2, seed=1
    )
    Y = label_matrix([r["labels"] for r in rows], labels)
    X = model[:-1].transform(texts_of(rows))
    scores = out_of_fold_scores(model[-1], X, Y, 3, 1)
    assert scores.shape == Y.shape and ((scores >= 0) & (scores <= 1)).all()
    expected = choose_thresholds(Y, scores, floor=0.2)
    assert model[-1].thresholds_.tolist() == expected.tolist()
    assert report["cv_folds"] == 3 and min(report["thresholds"].values()) >= 0.2
    # A fold's model never sees the article it scores: out-of-fold scores differ from the
    # scores of the model fitted on everything.
    assert not np.allclose(scores, model.predict_proba(texts_of(rows)))


def test_cv_thresholds_refuse_bad_folds_and_streaming(rows):
    params = composed()
    labels = taxonomy_labels(params)
    with pytest.raises(TopicwireError, match="cv_folds must be between 2"):
        train(build_model(params), rows, [], labels, "cv_fbeta", cv_folds=1)
    streaming = composed(*STREAMING_OVERRIDES)
    with pytest.raises(TopicwireError, match="needs all the data"):
        train(
            build_model(streaming),
            rows,
            [],
            labels,
            "cv_fbeta",
            streaming=to_plain(streaming.model.streaming),
        )


def test_threshold_options_default_when_absent():
    assert threshold_options(composed()) == {"cv_folds": 3, "floor": None, "seed": 42}
    reuters = threshold_options(composed("+experiment=reuters90"))
    assert reuters == {"cv_folds": 3, "floor": 0.1, "seed": 42}


@pytest.mark.parametrize(("name", "count"), [("reuters90", 90), ("newsgroups20", 20)])
def test_benchmark_experiments_compose(name, count):
    params = composed(f"+experiment={name}")
    assert params.taxonomy.name == name and len(taxonomy_labels(params)) == count
    build_model(params)


def test_label_matrix_for_streaming_targets():
    assert label_matrix([["b"], []], ["a", "b"]).tolist() == [[0, 1], [0, 0]]
