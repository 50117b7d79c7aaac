"""Every configuration composes and builds a working model (like lightning-hydra-template)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from pipeline.classifier import label_matrix
from pipeline.config import build_model, taxonomy_labels
from pipeline.errors import TopicwireError
from pipeline.stages.compose import compose

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def composed(*overrides: str):
    return OmegaConf.create(compose(CONF, overrides=overrides))


def test_committed_params_yaml_is_the_composition_of_conf():
    # params.yaml is generated; if it drifted from conf/, `dvc status` would be lying.
    assert (ROOT / "params.yaml").read_text(encoding="utf-8") == compose(CONF)


def test_required_groups_have_their_options():
    assert {"word_ngrams", "word_char_ngrams", "hashed_ngrams"} <= set(options("features"))
    assert {"logistic_regression", "linear_svm", "sgd", "complement_nb"} <= set(options("model"))


@pytest.mark.parametrize("group", ["taxonomy", "data", "cleaning"])
def test_every_option_of_other_groups_composes(group):
    for option in options(group):
        params = composed(f"{group}={option}")
        assert params[group] is not None and taxonomy_labels(params)


def test_every_topic_rule_set_compiles_against_its_taxonomy():
    from pipeline.config import to_plain
    from pipeline.rules import TopicRuleSet

    for option in options("labels"):
        params = composed(f"labels={option}")
        rules = TopicRuleSet(to_plain(params.labels), taxonomy_labels(params))
        assert bool(rules.rule_names) == (option != "none"), option


@pytest.mark.parametrize("experiment", ["reuters90", "newsgroups20"])
def test_benchmark_experiments_compose_with_rules_for_their_taxonomy(experiment):
    from pipeline.config import to_plain
    from pipeline.rules import TopicRuleSet

    params = composed(f"+experiment={experiment}")
    assert params.taxonomy.name == experiment and params.labels.name == "none"
    TopicRuleSet(to_plain(params.labels), taxonomy_labels(params))  # the label stage would run


@pytest.fixture(scope="module")
def small_corpus():
    rows = [json.loads(line) for line in (ROOT / "data/raw/wire.jsonl").open(encoding="utf-8")]
    return [r["title"] + "\n\n" + r["text"] for r in rows], [r["labels"] for r in rows]


@pytest.mark.parametrize(
    ("features", "model"), list(itertools.product(options("features"), options("model")))
)
def test_every_features_and_model_combination_trains(features, model, small_corpus):
    params = composed(f"features={features}", f"model={model}")
    assert params.features.name == features and params.model.name == model
    texts, label_lists = small_corpus
    labels = taxonomy_labels(params)
    Y = label_matrix(label_lists, labels)
    fitted = build_model(params).fit(texts, Y)
    fitted[-1].tune_thresholds(fitted[:-1].transform(texts), Y)
    scores = fitted.predict_proba(texts[:5])
    assert scores.shape == (5, len(labels))
    assert ((scores >= 0) & (scores <= 1)).all()
    assert fitted.predict(texts[:5]).shape == (5, len(labels))
    # Explanations (model card, report, `topicwire predict --explain`) work for every one.
    from pipeline.explain import top_terms

    terms = top_terms(fitted, labels, k=3)
    assert set(terms) == set(labels)


def test_unknown_option_is_a_clear_error():
    with pytest.raises(TopicwireError, match="cannot compose the configuration.*model"):
        compose(CONF, overrides=["model=does_not_exist"])


def test_bad_estimator_parameter_is_a_clear_error(small_corpus):
    from pipeline.stages.train import train

    texts, label_lists = small_corpus
    rows = [{"title": "", "text": t, "labels": y} for t, y in zip(texts, label_lists, strict=True)]
    params = composed("model.estimator.C=-1")
    with pytest.raises(TopicwireError, match="invalid model configuration: The 'C' parameter"):
        train(build_model(params), rows, rows, taxonomy_labels(params))
    params = composed("+model.estimator.not_a_parameter=1")
    with pytest.raises(TopicwireError, match="cannot build the model from params.yaml"):
        build_model(params)


def test_fitted_vocabularies_are_compacted_without_changing_predictions(small_corpus):
    import numpy as np

    from pipeline.features import compact_vocabularies

    texts, _ = small_corpus
    features = build_model(composed("features=word_char_ngrams"))[1].fit(texts)
    before = features.transform(texts[:3]).toarray()
    compact_vocabularies(features)
    for _, vectorizer in features.transformer_list:
        assert all(type(v) is int for v in vectorizer.vocabulary_.values())
    assert np.array_equal(features.transform(texts[:3]).toarray(), before)


@pytest.mark.parametrize("value", ["-1", "0.5", "true"])
def test_bad_min_labels_is_a_clear_error(value):
    with pytest.raises(TopicwireError, match="thresholds.min_labels must be a whole number"):
        build_model(composed(f"thresholds.min_labels={value}"))


def test_every_trusted_features_type_survives_skops():
    # A model published with format: skops must load: its feature types must be trusted.
    import skops.io

    from pipeline.artifact import TRUSTED_TYPES

    texts = ["Sanctions on oil exports", "Evacuation of the port city", "Arms deliveries"] * 4
    for option in options("features"):
        features = build_model(composed(f"features={option}")).named_steps["features"]
        features.fit(texts)
        untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(features))
        assert set(untrusted) <= set(TRUSTED_TYPES), (option, untrusted)
