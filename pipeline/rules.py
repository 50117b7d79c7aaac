"""Topic rules: weak labels for unlabelled articles, from configuration (conf/labels/).

A topic's rules are labelling functions that vote on each sentence (or paragraph) of an article:

- a rule fires on a sentence when one of its `terms` or `patterns` matches and, if it has `near`,
  a context term occurs within `window` words of that match ("a weapons term near a supply verb");
- a rule's `weight` is its vote: positive for the topic, negative against it;
- an `exclude` entry (the topic's other senses: doping "sanctions", delivery drones) vetoes a
  sentence: nothing in that sentence counts for the topic.

Per article and topic, the votes are combined as a weighted vote: each sentence contributes its
strongest positive rule plus its negative rules (correlated rules in one sentence count once),
the title counts `title_weight` times, and the evidence E becomes a probability
p = sigmoid(slope * (E - threshold)). Because a passing mention does not make a topic, p is capped
at 0.5 while fewer than `min_sentences` sentences support the topic. The weak label is p >= 0.5
and its confidence max(p, 1 - p); below the minimum confidence the rules abstain on that topic
(the train stage then leaves the article out of that topic's model).

Terms are matched as whole words, case-insensitive; a trailing `*` matches any word ending
(`deliver*` matches delivered, deliveries). Patterns are regular expressions (case-insensitive).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.errors import TopicwireError

_SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"”’)]))\s+(?=[\"“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


def split_units(text: str, unit: str = "sentence") -> list[str]:
    """The text's paragraphs, or its sentences (paragraph breaks always end a sentence)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if unit == "paragraph":
        return paragraphs
    if unit != "sentence":
        raise TopicwireError(
            f"rules unit {unit!r} is not known; expected 'sentence' or 'paragraph'"
        )
    return [s.strip() for p in paragraphs for s in _SENTENCE_BREAK.split(p) if s.strip()]


def _term_pattern(terms: Sequence[str], where: str) -> re.Pattern[str] | None:
    parts = []
    for term in terms:
        term = str(term).strip()
        if not term:
            raise TopicwireError(f"{where}: empty term; expected words or phrases")
        wildcard = term.endswith("*")
        words = term.rstrip("*").split()
        body = r"\s+".join(re.escape(w) for w in words)
        parts.append(body + (r"\w*" if wildcard else ""))
    if not parts:
        return None
    # Longest first, so that "arms deal" wins over "arms" in the matched span.
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def _regex(patterns: Sequence[str], where: str) -> re.Pattern[str] | None:
    if not patterns:
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    except re.error as exc:
        raise TopicwireError(
            f"{where}: invalid pattern ({exc}); expected regular expressions"
        ) from None


@dataclass(frozen=True)
class Matcher:
    """Terms and patterns, optionally with context terms required nearby."""

    name: str
    anchors: tuple[re.Pattern[str], ...]
    near: re.Pattern[str] | None = None
    window: int = 8

    @classmethod
    def from_config(cls, name: str, spec: Mapping[str, Any], where: str) -> Matcher:
        known = {"terms", "patterns", "near", "window", "weight", "description"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise TopicwireError(
                f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}"
            )
        anchors = tuple(
            p
            for p in (
                _term_pattern(spec.get("terms") or (), where),
                _regex(spec.get("patterns") or (), where),
            )
            if p is not None
        )
        if not anchors:
            raise TopicwireError(f"{where}: no terms or patterns; expected at least one of them")
        window = int(spec.get("window", 8))
        if window < 1:
            raise TopicwireError(f"{where}: window must be at least 1 word, got {window}")
        near = _term_pattern(spec.get("near") or (), where)
        return cls(name, anchors, near, window)

    def matches(self, sentence: str) -> bool:
        spans = [m.span() for pattern in self.anchors for m in pattern.finditer(sentence)]
        if not spans or self.near is None:
            return bool(spans)
        context = [m.span() for m in self.near.finditer(sentence)]
        if not context:
            return False
        starts = [m.start() for m in _WORD.finditer(sentence)]

        def words(span: tuple[int, int]) -> tuple[int, int]:
            first = bisect.bisect_right(starts, span[0]) - 1
            last = bisect.bisect_left(starts, span[1]) - 1
            return max(first, 0), max(last, first, 0)

        for anchor in map(words, spans):
            for ctx in map(words, context):
                gap = max(ctx[0] - anchor[1], anchor[0] - ctx[1], 0)
                if gap <= self.window and ctx != anchor:
                    return True
        return False


@dataclass(frozen=True)
class Rule:
    topic: str
    matcher: Matcher
    weight: float

    @property
    def name(self) -> str:
        return self.matcher.name


@dataclass(frozen=True)
class TopicRules:
    topic: str
    rules: tuple[Rule, ...]
    exclusions: tuple[Matcher, ...]
    threshold: float
    min_sentences: int


