"""Readers for the standard corpora, read in place (never copied into the project).

* Reuters-21578 (Distribution 1.0), split "ModApte", the 90 categories that have at least one
  training and one test document: 7,770 train / 3,019 test, multi-label. The SGML files are
  parsed with the standard library's `html.parser` (SGML-ish markup, character references such
  as ``&#3;``); a malformed story stops the run with its file and line.
* 20 Newsgroups "bydate": read straight from `20news-bydate.tar.gz` (11,314 train / 7,532
  test, single-label, 20 classes), each post whole (headers included, as scikit-learn's
  `fetch_20newsgroups` gives it by default), decoded as Latin-1.

The directory defaults to `../shared/benchmarks/` seen from the project root; set
`--data-dir` or `TOPICWIRE_BENCH_DATA` to point elsewhere.
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from pipeline.errors import TopicwireError

ROOT = Path(__file__).resolve().parents[1]
ENV_DATA = "TOPICWIRE_BENCH_DATA"
REUTERS_FILES = 22  # reut2-000.sgm ... reut2-021.sgm


def data_dir(option: str | None = None) -> Path:
    """--data-dir, else $TOPICWIRE_BENCH_DATA, else ../shared/benchmarks from the project."""
    path = Path(option or os.environ.get(ENV_DATA) or ROOT.parent / "shared" / "benchmarks")
    if not path.is_dir():
        raise TopicwireError(
            f"{path}: benchmark corpora not found; pass --data-dir or set {ENV_DATA} "
            "(expected reuters21578/ and 20newsgroups/ inside)"
        )
    return path


@dataclass
class Document:
    id: str
    text: str
    labels: list[str]


@dataclass
class Corpus:
    name: str
    labels: list[str]
    train: list[Document]
    test: list[Document]
    multi_label: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def megabytes(self) -> tuple[float, float]:
        """UTF-8 size of the train and test texts, in MB (10^6 bytes)."""
        return tuple(sum(len(d.text.encode("utf-8")) for d in ds) / 1e6 for ds in self.splits())

    def splits(self) -> tuple[list[Document], list[Document]]:
        return self.train, self.test


# -- Reuters-21578 ---------------------------------------------------------------------------


@dataclass
class _Story:
    line: int
    attrs: dict[str, str]
    topics: list[str] = field(default_factory=list)
    title: str = ""
    body: str = ""


class _ReutersParser(HTMLParser):
    """Collects <REUTERS> stories: their attributes, TOPICS <D> items, TITLE and BODY."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.stories: list[_Story] = []
        self.story: _Story | None = None
        self.stack: list[str] = []
        self.text: list[str] = []

    def error_at(self, what: str) -> TopicwireError:
        return TopicwireError(f"{self.path}:{self.getpos()[0]}: {what}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "reuters":
            if self.story is not None:
                raise self.error_at(
                    f"<REUTERS> opened inside the story that starts on line {self.story.line}; "
                    "expected </REUTERS> first"
                )
            self.story = _Story(self.getpos()[0], {k.lower(): v or "" for k, v in attrs})
            self.stack = []
            return
        if self.story is None:
            return
        self.stack.append(tag)
        if tag in {"title", "body", "d"}:
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "reuters":
            if self.story is None:
                raise self.error_at("</REUTERS> without an open story")
            self.stories.append(self.story)
            self.story = None
            return
        if self.story is None:
            return
        if tag not in self.stack:
            raise self.error_at(f"</{tag.upper()}> closes no open tag (open: {self.stack})")
        while self.stack and self.stack.pop() != tag:
            pass  # SGML allows omitted end tags; close them implicitly
        text = "".join(self.text)
        if tag == "d" and "topics" in self.stack:
            self.story.topics.append(text.strip())
        elif tag == "title" and "text" in self.stack:
            self.story.title = " ".join(text.split())
        elif tag == "body":
            self.story.body = text.replace("\x03", "").strip()

    def handle_data(self, data: str) -> None:
        if self.story is not None:
            self.text.append(data)


def parse_reuters_file(path: Path) -> list[_Story]:
    """All stories of one SGML file (ASCII; one file has a Latin-1 byte, read as such)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    parser = _ReutersParser(path)
    parser.feed(text)
    parser.close()
    if parser.story is not None:
        raise TopicwireError(
            f"{path}:{parser.story.line}: story never closed; expected </REUTERS> before the end"
        )
    for story in parser.stories:
        if story.attrs.get("topics") not in {"YES", "NO", "BYPASS"} or "newid" not in story.attrs:
            raise TopicwireError(
                f"{path}:{story.line}: <REUTERS> lacks TOPICS=YES|NO|BYPASS or NEWID; "
                f"got {story.attrs}"
            )
    return parser.stories


def load_reuters(root: Path, files: list[Path] | None = None) -> Corpus:
    """ModApte split, restricted to the categories with a training and a test document."""
    directory = root / "reuters21578"
    if files is None:
        files = sorted(directory.glob("reut2-*.sgm"))
        if len(files) != REUTERS_FILES:
            raise TopicwireError(
                f"{directory}: found {len(files)} reut2-*.sgm files, expected {REUTERS_FILES}"
            )
    train, test = [], []
    for path in files:
        for story in parse_reuters_file(path):
            if story.attrs.get("topics") != "YES":
                continue
            split = story.attrs.get("lewissplit")
            text = f"{story.title}\n\n{story.body}" if story.body else story.title
            doc = Document(f"reuters-{story.attrs['newid']}", text, story.topics)
            if split == "TRAIN":
                train.append(doc)
            elif split == "TEST":
                test.append(doc)
    in_train = {t for d in train for t in d.labels}
    in_test = {t for d in test for t in d.labels}
    labels = sorted(in_train & in_test)
    keep = set(labels)
    for docs in (train, test):
        for d in docs:
            d.labels = sorted(set(d.labels) & keep)
    train = [d for d in train if d.labels]
    test = [d for d in test if d.labels]
    return Corpus("reuters90", labels, train, test, multi_label=True)


# -- 20 Newsgroups ---------------------------------------------------------------------------

NEWSGROUPS_ARCHIVE = "20newsgroups/20news-bydate.tar.gz"


def load_newsgroups(root: Path, archive: Path | None = None) -> Corpus:
    """20 Newsgroups bydate from its tar.gz, without extracting it to disk."""
    path = archive or root / NEWSGROUPS_ARCHIVE
    if not path.is_file():
        raise TopicwireError(f"{path}: not found; expected the 20news-bydate.tar.gz archive")
    splits: dict[str, list[Document]] = {"train": [], "test": []}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                parts = member.name.split("/")
                if len(parts) != 3 or not parts[0].startswith("20news-bydate-"):
                    raise TopicwireError(
                        f"{path}: unexpected member {member.name!r}; expected "
                        "20news-bydate-{train,test}/<group>/<id>"
                    )
                split = parts[0].removeprefix("20news-bydate-")
                if split not in splits:
                    raise TopicwireError(f"{path}: {member.name!r}: unknown split {split!r}")
                text = tar.extractfile(member).read().decode("latin-1")
                splits[split].append(Document(f"20ng-{split}-{parts[2]}", text, [parts[1]]))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise TopicwireError(f"{path}: unreadable archive ({exc})") from exc
    for docs in splits.values():
        docs.sort(key=lambda d: (d.labels[0], int(d.id.rsplit("-", 1)[1])))
    labels = sorted({d.labels[0] for d in splits["train"]})
    return Corpus("newsgroups20", labels, splits["train"], splits["test"], multi_label=False)
