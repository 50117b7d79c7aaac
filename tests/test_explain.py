"""Term weights and per-article contributions, for every model type in conf/model/."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from pipeline.classifier import label_matrix
from pipeline.config import build_model, taxonomy_labels
from pipeline.explain import contributions, label_weights, top_terms
from pipeline.stages.compose import compose

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus():
    rows = [json.loads(line) for line in (ROOT / "data/raw/wire.jsonl").open(encoding="utf-8")]
    return [r["title"] + "\n\n" + r["text"] for r in rows], [r["labels"] for r in rows]


@pytest.mark.parametrize("model", ["logistic_regression", "linear_svm", "sgd", "complement_nb"])
@pytest.mark.parametrize("features", ["word_ngrams", "hashed_ngrams"])
def test_terms_explain_every_model(model, features, corpus):
    params = OmegaConf.create(
        compose(ROOT / "conf", overrides=[f"model={model}", f"features={features}"])
    )
    labels = taxonomy_labels(params)
    texts, label_lists = corpus
    fitted = build_model(params).fit(texts, label_matrix(label_lists, labels))
    W = label_weights(fitted)
    assert W.shape[0] == len(labels) and np.abs(W).sum() > 0
    terms = top_terms(fitted, labels, k=5)
    positive = terms["arms_transfers"]["positive"]
    assert 0 < len(positive) <= 5 and all(w > 0 for _, w in positive)
    if features == "hashed_ngrams":
        assert positive[0][0].startswith("#")  # hashed columns have no names
    pushes = contributions(fitted, texts[:3], labels.index("arms_transfers"), k=4)
    assert len(pushes) == 3 and all(len(p) <= 4 for p in pushes)


def test_contributions_are_the_terms_of_the_text(corpus):
    params = OmegaConf.create(compose(ROOT / "conf"))
    labels = taxonomy_labels(params)
    texts, label_lists = corpus
    fitted = build_model(params).fit(texts, label_matrix(label_lists, labels))
    j = labels.index("arms_transfers")
    [up] = contributions(fitted, ["Pentagon approves HIMARS rockets and shells for Kyiv."], j)
    [down] = contributions(
        fitted, ["Pentagon approves HIMARS rockets and shells for Kyiv."], j, direction=-1
    )
    assert up and all(w > 0 for _, w in up) and all(w < 0 for _, w in down)
    text = "pentagon approves himars rockets and shells for kyiv"
    assert all(all(part in text for part in term.split()) for term, _ in up + down)
