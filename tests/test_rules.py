"""Topic rules: matching, the weighted vote, passing mentions, exclusions, abstention, and the
analysis of rules against known labels (checked against figures computed by hand)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from pipeline.errors import TopicwireError
from pipeline.rules import (
    Matcher,
    TopicRuleSet,
    rule_analysis,
    split_units,
    topic_analysis,
    weak_label_matrix,
)

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["arms_transfers", "sanctions"]


def ruleset(**overrides) -> TopicRuleSet:
    config = {
        "unit": "sentence",
        "title_weight": 1.0,
        "slope": 2.0,
        "min_confidence": 0.8,
        "topics": {
            "arms_transfers": {
                "threshold": 2.0,
                "min_sentences": 2,
                "rules": {
                    "weapon_near_supply": {
                        "terms": ["missile*", "weapons"],
                        "near": ["deliver*", "supplied"],
                        "window": 3,
                        "weight": 1.5,
                    },
                    "arms_deal": {"terms": ["arms deal"], "weight": 2.5},
                },
                "exclude": {"delivery_drones": {"terms": ["drone"], "near": ["parcel*"]}},
            },
            "sanctions": {
                "threshold": 2.0,
                "min_sentences": 2,
                "rules": {
                    "sanctions": {"terms": ["sanction*"], "weight": 2.0},
                    "prices_only": {"terms": ["oil prices"], "weight": -1.0},
                },
                "exclude": {"sport": {"terms": ["sanction*"], "near": ["doping"], "window": 5}},
            },
        },
    }
    config.update(overrides)
    return TopicRuleSet(config, LABELS)


def test_sentences_split_at_sentence_ends_and_paragraphs():
    text = 'He said: "It is over." Then he left.\n\nA new paragraph without a full stop\nstill one'
    assert split_units(text) == [
        'He said: "It is over."',
        "Then he left.",
        "A new paragraph without a full stop\nstill one",
    ]
    assert len(split_units(text, "paragraph")) == 2
    with pytest.raises(TopicwireError, match="expected 'sentence' or 'paragraph'"):
        split_units(text, "page")


def test_terms_match_whole_words_with_wildcard_endings_and_nearby_context():
    m = Matcher.from_config(
        "r", {"terms": ["missile*", "arms deal"], "near": ["deliver*"], "window": 3}, "here"
    )
    assert m.matches("Missiles were delivered on Monday.")
    assert m.matches("The convoy delivered the missile.")
    assert not m.matches("The missiles hit a depot; aid was delivered far away later on.")
    assert not m.matches("Deliveries of antimissile systems")  # whole words only
    assert Matcher.from_config("r", {"terms": ["arms deal"]}, "here").matches("an Arms  Deal")
    assert not Matcher.from_config("r", {"terms": ["arms"]}, "here").matches("firearms")


def test_a_passing_mention_decides_nothing_and_the_rules_abstain():
    result = ruleset().label(
        "Election results", "Russia, under heavy Western sanctions, voted on Sunday. Turnout rose."
    )
    assert result.labels == [] and result.abstained == ["sanctions"]
    assert result.scores[1] == 0.5  # one supporting sentence: capped at 0.5, not a "no"
    assert result.firings["sanctions"].supporting == 1


def test_supporting_sentences_make_a_confident_label():
    result = ruleset().label(
        "New sanctions on shippers",
        "The EU sanctioned six tankers. The sanctions take effect today. Nothing else.",
    )
    # evidence: title 2.0 + two sentences 2.0 each = 6.0; p = sigmoid(2 * (6 - 2))
    assert result.labels == ["sanctions"] and result.abstained == []
    assert result.scores[1] == pytest.approx(1 / (1 + math.exp(-8)))
    assert result.firings["sanctions"].evidence == 6.0
    assert result.firings["sanctions"].supporting == 3


def test_no_evidence_is_a_confident_no():
    result = ruleset().label("Floods", "Rain fell for a week. Rivers rose.")
    assert result.labels == [] and result.abstained == []
    assert result.scores == [pytest.approx(1 / (1 + math.exp(4)))] * 2
    assert result.confidence == pytest.approx(1 - 1 / (1 + math.exp(4)))


def test_exclusions_veto_the_other_sense():
    result = ruleset().label(
        "Sprinter banned",
        "The federation imposed doping sanctions on the sprinter. "
        "The doping sanctions run for four years.",
    )
    assert result.labels == [] and result.abstained == []
    assert result.firings["sanctions"].exclusions == {"sanctions/exclude/sport"}
    assert result.firings["sanctions"].rules == frozenset()


def test_correlated_rules_in_one_sentence_count_once_and_negative_rules_subtract():
    rs = ruleset()
    one = rs.label(None, "The arms deal covers missiles delivered next year.")
    assert one.firings["arms_transfers"].evidence == 2.5  # the strongest rule, not 2.5 + 1.5
    mixed = rs.label(None, "Sanctions pushed oil prices up.")
    assert mixed.firings["sanctions"].evidence == 1.0  # 2.0 - 1.0


def test_title_weight_and_min_confidence_are_configurable():
    text = "New sanctions were announced. The sanctions list grew."
    strict = ruleset(min_confidence=0.99).label(None, text)
    # sanctions p = sigmoid(2 * (4 - 2)) and arms 1 - sigmoid(-4): both 0.982, not sure enough
    assert strict.abstained == ["arms_transfers", "sanctions"] and strict.labels == []
    assert ruleset().label(None, text).labels == ["sanctions"]
    titled = ruleset(title_weight=2.0).label("Sanctions", text)
    assert titled.firings["sanctions"].evidence == 8.0


def test_a_topic_without_rules_is_always_abstained_on():
    result = TopicRuleSet({"topics": {}}, LABELS).label("Anything", "Sanctions. Missiles.")
    assert result.labels == [] and result.abstained == LABELS and result.scores == [0.5, 0.5]


def test_paragraph_units():
    text = "Sanctions were extended. Sanctions on banks too.\n\nNothing more."
    result = ruleset(unit="paragraph").label(None, text)
    assert result.firings["sanctions"].supporting == 1 and result.abstained == ["sanctions"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"topics": {"piracy": {}}}, "rules for piracy, which the taxonomy does not have"),
        (
            {"topics": {"sanctions": {"rules": {"bad": {"patterns": ["(unclosed"]}}}}},
            "labels.topics.sanctions.rules.bad: invalid pattern",
        ),
        (
            {"topics": {"sanctions": {"rules": {"z": {"terms": ["x"], "weight": 0}}}}},
            "labels.topics.sanctions.rules.z.weight: 0 would make the rule do nothing",
        ),
        (
            {"topics": {"sanctions": {"rules": {"t": {"term": ["x"]}}}}},
            "labels.topics.sanctions.rules.t: unknown key\\(s\\) term",
        ),
        (
            {"topics": {"sanctions": {"rules": {"e": {"weight": 1}}}}},
            "labels.topics.sanctions.rules.e: no terms or patterns",
        ),
        ({"min_confidence": 0.3}, "labels.min_confidence must be in \\[0.5, 1\\]"),
    ],
)
def test_configuration_errors_name_the_rule_and_what_was_expected(change, message):
    with pytest.raises(TopicwireError, match=message):
        ruleset(**change)


# Hand-computed analysis. Five articles, labels known for four (the fifth is unlabelled):
#   a1 arms deal twice + missiles delivered  -> truth arms           (both arms rules fire)
#   a2 arms deal once, weapons supplied      -> truth none           (both fire)
#   a3 sanctions twice                       -> truth sanctions
#   a4 doping sanctions twice, oil prices    -> truth none           (exclusion vetoes; prices)
#   a5 sanctions and oil prices, unlabelled  -> truth unknown        (sanctions + prices_only)
#   (one article is 1/5 = 0.2 of coverage, overlap or conflict)
ARTICLES = [
    ("a1", "An arms deal was signed. The arms deal includes missiles delivered in May."),
    ("a2", "The arms deal collapsed. No weapons were supplied."),
    ("a3", "Sanctions were imposed. The sanctions target banks."),
    ("a4", "Doping sanctions were imposed. Doping sanctions are rare. Oil prices rose."),
    ("a5", "Sanctions raised oil prices. Nothing else happened."),
]
TRUTH = [["arms_transfers"], [], ["sanctions"], [], None]


def analysed():
    rs = ruleset()
    results = [rs.label(None, text) for _, text in ARTICLES]
    return rs, results


def test_rule_analysis_matches_hand_computed_figures():
    rs, results = analysed()
    per_rule = rule_analysis(rs, results, TRUTH)
    assert per_rule["arms_transfers/arms_deal"] == {
        "weight": 2.5,
        "coverage": 0.4,  # a1, a2 of 5
        "overlap": 0.4,  # weapon_near_supply also fires in both
        "conflict": 0.0,
        "articles": 2,
        "known": 2,
        "precision": 0.5,  # a1 has the topic, a2 not
        "recall": 1.0,  # the one arms article (a1) is covered
    }
    assert per_rule["arms_transfers/weapon_near_supply"]["coverage"] == 0.4
    sanctions = per_rule["sanctions/sanctions"]
    # fires in a3 and a5 (a4's sentences are vetoed); a5 also has the negative prices rule
    assert sanctions["articles"] == 2 and sanctions["known"] == 1
    assert sanctions["overlap"] == 0.2 and sanctions["conflict"] == 0.2
    assert sanctions["precision"] == 1.0 and sanctions["recall"] == 1.0
    prices = per_rule["sanctions/prices_only"]
    # fires in a4 (its sentence has no exclusion) and a5; agrees (topic absent) on a4
    assert prices["articles"] == 2 and prices["known"] == 1 and prices["precision"] == 1.0
    assert prices["conflict"] == 0.2 and "recall" not in prices
    assert per_rule["sanctions/exclude/sport"] == {
        "coverage": 0.2,
        "articles": 1,
        "known": 1,
        "precision": 1.0,
    }
    assert per_rule["arms_transfers/exclude/delivery_drones"]["articles"] == 0


def test_topic_analysis_matches_hand_computed_figures():
    rs, results = analysed()
    # a2: "arms deal" (2.5) + "weapons ... supplied" (1.5) in two sentences: E = 4, p =
    # sigmoid(4) -> labelled arms (the rules cannot read "No"): a false positive.
    # a5: sanctions 2.0 - prices 1.0 = 1.0 in one sentence: p = sigmoid(-2) = 0.12, a sure "no".
    assert [r.labels for r in results] == [
        ["arms_transfers"],
        ["arms_transfers"],
        ["sanctions"],
        [],
        [],
    ]
    per_topic = topic_analysis(rs, results, TRUTH)
    assert per_topic["arms_transfers"] == {
        "coverage": 1.0,
        "abstained": 0,
        "positive": 2,
        "precision": 0.5,
        "recall": 1.0,
        "f1": 0.666667,
        "f1_abstain_as_no": 0.666667,
    }
    assert per_topic["sanctions"] == {
        "coverage": 1.0,
        "abstained": 0,
        "positive": 1,
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "f1_abstain_as_no": 1.0,
    }
    # an abstention is left out of precision/recall but counts as "no" in f1_abstain_as_no
    abstaining = [rs.label(None, "Sanctions were announced on Monday."), *results[:4]]
    truth = [["sanctions"], *TRUTH[:4]]
    sanctions = topic_analysis(rs, abstaining, truth)["sanctions"]
    assert sanctions["abstained"] == 1 and sanctions["coverage"] == 0.8
    assert sanctions["recall"] == 1.0 and sanctions["f1_abstain_as_no"] == 0.666667
    assert weak_label_matrix(results, LABELS).tolist() == [[1, 0], [1, 0], [0, 1], [0, 0], [0, 0]]


SHIPPED = yaml.safe_load((ROOT / "conf/labels/conflict_news.yaml").read_text())
TAXONOMY = ["arms_transfers", "energy_infrastructure", "evacuations", "sanctions"]


@pytest.mark.parametrize(
    ("title", "text", "not_labelled"),
    [
        (
            "Sprinter suspended",
            "The athletics federation imposed doping sanctions on the sprinter. "
            "The sanctions, announced by WADA, bar him from the Olympics. "
            "His club said it would appeal the sanctions.",
            "sanctions",
        ),
        (
            "Drone deliveries expand",
            "A retailer began delivering parcels by drone in three towns. "
            "Its drones deliver medicine to farms. Drone parcel services grew this year.",
            "arms_transfers",
        ),
        (
            "School holds fire drill",
            "Pupils were evacuated during a fire drill on Monday. "
            "The fire drill evacuation took six minutes.",
            "evacuations",
        ),
    ],
)
def test_shipped_rules_leave_out_the_other_senses(title, text, not_labelled):
    result = TopicRuleSet(SHIPPED, TAXONOMY).label(title, text)
    assert not_labelled not in result.labels
    assert any(result.firings[not_labelled].exclusions) or not result.firings[not_labelled].rules


def test_shipped_rules_label_a_clear_report():
    result = TopicRuleSet(SHIPPED, TAXONOMY).label(
        "Germany approves new air defence deliveries to Ukraine",
        "Germany will deliver two more Patriot systems to Ukraine, the defence ministry said. "
        "The military aid package also includes ammunition supplied from Bundeswehr stocks.",
    )
    assert result.labels == ["arms_transfers"]
