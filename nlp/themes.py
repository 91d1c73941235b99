"""From notes, their vectors and cluster labels to the themes a facilitator sees.

Pure: no model, no I/O. Three jobs, each a function below: name a cluster by the words
that set it apart from the others (`_keywords`, `_label`), pick the notes that show it
best (`_by_centrality`), and keep a theme's id while its notes stay together across
runs (`_assign_ids`), so the facilitator's view does not reshuffle at every new note.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlp.stopwords import STOP_WORDS
from nlp.text import adjacent_pairs, words

KEYWORDS_PER_THEME = 5
REPRESENTATIVES_PER_THEME = 3
UNTITLED = "untitled theme"


@dataclass(frozen=True)
class NoteInput:
    id: str
    text: str
    room_id: str


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    keywords: tuple[str, ...]
    note_ids: tuple[str, ...]
    representative_ids: tuple[str, ...]
    rooms: tuple[tuple[str, int], ...]  # (room id, notes from it), most first

    @property
    def size(self) -> int:
        return len(self.note_ids)


def _note_payload(note: NoteInput) -> dict[str, str]:
    return {"id": note.id, "text": note.text, "room_id": note.room_id}


@dataclass(frozen=True)
class ThemeSet:
    version: int
    themes: tuple[Theme, ...]  # largest first
    unthemed_ids: tuple[str, ...]

    @property
    def n_notes(self) -> int:
        return sum(t.size for t in self.themes) + len(self.unthemed_ids)

    def to_payload(self, notes: Mapping[str, NoteInput]) -> dict[str, Any]:
        """The JSON-ready message for facilitators; `notes` supplies texts and rooms."""
        return {
            "version": self.version,
            "n_notes": self.n_notes,
            "themes": [
                {
                    "id": t.id,
                    "label": t.label,
                    "keywords": list(t.keywords),
                    "size": t.size,
                    "note_ids": list(t.note_ids),
                    "representatives": [_note_payload(notes[i]) for i in t.representative_ids],
                    "rooms": [{"id": room, "count": count} for room, count in t.rooms],
                }
                for t in self.themes
            ],
            "unthemed": [_note_payload(notes[i]) for i in self.unthemed_ids],
        }


def build_themes(
    notes: Sequence[NoteInput],
    vectors: np.ndarray,
    labels: np.ndarray,
    previous: ThemeSet | None,
) -> ThemeSet:
    """Themes for `notes`, whose rows in `vectors` and `labels` are in the same order.

    A negative label is noise: the note is listed as unthemed, never dropped. Ids carry
    over from `previous` (see `_assign_ids`); themes come largest first.
    """
    n = len(notes)
    if len(vectors) != n or len(labels) != n:
        raise ValueError(f"{n} notes but {len(vectors)} vectors and {len(labels)} labels")
    ids = [note.id for note in notes]
    if len(set(ids)) != n:
        raise ValueError("note ids must be unique")

    members: dict[int, list[int]] = {}
    unthemed: list[str] = []
    for row, label in enumerate(labels.tolist()):
        if label < 0:
            unthemed.append(ids[row])
        else:
            members.setdefault(int(label), []).append(row)
    clusters = [members[k] for k in sorted(members)]

    tokens = [words(note.text) for note in notes]
    central = [_by_centrality(rows, vectors) for rows in clusters]
    keywords = _keywords(central, [r for r in range(n) if labels[r] < 0], tokens)
    theme_ids = _assign_ids([[ids[r] for r in rows] for rows in clusters], set(ids), previous)

    themes = [
        Theme(
            id=theme_id,
            label=_label(kw, [notes[r].text for r in rows]),
            keywords=kw,
            note_ids=tuple(ids[r] for r in rows),
            representative_ids=tuple(ids[r] for r in near[:REPRESENTATIVES_PER_THEME]),
            rooms=_rooms([notes[r].room_id for r in rows]),
        )
        for rows, near, kw, theme_id in zip(clusters, central, keywords, theme_ids, strict=True)
    ]
    themes.sort(key=lambda t: (-t.size, t.id))
    version = 1 if previous is None else previous.version + 1
    return ThemeSet(version=version, themes=tuple(themes), unthemed_ids=tuple(unthemed))


def _keywords(
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
            counter.update({w for w in tokens[r] if _is_keyword(w)})
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


def _is_keyword(word: str) -> bool:
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


def _label(keywords: tuple[str, ...], texts: list[str]) -> str:
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
        if not _is_keyword(other) or count < 2 or 2 * count < notes_with_word:
            continue
        # Most frequent first; among equals the alphabetically first pair, for determinism.
        if best is None or (-count, pair) < (-best[0], best[1]):
            best = (count, pair)
    return (word,) if best is None else best[1]


def _by_centrality(rows: list[int], vectors: np.ndarray) -> list[int]:
    """`rows`, closest in cosine to the cluster's mean direction first."""
    block = vectors[rows].astype(np.float64)
    similarity = block @ block.mean(axis=0)
    # Stable sort: equally close notes keep their input order, so output is reproducible.
    return [rows[i] for i in np.argsort(-similarity, kind="stable").tolist()]


def _rooms(room_ids: list[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(Counter(room_ids).items(), key=lambda item: (-item[1], item[0])))


def fresh_id(note_ids: Sequence[str]) -> str:
    """An id that depends only on which notes a theme holds, so reruns agree."""
    digest = hashlib.blake2b("\x1f".join(sorted(note_ids)).encode("utf-8"), digest_size=16)
    return "t-" + digest.hexdigest()[:8]


def _assign_ids(
    clusters: list[list[str]], current: set[str], previous: ThemeSet | None
) -> list[str]:
    """Carry each previous theme's id to the new cluster that holds most of its notes.

    Pairs are taken greedily by overlap, each old id at most once. A pair counts only if
    the shared notes are a strict majority of the new cluster or of the old theme: a
    theme that grows keeps its id (its old notes are a majority of it), a theme that
    splits leaves its id to the larger part, and two merging themes leave one id. The old
    theme's size counts only its notes still present, so deleting notes does not orphan
    the rest. Unmatched clusters get `fresh_id`.
    """
    result: list[str | None] = [None] * len(clusters)
    taken: set[str] = set()
    if previous is not None:
        owner = {note_id: k for k, cluster in enumerate(clusters) for note_id in cluster}
        pairs: list[tuple[int, str, int, str]] = []
        for theme in previous.themes:
            old_size = sum(1 for i in theme.note_ids if i in current)
            overlaps = Counter(owner[i] for i in theme.note_ids if i in owner)
            for k, overlap in overlaps.items():
                if 2 * overlap > len(clusters[k]) or 2 * overlap > old_size:
                    # Ties go by the cluster's first note id, not its label number, so
                    # relabelling the same partition cannot change the ids.
                    pairs.append((-overlap, min(clusters[k]), k, theme.id))
        for *_, k, theme_id in sorted(pairs):
            if result[k] is None and theme_id not in taken:
                result[k] = theme_id
                taken.add(theme_id)
    for k, cluster in enumerate(clusters):
        if result[k] is None:
            candidate = fresh_id(cluster)
            salt = 0
            while candidate in taken:
                salt += 1
                candidate = fresh_id([*cluster, f"\x00{salt}"])
            result[k] = candidate
            taken.add(candidate)
    return [theme_id for theme_id in result if theme_id is not None]
