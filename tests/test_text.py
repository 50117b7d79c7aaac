"""The cleaner: boilerplate out, title split from body, idempotent, shared with prediction."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.text import ArticleCleaner, join_title_body, normalise

ROOT = Path(__file__).resolve().parents[1]

PAGE = """The Harbour Gazette
Grid operator orders rolling blackouts after substation fire
Grid operator orders rolling blackouts after substation fire – The Harbour Gazette

Share on Facebook   Share on X   Copy link

The regional grid operator ordered four-hour rolling blackouts on Tuesday after a fire gutted
the main substation feeding the port district.

Advertisement

Engineers said a temporary transformer would be installed within a week.
Photo: Firefighters at the substation on Tuesday. / Harbour Gazette
Sign up for our morning briefing and get the news in your inbox.
We use cookies to improve your experience. Accept all

Related
- Port workers strike over pay
- New ferry timetable announced
Source link
"""


@pytest.fixture()
def cleaner(cleaning_params) -> ArticleCleaner:
    return ArticleCleaner(**cleaning_params)


def test_removes_scraped_boilerplate_and_splits_title(cleaner):
    article = cleaner.clean(PAGE)
    assert article.title == "Grid operator orders rolling blackouts after substation fire"
    assert article.body == (
        "The regional grid operator ordered four-hour rolling blackouts on Tuesday after a fire "
        "gutted\nthe main substation feeding the port district.\n\n"
        "Engineers said a temporary transformer would be installed within a week."
    )


def test_site_name_before_a_headline_is_dropped(cleaner):
    page = "Steppe Courier\nThousands bussed out of flooded villages in Orenburg\n\nBody text here."
    article = cleaner.clean(page)
    assert article.title == "Thousands bussed out of flooded villages in Orenburg"
    assert article.body == "Body text here."


def test_a_byline_with_the_site_is_not_taken_for_the_title(cleaner):
    page = (
        "Pacific Ledger\nBeijing sanctions US arms makers over Taiwan sale\n\n"
        "By Chen Wei | Pacific Ledger\n\nChina said on Monday it would impose sanctions."
    )
    article = cleaner.clean(page)
    assert article.title == "Beijing sanctions US arms makers over Taiwan sale"
    assert article.body == "China said on Monday it would impose sanctions."


def test_given_title_is_used_and_its_repeat_removed(cleaner):
    article = cleaner.clean(
        "Evacuation ordered – Wire\n\nResidents were told to leave.", title="Evacuation ordered"
    )
    assert article.title == "Evacuation ordered"
    assert article.body == "Residents were told to leave."


def test_body_sentences_with_dashes_are_kept(cleaner):
    text = (
        "Ceasefire talks resume\n\nThe talks – the third round this year – resumed in Doha.\n"
        "Officials said the sides were close – but not there yet."
    )
    article = cleaner.clean(text)
    assert "the third round this year" in article.body
    assert "close – but not there yet." in article.body


def test_unicode_and_whitespace_normalised():
    assert (
        normalise("Kyiv\u00a0\u00a0power\u200b  cut\r\nnext\tline ") == "Kyiv power cut\nnext line"
    )
    assert normalise("ﬁnal") == "final"  # NFKC folds the ligature


def test_model_input_joins_title_and_body():
    assert join_title_body("T", "B") == "T\n\nB"
    assert join_title_body("", "B") == "B"
    assert join_title_body(None, "B") == "B"


def shipped_texts() -> list[str]:
    pages = sorted((ROOT / "data/raw").rglob("*.txt"))
    assert pages, "the shipped corpus has raw .txt pages"
    return [p.read_text(encoding="utf-8") for p in pages]


def test_cleaning_is_idempotent_on_every_shipped_page(cleaner):
    # The model cleans its input again; a cleaned article must come out unchanged, or training
    # (on cleaned text) and prediction (on raw pages) would see different inputs.
    for raw in shipped_texts():
        once = cleaner.clean(raw).as_text()
        assert cleaner.clean(once).as_text() == once


def test_transform_is_the_same_cleaning(cleaner):
    raw = shipped_texts()[0]
    assert cleaner.fit([raw]).transform([raw]) == [cleaner.clean(raw).as_text()]


def test_invalid_pattern_is_reported():
    with pytest.raises(ValueError, match="invalid cleaning pattern"):
        ArticleCleaner(drop_lines=["(unclosed"]).fit([])


def test_plain_text_cleaning_keeps_every_line_and_still_normalises():
    from omegaconf import OmegaConf

    from pipeline.config import to_plain
    from pipeline.stages.compose import compose

    params = OmegaConf.create(compose(ROOT / "conf", overrides=["cleaning=plain_text"]))
    plain = ArticleCleaner(**to_plain(params.cleaning))
    article = plain.clean(PAGE)
    # No boilerplate pattern: "Advertisement", share and cookie lines stay (plain text has none
    # to remove); the title is still split off and whitespace normalised.
    assert "Advertisement" in article.body and "Source link" in article.body
    assert article.title == "Grid operator orders rolling blackouts after substation fire"
    wire = "OIL PRICES RISE\n\nCrude\u00a0oil   rose  two  dlrs.\r\nTraders said so."
    assert plain.transform([wire]) == [
        "OIL PRICES RISE\n\nCrude oil rose two dlrs.\nTraders said so."
    ]
    assert plain.transform(plain.transform([wire])) == plain.transform([wire])  # idempotent


def test_normalise_collapses_spaces_within_lines_never_across_them():
    import re

    text = "a\u00a0 b\t\n  c \u3000\r\n\u2028 d\x85 e \x1c\n \n"
    per_line = "\n".join(
        re.sub(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+", " ", line).strip()
        for line in ["a\u00a0 b\t", "  c \u3000", "", " d\x85 e \x1c", " ", ""]
    )
    assert normalise(text) == per_line == "a b\nc\n\nd\x85 e\n\n"
