"""The benchmark corpus readers, on small hand-written fixtures (no corpus text)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from benchmarks.corpora import data_dir, load_newsgroups, load_reuters, parse_reuters_file
from pipeline.errors import TopicwireError

SGML = """<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="1" NEWID="1">
<DATE> 1-JAN-1987 00:00:00.00</DATE>
<TOPICS><D>grain</D><D>wheat</D></TOPICS>
<PLACES><D>usa</D></PLACES>
<TEXT>&#2;
<TITLE>FARMERS PLANT MORE WHEAT &amp; CORN</TITLE>
<DATELINE>    CHICAGO, Jan 1 - </DATELINE><BODY>Farmers said they would plant
more wheat this year.
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="TEST" CGISPLIT="PUBLISHED-TESTSET" OLDID="2" NEWID="2">
<TOPICS><D>grain</D><D>cocoa</D></TOPICS>
<TEXT TYPE="BRIEF">&#2;
<TITLE>GRAIN SHIPMENTS RISE</TITLE>
</TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="3" NEWID="3">
<TOPICS></TOPICS>
<TEXT><TITLE>NO TOPIC HERE</TITLE><BODY>Nothing.</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="NOT-USED" CGISPLIT="TRAINING-SET" OLDID="4" NEWID="4">
<TOPICS><D>grain</D></TOPICS>
<TEXT><TITLE>UNUSED</TITLE></TEXT>
</REUTERS>
"""


def test_reuters_modapte_keeps_categories_in_both_splits(tmp_path):
    path = tmp_path / "reut2-000.sgm"
    path.write_text(SGML, encoding="ascii")
    corpus = load_reuters(tmp_path, files=[path])
    assert corpus.labels == ["grain"]  # wheat: train only; cocoa: test only
    assert [d.id for d in corpus.train] == ["reuters-1"]
    assert [d.id for d in corpus.test] == ["reuters-2"]
    doc = corpus.train[0]
    assert doc.labels == ["grain"]
    assert doc.text.startswith("FARMERS PLANT MORE WHEAT & CORN\n\nFarmers said")
    assert "\x03" not in doc.text and doc.text.endswith("Reuter")
    assert corpus.test[0].text == "GRAIN SHIPMENTS RISE"  # a brief: title only


def test_reuters_unclosed_story_names_file_and_line(tmp_path):
    path = tmp_path / "reut2-001.sgm"
    path.write_text(SGML.replace('</REUTERS>\n<REUTERS TOPICS="NO"', '<REUTERS TOPICS="NO"'))
    with pytest.raises(TopicwireError, match=r"reut2-001\.sgm:\d+: <REUTERS> opened inside"):
        parse_reuters_file(path)


def test_reuters_missing_attributes_is_a_clear_error(tmp_path):
    path = tmp_path / "reut2-002.sgm"
    path.write_text('<REUTERS LEWISSPLIT="TRAIN">\n<TEXT></TEXT>\n</REUTERS>\n')
    with pytest.raises(TopicwireError, match=r"reut2-002\.sgm:1: <REUTERS> lacks TOPICS"):
        parse_reuters_file(path)


def test_reuters_truncated_file(tmp_path):
    path = tmp_path / "reut2-003.sgm"
    path.write_text(SGML.rsplit("</REUTERS>", 1)[0])
    with pytest.raises(TopicwireError, match=r"reut2-003\.sgm:\d+: story never closed"):
        parse_reuters_file(path)


def test_reuters_wrong_file_count(tmp_path):
    (tmp_path / "reuters21578").mkdir()
    with pytest.raises(TopicwireError, match="found 0 reut2-"):
        load_reuters(tmp_path)


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_newsgroups_from_archive(tmp_path):
    archive = _tar(
        tmp_path / "20news-bydate.tar.gz",
        {
            "20news-bydate-train/sci.space/12": b"From: a\n\nOrbits and launches.",
            "20news-bydate-train/rec.autos/7": b"From: b\n\nCars caf\xe9.",
            "20news-bydate-test/sci.space/99": b"From: c\n\nA rocket.",
        },
    )
    corpus = load_newsgroups(tmp_path, archive=archive)
    assert corpus.labels == ["rec.autos", "sci.space"] and not corpus.multi_label
    assert [d.labels for d in corpus.train] == [["rec.autos"], ["sci.space"]]
    assert corpus.train[0].text.endswith("café.")  # Latin-1
    assert [d.id for d in corpus.test] == ["20ng-test-99"]


def test_newsgroups_unexpected_member(tmp_path):
    archive = _tar(tmp_path / "x.tar.gz", {"elsewhere/file": b"x"})
    with pytest.raises(TopicwireError, match="unexpected member 'elsewhere/file'"):
        load_newsgroups(tmp_path, archive=archive)


def test_data_dir_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("TOPICWIRE_BENCH_DATA", raising=False)
    with pytest.raises(TopicwireError, match="benchmark corpora not found"):
        data_dir(str(tmp_path / "nowhere"))
    monkeypatch.setenv("TOPICWIRE_BENCH_DATA", str(tmp_path))
    assert data_dir() == tmp_path
