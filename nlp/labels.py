"""Naming a theme: the words that set its notes apart, as the phrases the notes use.

Pure. Keywords come from class-based TF-IDF (each theme is one document); the label is
the top two keywords, each grown into its usual two-word phrase. Stop words of English,
French and German never count, and `nlp.text.words` never yields a number.
"""

from __future__ import annotations

import math
from collections import Counter

from nlp.stopwords import STOP_WORDS
from nlp.text import adjacent_pairs, words

KEYWORDS_PER_THEME = 5
UNTITLED = "untitled theme"


def keywords_by_class(
    clusters: list[list[int]], noise: list[int], tokens: list[list[str]]
) -> list[tuple[str, ...]]:
    """Each cluster's most distinctive words by class-based TF-IDF.

    Each cluster is one document; a word scores by its share of the cluster's words
    times log(1 + average words per cluster / its count over all clusters). The unthemed
    notes count as one more document, so a word common everywhere scores low even when
    there is a single theme. A note counts a word once: one note repeating "parking"
    is not a parking theme. Clusters come with their rows most central first, and equal
    scores go to the word of the more central note: in a small cluster most words occur
    once and tie, and the alphabet would pick them.
    """
    classes = [*clusters, noise] if noise else clusters
    counts: list[Counter[str]] = []
    for rows in classes:
        counter: Counter[str] = Counter()
        for r in rows:
            counter.update({w for w in tokens[r] if is_keyword(w)})
        counts.append(counter)
    totals = Counter[str]()
    for counter in counts:
        totals.update(counter)
    average = sum(totals.values()) / len(counts) if counts else 0.0

    result = []
    for rows, counter in zip(clusters, counts, strict=False):
        size = sum(counter.values())
        first_seen: dict[str, int] = {}
        for rank, r in enumerate(rows):
            for w in tokens[r]:
                first_seen.setdefault(w, rank)
        scored = sorted(
            counter,
            key=lambda w: (
                # A word from a single note is a last resort: it is that note's, not the theme's.
                counter[w] < min(2, len(rows)),
                -(counter[w] / size) * math.log(1.0 + average / totals[w]),
                first_seen[w],
                w,
            ),
        )
        result.append(_without_variants(scored, KEYWORDS_PER_THEME))
    return result


def is_keyword(word: str) -> bool:
    return word not in STOP_WORDS


def _without_variants(ranked: list[str], limit: int) -> tuple[str, ...]:
    """The first `limit` words, skipping plural/singular twins of a word already taken."""
    chosen: list[str] = []
    for word in ranked:
        if any(_variants(word, other) for other in chosen):
            continue
        chosen.append(word)
        if len(chosen) == limit:
            break
    return tuple(chosen)


def _variants(a: str, b: str) -> bool:
    """English singular and plural of one word: "lane"/"lanes", "city"/"cities"."""
    short, long = sorted((a, b), key=len)
    if long in (short + "s", short + "es"):
        return True
    return short.endswith("y") and long == short[:-1] + "ies"


def label_from(keywords: tuple[str, ...], texts: list[str]) -> str:
    """The top two keywords, each as the phrase the notes mostly use it in.

    ("bike", "lanes") reads "bike lanes" when notes say "bike lanes"; ("higher",
    "minimum") reads "higher education, minimum wage" when that is how the words occur.
    """
    if not keywords:
        return UNTITLED
    pairs: Counter[tuple[str, str]] = Counter()
    notes_with: Counter[str] = Counter()
    for text in texts:
        pairs.update(adjacent_pairs(text))
        notes_with.update(set(words(text)))
    units: list[tuple[str, ...]] = []
    for word in keywords[:2]:
        if any(word in unit for unit in units):
            continue
        phrase = _phrase(word, pairs, notes_with[word])
        # "wku" then "campus" -> "wku campus": the phrase grows the earlier unit in place.
        grown = [k for k, unit in enumerate(units) if set(unit) < set(phrase)]
        if grown:
            units[grown[0]] = phrase
        else:
            units.append(phrase)
    return ", ".join(" ".join(unit) for unit in units)


def _phrase(word: str, pairs: Counter[tuple[str, str]], notes_with_word: int) -> tuple[str, ...]:
    """`word` with the neighbour it has in at least half of its notes (and two), if any."""
    best: tuple[int, tuple[str, str]] | None = None
    for pair, count in pairs.items():
        if word not in pair or pair[0] == pair[1]:
            continue
        other = pair[1] if pair[0] == word else pair[0]
        if not is_keyword(other) or count < 2 or 2 * count < notes_with_word:
            continue
        # Most frequent first; among equals the alphabetically first pair, for determinism.
        if best is None or (-count, pair) < (-best[0], best[1]):
            best = (count, pair)
    return (word,) if best is None else best[1]