@dataclass(frozen=True)
class Firing:
    """What the rules found in one article, per topic: for the weak label and its analysis."""

    rules: frozenset[str]  # "topic/rule" of every rule that fired in a counted sentence
    exclusions: frozenset[str]  # "topic/exclude/name" of every exclusion that vetoed a sentence
    evidence: float
    supporting: int


@dataclass
class WeakLabel:
    labels: list[str]
    scores: list[float]  # p per topic, in taxonomy order
    abstained: list[str]  # topics on which the rules abstain
    confidence: float  # the lowest confidence over topics
    firings: dict[str, Firing] = field(default_factory=dict)


class TopicRuleSet:
    """Compiled topic rules; `label(title, text)` gives an article's weak labels."""

    def __init__(self, config: Mapping[str, Any], labels: Sequence[str]) -> None:
        self.labels = list(labels)
        self.unit = str(config.get("unit", "sentence"))
        self.title_weight = float(config.get("title_weight", 1.0))
        self.slope = float(config.get("slope", 1.0))
        self.min_confidence = float(config.get("min_confidence", 0.5))
        if not 0.5 <= self.min_confidence <= 1:
            raise TopicwireError(
                f"labels.min_confidence must be in [0.5, 1], got {self.min_confidence}"
            )
        if self.slope <= 0:
            raise TopicwireError(f"labels.slope must be positive, got {self.slope}")
        split_units("", self.unit)  # validates the unit
        topics = dict(config.get("topics") or {})
        unknown = sorted(set(topics) - set(self.labels))
        if unknown:
            raise TopicwireError(
                f"labels.topics: rules for {', '.join(unknown)}, which the taxonomy does not "
                f"have; expected topics from: {', '.join(self.labels)}"
            )
        self.topics: dict[str, TopicRules] = {}
        for topic in self.labels:
            spec = topics.get(topic) or {}
            where = f"labels.topics.{topic}"
            rules = tuple(
                Rule(
                    topic,
                    Matcher.from_config(name, rule, f"{where}.rules.{name}"),
                    _weight(rule, f"{where}.rules.{name}"),
                )
                for name, rule in (spec.get("rules") or {}).items()
            )
            exclusions = tuple(
                Matcher.from_config(name, ex, f"{where}.exclude.{name}")
                for name, ex in (spec.get("exclude") or {}).items()
            )
            self.topics[topic] = TopicRules(
                topic,
                rules,
                exclusions,
                float(spec.get("threshold", 2.0)),
                int(spec.get("min_sentences", 1)),
            )

    @property
    def rule_names(self) -> list[str]:
        return [f"{t}/{r.name}" for t, spec in self.topics.items() for r in spec.rules]

    @property
    def exclusion_names(self) -> list[str]:
        return [f"{t}/exclude/{m.name}" for t, spec in self.topics.items() for m in spec.exclusions]

    def _fire(self, spec: TopicRules, units: Sequence[tuple[str, float]]) -> Firing:
        fired: set[str] = set()
        vetoed: set[str] = set()
        evidence = 0.0
        supporting = 0
        for sentence, weight in units:
            hits = [r for r in spec.rules if r.matcher.matches(sentence)]
            if not hits:
                continue
            vetoes = [m.name for m in spec.exclusions if m.matches(sentence)]
            if vetoes:
                vetoed.update(f"{spec.topic}/exclude/{name}" for name in vetoes)
                continue
            fired.update(f"{spec.topic}/{r.name}" for r in hits)
            positive = max((r.weight for r in hits if r.weight > 0), default=0.0)
            negative = sum(r.weight for r in hits if r.weight < 0)
            evidence += weight * (positive + negative)
            supporting += positive > 0
        return Firing(frozenset(fired), frozenset(vetoed), evidence, supporting)

    def label(self, title: str | None, text: str) -> WeakLabel:
        units = [(title, self.title_weight)] if title else []
        units += [(s, 1.0) for s in split_units(text, self.unit)]
        result = WeakLabel([], [], [], 1.0)
        for topic in self.labels:
            spec = self.topics[topic]
            firing = self._fire(spec, units)
            p = 1.0 / (1.0 + math.exp(-self.slope * (firing.evidence - spec.threshold)))
            if not spec.rules:
                p = 0.5  # no rules for this topic: the rules know nothing about it
            elif firing.supporting < spec.min_sentences:
                p = min(p, 0.5)  # a passing mention: not enough to say yes, nor to say no
            confidence = max(p, 1.0 - p)
            result.scores.append(p)
            result.firings[topic] = firing
            result.confidence = min(result.confidence, confidence)
            if confidence < self.min_confidence or p == 0.5:
                result.abstained.append(topic)
            elif p > 0.5:
                result.labels.append(topic)
        return result


