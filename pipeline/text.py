"""Cleaning scraped news pages: the same code runs in the ingest stage and inside the model.

A scraped page carries a site name, the title repeated with " – Site Name", "Source link",
newsletter and cookie prompts, "Advertisement", photo captions and lists of related headlines.
`ArticleCleaner` removes them (patterns come from conf/cleaning/), normalises unicode and
whitespace and splits the title from the body. It is a scikit-learn transformer, so the published
model starts with it and a raw page given to `topicwire predict` is cleaned exactly as a page in
data/raw/ was at training time. Cleaning is idempotent: cleaning a cleaned article changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sklearn.base import BaseEstimator, TransformerMixin

# Characters that scrapers leave behind and that carry no meaning.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_SENTENCE_END = (".", "!", "?", "…", ":", ";", ",", '"', "”", "'", "’", ")")


@dataclass(frozen=True)
class CleanArticle:
    title: str
    body: str

    def as_text(self) -> str:
        """The model's input: title and body, separated by a blank line."""
        return join_title_body(self.title, self.body)


def join_title_body(title: str | None, body: str) -> str:
    """How a cleaned title and body are put together for the model."""
    if title and body:
        return f"{title}\n\n{body}"
    return title or body


def normalise(text: str, form: str = "NFKC") -> str:
    """Unicode-normalise and collapse whitespace within lines; keep line structure."""
    text = unicodedata.normalize(form, text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    # _SPACES never matches a newline, so one pass over the whole text collapses the same runs
    # as a pass per line, without a regex call per line (wire text has many short lines).
    return "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n"))


def _casefold_key(line: str) -> str:
    return " ".join(line.casefold().split())


