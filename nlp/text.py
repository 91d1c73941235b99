"""Splitting notes into words, shared by theme labels and the hashing embedder."""

from __future__ import annotations

import re

from nlp.stopwords import STOP_WORDS

# Letters only, so a number is never a word; inner hyphens keep "bike-friendly" whole.
# Apostrophes split ("l'école" -> "école"), and one-letter leftovers are dropped below.
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def words(text: str) -> list[str]:
    """Lower-cased words of two letters or more, in order of appearance."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 1]


def content_words(text: str) -> list[str]:
    """`words` without stop words."""
    return [w for w in words(text) if w not in STOP_WORDS]


def adjacent_pairs(text: str) -> set[tuple[str, str]]:
    """Pairs of `words` written side by side, separated by nothing but spaces.

    Anything else in between breaks the pair: "bike, lanes" is a list, not a phrase,
    and "paying $15/hour" must not yield "paying hour" once the number is gone.
    """
    lowered = text.lower()
    pairs: set[tuple[str, str]] = set()
    previous: re.Match[str] | None = None
    for match in _WORD.finditer(lowered):
        if len(match.group()) < 2:
            previous = None
            continue
        if previous is not None and lowered[previous.end() : match.start()].isspace():
            pairs.add((previous.group(), match.group()))
        previous = match
    return pairs