def _weight(spec: Mapping[str, Any], where: str) -> float:
    try:
        weight = float(spec.get("weight", 1.0))
    except (TypeError, ValueError):
        raise TopicwireError(
            f"{where}.weight: expected a number, got {spec.get('weight')!r}"
        ) from None
    if weight == 0:
        raise TopicwireError(f"{where}.weight: 0 would make the rule do nothing")
    return weight


# ---------------------------------------------------------------------------------------------
# Analysis of the rules against known labels (Snorkel's "LF analysis", per rule and per topic).


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def rule_analysis(
    ruleset: TopicRuleSet,
    results: Sequence[WeakLabel],
    truth: Sequence[Sequence[str] | None],
) -> dict[str, Any]:
    """Coverage, overlap, conflicts and precision/recall against known labels, per rule.

    - coverage: share of articles on which the rule fires (in a sentence not vetoed);
    - overlap: share on which it fires together with another rule of the same topic;
    - conflict: share on which it fires while a rule or exclusion of the same topic votes the
      other way in the same article;
    - precision: among covered articles with known labels, share whose labels agree with the
      rule's vote (topic present for a positive weight, absent for a negative one);
    - recall (positive rules): share of the known positives of the topic that the rule covers.
    `truth[i]` is None for an article whose labels are unknown.
    """
    n = len(results)
    known = [i for i, t in enumerate(truth) if t is not None]
    per_rule: dict[str, Any] = {}
    for topic, spec in ruleset.topics.items():
        positives = {i for i in known if topic in truth[i]}
        firings = [r.firings[topic] for r in results]
        weights = {f"{topic}/{r.name}": r.weight for r in spec.rules}
        for name, weight in weights.items():
            covered = [i for i, f in enumerate(firings) if name in f.rules]
            overlap = sum(1 for i in covered if len(firings[i].rules) > 1)
            conflict = sum(
                1
                for i in covered
                if any(weights[o] * weight < 0 for o in firings[i].rules)
                or (weight > 0 and firings[i].exclusions)
            )
            covered_known = [i for i in covered if truth[i] is not None]
            agree = sum(1 for i in covered_known if (topic in truth[i]) == (weight > 0))
            entry = {
                "weight": weight,
                "coverage": _ratio(len(covered), n),
                "overlap": _ratio(overlap, n),
                "conflict": _ratio(conflict, n),
                "articles": len(covered),
                "known": len(covered_known),
                "precision": _ratio(agree, len(covered_known)),
            }
            if weight > 0:
                entry["recall"] = _ratio(len(positives & set(covered_known)), len(positives))
            per_rule[name] = entry
        for matcher in spec.exclusions:
            name = f"{topic}/exclude/{matcher.name}"
            covered = [i for i, f in enumerate(firings) if name in f.exclusions]
            covered_known = [i for i in covered if truth[i] is not None]
            agree = sum(1 for i in covered_known if topic not in truth[i])
            per_rule[name] = {
                "coverage": _ratio(len(covered), n),
                "articles": len(covered),
                "known": len(covered_known),
                "precision": _ratio(agree, len(covered_known)),  # vetoed articles without topic
            }
    return per_rule


def topic_analysis(
    ruleset: TopicRuleSet,
    results: Sequence[WeakLabel],
    truth: Sequence[Sequence[str] | None],
) -> dict[str, Any]:
    """Per topic: how often the rules decide (coverage), abstain, and how right they are.

    precision/recall/f1 are over the articles where the rules decide the topic;
    `f1_abstain_as_no` counts an abstention as "no topic" (the rules used alone as a classifier).
    """
    n = len(results)
    per_topic: dict[str, Any] = {}
    for topic in ruleset.labels:
        decided = [i for i, r in enumerate(results) if topic not in r.abstained]
        tp = fp = fn = tp_all = fp_all = fn_all = 0
        for i, result in enumerate(results):
            if truth[i] is None:
                continue
            said, true = topic in result.labels, topic in truth[i]
            tp_all += said and true
            fp_all += said and not true
            fn_all += true and not said
            if topic in result.abstained:
                continue
            tp += said and true
            fp += said and not true
            fn += true and not said
        per_topic[topic] = {
            "coverage": _ratio(len(decided), n),
            "abstained": n - len(decided),
            "positive": sum(1 for r in results if topic in r.labels),
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "f1_abstain_as_no": _ratio(2 * tp_all, 2 * tp_all + fp_all + fn_all),
        }
    return per_topic


def weak_label_matrix(results: Sequence[WeakLabel], labels: Sequence[str]) -> np.ndarray:
    """0/1 matrix of the rules' labels (an abstention counts as no), for evaluation."""
    index = {label: j for j, label in enumerate(labels)}
    Y = np.zeros((len(results), len(labels)), dtype=np.int8)
    for i, result in enumerate(results):
        for label in result.labels:
            Y[i, index[label]] = 1
    return Y
