"""The themes report in French and German: every phrase in every language, plurals by each
language's rule, numbers written as each language writes them, and no English left over."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from server.agenda import Step
from server.answers import Answer, tally
from server.report import themes_markdown
from server.report_words import NBSP, NNBSP, WORDS, Words
from tests.unit.test_report import NOTES, PAYLOAD, ROOMS, _note

MADE = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
ASK = Step("q", "Vote", "Êtes-vous inquiet ?", choices=("Très", "Un peu", "Pas du tout"))
# What the English report says that a French or German reader must not find in theirs
# (unless their language spells it the same: "tables", "version" in French).
ENGLISH = [
    "theme",
    "themes",
    "note",
    "notes",
    "table",
    "tables",
    "raised",
    "Keywords",
    "Written",
    "Unique",
    "ideas",
    "By",
    "Hidden",
    "Most",
    "supported",
    "answer",
    "answers",
    "share",
    "choice",
    "still",
    "open",
    "like",
    "likes",
    "report",
    "made",
    "version",
]
SAME = {"fr": {"table", "tables", "version"}, "de": set()}


def _fields(phrase: str | tuple[str, str]) -> set[str]:
    texts = phrase if isinstance(phrase, tuple) else (phrase,)
    return {name for text in texts for name in re.findall(r"\{(\w+)\}", text)}


def test_every_language_has_every_phrase_with_the_same_blanks() -> None:
    for language, phrases in WORDS.items():
        assert phrases.keys() == WORDS["en"].keys(), language
        for key, phrase in phrases.items():
            assert _fields(phrase) == _fields(WORDS["en"][key]), (language, key)
            assert isinstance(phrase, tuple) == isinstance(WORDS["en"][key], tuple), key


def test_plurals_and_numbers_follow_the_language() -> None:
    en, fr, de = Words("en"), Words("fr"), Words("de")
    assert [en("notes", n) for n in (0, 1, 2)] == ["0 notes", "1 note", "2 notes"]
    assert [fr("notes", n) for n in (0, 1, 2)] == [
        "0 contribution",
        "1 contribution",
        "2 contributions",
    ]
    assert [de("notes", n) for n in (0, 1, 2)] == ["0 Beiträge", "1 Beitrag", "2 Beiträge"]
    assert (en.number(12345), fr.number(12345), de.number(12345)) == (
        "12,345",
        f"12{NNBSP}345",
        "12.345",
    )
    assert (en.percent(12.5), fr.percent(12.5), de.percent(12.5)) == (
        "12.5%",
        f"12,5{NNBSP}%",
        f"12,5{NNBSP}%",
    )
    assert Words("xx").language == "en"
    with pytest.raises(AssertionError):
        fr("notes")  # a plural phrase needs its number


@pytest.mark.parametrize("language", ["fr", "de"])
def test_a_report_in_french_or_german_has_no_english_left(language: str) -> None:
    words = Words(language)
    liked = [*NOTES, _note(8, "Plus de bancs", likes=2)]
    counted = tally(ASK, [Answer("r1", 0), Answer("r2", 1)], list(ROOMS), 5, open_=False)
    report = themes_markdown("Jury", liked, PAYLOAD, ROOMS, MADE, [(ASK, counted)], True, words)
    # Take out what people wrote and named (note texts, theme labels, table names) first.
    told = [n.text for n in liked] + ["bike lanes", "quoted notes", "noise", "bike", "lanes"]
    prose = report
    for text in sorted(told + list(ROOMS.values()), key=len, reverse=True):
        prose = prose.replace(text, "").replace(text.replace("#", "\\#"), "")
    leftover = [w for w in re.findall(r"\w+", prose) if w in ENGLISH and w not in SAME[language]]
    assert not leftover, (leftover, report)
    lines = report.splitlines()
    if language == "fr":
        assert lines[0] == f"# Jury{NBSP}: thèmes"
        assert "3 contributions, évoqué à 2 tables sur 3" in report
        assert "1 contribution, évoqué à 1 table sur 3 (une seule table)" in report
        assert "| Très | 1 | 50,0\u202f% |" in lines
        assert "## Par table" in lines and "## Questions" in lines
        assert f"Mots-clés{NBSP}: bike, lanes." in lines
    else:
        assert lines[0] == "# Jury: Themen"
        assert "3 Beiträge, an 2 von 3 Tischen genannt" in report
        assert "8 Beiträge von 3 Tischen" in report
        assert "| Sehr | 1 | 50,0\u202f% |" not in lines  # choices are the facilitator's words
        assert "| Très | 1 | 50,0\u202f% |" in lines
        assert "## Fragen" in lines and "## Nach Tisch" in lines