class ArticleCleaner(TransformerMixin, BaseEstimator):
    """Remove scraped-page boilerplate and split title from body.

    Parameters
    ----------
    drop_lines:
        Regular expressions; a line that matches one completely (case-insensitive) is dropped.
    related_headings:
        Regular expressions for headings that open a list of related headlines ("Related",
        "More from Site"). The heading and the headline-like lines after it are dropped.
    title_separators:
        Characters that join a title to a site name in a repeated title ("Title – Site").
    site_names:
        Known site names: a line equal to one is dropped wherever it appears at the top.
    header_lines:
        How many non-blank lines at the top are searched for site names and titles.
    max_title_words:
        A line longer than this is never taken for a title or a related headline.
    max_site_words:
        A site name in "Title – Site" has at most this many words.
    unicode_form:
        Unicode normal form applied before anything else.
    """

    def __init__(
        self,
        drop_lines: Sequence[str] = (),
        related_headings: Sequence[str] = (),
        title_separators: Sequence[str] = ("–", "—", "|", "-"),
        site_names: Sequence[str] = (),
        header_lines: int = 6,
        max_title_words: int = 30,
        max_site_words: int = 6,
        unicode_form: str = "NFKC",
    ) -> None:
        self.drop_lines = drop_lines
        self.related_headings = related_headings
        self.title_separators = title_separators
        self.site_names = site_names
        self.header_lines = header_lines
        self.max_title_words = max_title_words
        self.max_site_words = max_site_words
        self.unicode_form = unicode_form

    # -- scikit-learn API -------------------------------------------------------------------
    def fit(self, X: Iterable[str], y: object = None) -> ArticleCleaner:
        self._compile()
        return self

    def transform(self, X: Iterable[str]) -> list[str]:
        return [self.clean(text).as_text() for text in X]

    # -- cleaning --------------------------------------------------------------------------
    def _compile(self) -> None:
        def union(patterns: Sequence[str]) -> re.Pattern[str] | None:
            if not patterns:
                return None
            return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)

        try:
            self._drop = union(list(self.drop_lines))
            self._related = union(list(self.related_headings))
        except re.error as exc:
            raise ValueError(f"invalid cleaning pattern: {exc}") from exc
        seps = "".join(re.escape(s) for s in self.title_separators)
        # "Title – Site": a separator surrounded by spaces, the site part without separators.
        self._title_site = re.compile(rf"^(?P<title>.+?)\s+[{seps}]\s+(?P<site>[^{seps}]+)$")
        self._sites = {_casefold_key(s) for s in self.site_names}

    def __getstate__(self) -> dict:
        # Compiled patterns are rebuilt on first use: the saved model holds only the settings,
        # which keeps it loadable by skops without trusting re.Pattern.
        state = self.__dict__.copy()
        for name in ("_drop", "_related", "_title_site", "_sites"):
            state.pop(name, None)
        return state

    def _compiled(self) -> None:
        if not hasattr(self, "_title_site"):
            self._compile()

    def _is_headline(self, line: str) -> bool:
        return 0 < len(line.split()) <= self.max_title_words and not line.endswith(".")

    def _is_site_header(self, lines: list[str], first: int, second: int) -> bool:
        """A short first line directly above a longer headline is the site's name.

        "Directly" (no blank line between) keeps cleaning idempotent: a cleaned article always
        has a blank line after its title, so a short title is never taken for a site name.
        """
        candidate, headline = lines[first], lines[second]
        return (
            second == first + 1
            and len(candidate.split()) <= self.max_site_words
            and not candidate.endswith(_SENTENCE_END)
            and self._is_headline(headline)
            and len(headline.split()) > len(candidate.split())
        )

    def clean(self, text: str, title: str | None = None) -> CleanArticle:
        """Clean one page. `title`, when the record has one, is used instead of guessing it."""
        self._compiled()
        lines = normalise(text, self.unicode_form).split("\n")
        lines = self._drop_boilerplate(lines)
        given = normalise(title, self.unicode_form).replace("\n", " ").strip() if title else ""
        found_title, lines = self._split_title(lines, given)
        body = _paragraphs(lines)
        return CleanArticle(title=given or found_title, body=body)

    def _drop_boilerplate(self, lines: list[str]) -> list[str]:
        kept: list[str] = []
        in_related = False
        for line in lines:
            if in_related:
                if not line or self._is_headline(line):
                    continue
                in_related = False
            if self._related is not None and line and self._related.fullmatch(line):
                in_related = True
                continue
            if self._drop is not None and line and self._drop.fullmatch(line):
                continue
            kept.append(line)
        return kept

    def _split_title(self, lines: list[str], given: str) -> tuple[str, list[str]]:
        top = [i for i, line in enumerate(lines) if line][: self.header_lines]
        keys = {i: _casefold_key(lines[i]) for i in top}
        sites = set(self._sites)
        title = given
        drop: set[int] = set()
        heads: dict[int, str] = {}  # index of a "Head – Site" line -> its head

        # A line "Head – Site" is a repeated title when the head stands alone elsewhere at the
        # top (or is the record's title); its site is a site name when it is a known name or a
        # line of its own. Either way the line is boilerplate.
        for i in top:
            match = self._title_site.match(lines[i])
            if not match or not self._is_headline(lines[i]):
                continue
            head, site = match["title"].strip(), match["site"].strip()
            head_key, site_key = _casefold_key(head), _casefold_key(site)
            if len(site.split()) > self.max_site_words or site.endswith(_SENTENCE_END):
                continue
            others = [keys[j] for j in top if j != i]
            repeated = head_key in others or (given and head_key == _casefold_key(given))
            if repeated or site_key in sites or site_key in others:
                sites.add(site_key)
                drop.add(i)
                heads[i] = head
                if repeated:
                    title = title or head
        if not sites:
            rest = [i for i in top if i not in drop]
            if len(rest) >= 2 and self._is_site_header(lines, rest[0], rest[1]):
                sites.add(keys[rest[0]])
        for i in top:
            if keys[i] in sites:
                drop.add(i)
        if not title:
            # The first line below the site name: "Head – Site" gives its head, else the line.
            first_line = next((i for i in top if keys[i] not in sites), None)
            if first_line in heads:
                title = heads[first_line]
        if not title:
            first = next((i for i in top if i not in drop), None)
            rest = [j for j in top if j not in drop and j != first]
            if first is not None and rest and self._is_headline(lines[first]):
                title = lines[first]
                drop.add(first)
        if title:
            title_key = _casefold_key(title)
            for i in top:
                if keys[i] == title_key:
                    drop.add(i)
        return title, [line for i, line in enumerate(lines) if i not in drop]


def _paragraphs(lines: list[str]) -> str:
    """Join lines; a run of blank lines becomes one paragraph break."""
    out: list[str] = []
    blank = False
    for line in lines:
        if not line:
            blank = bool(out)
            continue
        if blank:
            out.append("")
            blank = False
        out.append(line)
    return "\n".join(out)
