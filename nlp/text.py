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
