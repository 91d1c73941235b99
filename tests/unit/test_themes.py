"""Themes from notes, vectors and labels: labels, representatives, unthemed notes, stable ids."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.cluster import HdbscanClusterer
from nlp.embed import HashingEmbedder
from nlp.identity import assign_ids
from nlp.pipeline import ThemePipeline
from nlp.refresh import themes_from_payload
from nlp.stopwords import STOP_WORDS
from nlp.themes import UNTITLED, NoteInput, Theme, ThemeSet, build_themes, fresh_id

TOPICS = {
    "bikes": "bike lanes cycling helmets commuters pedals racks crossings",
    "parks": "park trees playground benches picnic lawn fountains shade",
    "schools": "school teachers classrooms pupils homework curriculum lunches recess",
    "housing": "rent housing apartments landlords tenants affordable leases deposits",
}


def topic_notes(topic: str, count: int, start: int = 0, room: str = "r1") -> list[NoteInput]:
    """Notes on one topic, each naming a different four of its eight words."""
    combos = list(itertools.combinations(TOPICS[topic].split(), 4))
    notes = []
    for i in range(start, start + count):
        picked = combos[(5 * i) % len(combos)]
        text = f"We want {picked[0]}, {picked[1]}, {picked[2]} and {picked[3]}"
        notes.append(NoteInput(f"{topic}-{i}", text, room))
    return notes


def unit_rows(rows: Sequence[Sequence[float]]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def notes_for(ids: Sequence[str], text: str = "bike lanes", room: str = "r1") -> list[NoteInput]:
    return [NoteInput(i, text, room) for i in ids]


def themes_for(
    groups: Sequence[Sequence[str]],
    previous: ThemeSet | None = None,
    unthemed: Sequence[str] = (),
) -> ThemeSet:
    """Themes where each group of note ids is one cluster; vectors do not matter here."""
    ids = [i for group in groups for i in group] + list(unthemed)
    labels = np.array([k for k, group in enumerate(groups) for _ in group] + [-1] * len(unthemed))
    vectors = np.eye(len(ids), dtype=np.float32) if ids else np.zeros((0, 4), np.float32)
    return build_themes(notes_for(ids), vectors, labels, previous)


def id_of(themes: ThemeSet, note_id: str) -> str:
    return next(t.id for t in themes.themes if note_id in t.note_ids)


def label_words(label: str) -> list[str]:
    return label.replace(",", " ").split()


def assert_partition(notes: Sequence[NoteInput], themes: ThemeSet) -> None:
    placed = [i for t in themes.themes for i in t.note_ids] + list(themes.unthemed_ids)
    assert sorted(placed) == sorted(n.id for n in notes)


# Labels and keywords


def test_labels_and_keywords_are_never_stop_words_or_numbers() -> None:
    texts = [
        "The 2024 budget is the budget we need for the 12 libraries",
        "We need the library budget in 2025, not 300 more meetings",
        "Les bibliothèques ont besoin de plus de budget pour 2026",
        "Die Bibliothek braucht das Budget für 2027 und mehr",
        "Budget for the libraries, 15 000 euros, should be our priority",
    ]
    notes = [NoteInput(f"n{i}", t, "r1") for i, t in enumerate(texts)]
    vectors = HashingEmbedder().embed(texts)
    themes = build_themes(notes, vectors, np.zeros(len(notes), dtype=np.int64), None)

    (theme,) = themes.themes
    assert theme.label.startswith("budget")
    for word in [*label_words(theme.label), *theme.keywords]:
        assert word not in STOP_WORDS
        assert not word.isdigit()


def test_a_cluster_with_no_content_words_is_untitled() -> None:
    notes = notes_for(["a", "b", "c"], text="yes, and 42 of them, too!")
    themes = build_themes(notes, unit_rows(np.eye(3)), np.zeros(3, np.int64), None)
    assert themes.themes[0].label == UNTITLED
    assert themes.themes[0].keywords == ()


def test_label_uses_the_words_that_set_a_cluster_apart() -> None:
    notes = [*topic_notes("bikes", 6), *topic_notes("parks", 6)]
    labels = np.array([0] * 6 + [1] * 6)
    themes = build_themes(notes, HashingEmbedder().embed([n.text for n in notes]), labels, None)
    bikes = next(t for t in themes.themes if "bikes-0" in t.note_ids)
    parks = next(t for t in themes.themes if "parks-0" in t.note_ids)
    assert set(bikes.keywords) <= set(TOPICS["bikes"].split())
    assert set(parks.keywords) <= set(TOPICS["parks"].split())
    assert set(label_words(bikes.label)) <= set(TOPICS["bikes"].split())


def test_words_used_side_by_side_make_a_phrase_in_their_order() -> None:
    texts = [
        "more bike lanes please",
        "bike lanes on every avenue",
        "paint bike lanes green",
        "safer bike lanes for kids",
    ]
    notes = [NoteInput(f"n{i}", t, "r1") for i, t in enumerate(texts)]
    other = [NoteInput(f"o{i}", f"library hours {i}", "r1") for i in range(4)]
    labels = np.array([0] * 4 + [1] * 4)
    vectors = HashingEmbedder().embed([n.text for n in [*notes, *other]])
    themes = build_themes([*notes, *other], vectors, labels, None)
    bikes = next(t for t in themes.themes if "n0" in t.note_ids)
    assert bikes.label == "bike lanes"
    assert bikes.keywords[:2] in (("bike", "lanes"), ("lanes", "bike"))


def test_singular_and_plural_are_one_keyword() -> None:
    texts = ["one lane per street", "lanes on every street", "a lane for buses", "two lanes"]
    notes = [NoteInput(f"n{i}", t, "r1") for i, t in enumerate(texts)]
    themes = build_themes(notes, HashingEmbedder().embed(texts), np.zeros(4, np.int64), None)
    keywords = set(themes.themes[0].keywords)
    assert len(keywords & {"lane", "lanes"}) == 1
    assert len(keywords & {"street", "streets"}) == 1


# Representatives, rooms, unthemed notes, payload


def test_representatives_are_the_members_nearest_the_centre() -> None:
    notes = notes_for(["far", "mid", "near1", "near2", "other"])
    vectors = unit_rows([[1, 0.9], [1, 0.3], [1, 0.05], [1, -0.05], [0, 1]])
    labels = np.array([0, 0, 0, 0, -1])
    (theme,) = build_themes(notes, vectors, labels, None).themes
    assert set(theme.representative_ids) == {"mid", "near1", "near2"}
    assert set(theme.representative_ids) <= set(theme.note_ids)


def test_small_theme_shows_all_its_notes_as_representatives() -> None:
    themes = themes_for([["a", "b"]])
    assert sorted(themes.themes[0].representative_ids) == ["a", "b"]


def test_rooms_are_counted_most_first() -> None:
    notes = [
        NoteInput("a", "x", "r2"),
        NoteInput("b", "x", "r1"),
        NoteInput("c", "x", "r1"),
        NoteInput("d", "x", "r3"),
    ]
    (theme,) = build_themes(notes, np.eye(4, dtype=np.float32), np.zeros(4, np.int64), None).themes
    assert theme.rooms == (("r1", 2), ("r2", 1), ("r3", 1))


def test_noise_notes_are_unthemed_never_dropped() -> None:
    notes = notes_for(["a", "b", "c", "d", "e"])
    labels = np.array([-1, 0, -1, 0, 0])
    themes = build_themes(notes, np.eye(5, dtype=np.float32), labels, None)
    assert themes.unthemed_ids == ("a", "c")
    assert_partition(notes, themes)


def test_all_noise_gives_no_themes() -> None:
    notes = notes_for(["a", "b"])
    themes = build_themes(notes, np.eye(2, dtype=np.float32), np.array([-1, -1]), None)
    assert themes.themes == ()
    assert themes.unthemed_ids == ("a", "b")


def test_no_notes_give_an_empty_theme_set() -> None:
    themes = build_themes([], np.zeros((0, 8), np.float32), np.zeros(0, np.int64), None)
    assert themes == ThemeSet(version=1, themes=(), unthemed_ids=())
    assert themes.to_payload({}) == {
        "version": 1,
        "n_notes": 0,
        "n_rooms": 0,
        "themes": [],
        "unthemed": [],
        "map": {},
        "lineage": [],
    }


def test_each_theme_says_in_which_agenda_steps_its_notes_were_written() -> None:
    bikes = topic_notes("bikes", 6)
    steps = ["s1", "s2", "s2", "s2", None, "s1"]
    notes = [
        *(
            NoteInput(n.id, n.text, n.room_id, step_id=step)
            for n, step in zip(bikes, steps, strict=True)
        ),
        *topic_notes("parks", 3, room="r2"),
    ]
    labels = np.array([0] * 6 + [1] * 3)
    vectors = HashingEmbedder().embed([n.text for n in notes])
    themes = build_themes(notes, vectors, labels, None)
    by_size = {t.size: t for t in themes.themes}
    assert by_size[6].steps == (("s2", 3), ("s1", 2))  # most first; the stepless note not
    assert by_size[3].steps == ()
    payload = themes.to_payload({n.id: n for n in notes})
    assert payload["themes"][0]["steps"] == [{"id": "s2", "count": 3}, {"id": "s1", "count": 2}]
    assert themes_from_payload(payload).themes[0].steps == by_size[6].steps


def test_payload_has_the_agreed_shape() -> None:
    notes = [
        *topic_notes("bikes", 5, room="r1"),
        *topic_notes("parks", 3, room="r2"),
        NoteInput("x", "Anything else?", "r3"),
    ]
    labels = np.array([0] * 5 + [1] * 3 + [-1])
    vectors = HashingEmbedder().embed([n.text for n in notes])
    payload = build_themes(notes, vectors, labels, None).to_payload({n.id: n for n in notes})

    assert json.loads(json.dumps(payload)) == payload
    assert list(payload) == [
        "version",
        "n_notes",
        "n_rooms",
        "themes",
        "unthemed",
        "map",
        "lineage",
    ]
    assert payload["version"] == 1
    assert payload["n_notes"] == 9
    assert [t["size"] for t in payload["themes"]] == [5, 3]
    first = payload["themes"][0]
    assert list(first) == [
        "id",
        "label",
        "keywords",
        "size",
        "note_ids",
        "representatives",
        "rooms",
        "steps",
        "single_room",
        "renamed",
        "hidden",
        "split_from",
        "recent",
        "growth",
    ]
    assert first["single_room"] is True
    assert set(payload["map"]) == {n.id for n in notes}
    assert first["id"].startswith("t-")
    assert first["note_ids"] == [f"bikes-{i}" for i in range(5)]
    assert len(first["representatives"]) == 3
    assert set(first["representatives"][0]) == {"id", "text", "room_id"}
    assert first["rooms"] == [{"id": "r1", "count": 5}]
    assert payload["unthemed"] == [
        {"id": "x", "text": "Anything else?", "room_id": "r3", "distinctness": 1.0}
    ]


def test_mismatched_inputs_are_refused() -> None:
    notes = notes_for(["a", "b"])
    for vectors, labels in [
        (np.eye(3, dtype=np.float32), np.zeros(2, np.int64)),
        (np.eye(2, dtype=np.float32), np.zeros(3, np.int64)),
    ]:
        try:
            build_themes(notes, vectors, labels, None)
        except ValueError:
            continue
        raise AssertionError("mismatched lengths accepted")
    try:
        build_themes(notes_for(["a", "a"]), np.eye(2, dtype=np.float32), np.zeros(2), None)
    except ValueError:
        return
    raise AssertionError("duplicate note ids accepted")


# Stable ids


def test_a_theme_keeps_its_id_when_notes_are_added() -> None:
    first = themes_for([["a1", "a2", "a3"], ["b1", "b2", "b3"]])
    second = themes_for(
        [["a1", "a2", "a3", "a4", "a5", "a6", "a7"], ["b1", "b2", "b3", "b4"]], first
    )
    assert id_of(second, "a7") == id_of(first, "a1")
    assert id_of(second, "b4") == id_of(first, "b1")
    assert second.version == first.version + 1


def test_a_new_cluster_gets_a_fresh_id() -> None:
    first = themes_for([["a1", "a2", "a3"]])
    second = themes_for([["a1", "a2", "a3"], ["c1", "c2", "c3"]], first)
    assert id_of(second, "a1") == id_of(first, "a1")
    assert id_of(second, "c1") == fresh_id(["c1", "c2", "c3"])
    assert id_of(second, "c1") != id_of(first, "a1")


def test_a_split_leaves_the_id_to_the_larger_part() -> None:
    first = themes_for([["a1", "a2", "a3", "a4", "a5", "a6"]])
    second = themes_for([["a1", "a2", "a3", "a4"], ["a5", "a6", "n1"]], first)
    assert id_of(second, "a1") == id_of(first, "a1")
    assert id_of(second, "a5") not in {t.id for t in first.themes}


def test_a_merge_keeps_the_id_of_the_larger_theme() -> None:
    first = themes_for([["a1", "a2", "a3", "a4"], ["b1", "b2", "b3"]])
    merged = ["a1", "a2", "a3", "a4", "b1", "b2", "b3"]
    assert assign_ids([merged], set(merged), first.members()) == [id_of(first, "a1")]


def test_a_theme_absorbed_while_its_notes_stay_closer_to_it_comes_back() -> None:
    """On a large wall the clustering may fold a theme into its neighbour for one run; if
    its notes are still clearly closer to it, it keeps its id and its notes, even though
    every theme on the wall is far larger than the bar a theme must clear."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    sizes = (300, 60, 60)  # C, then A and B: B is what the next run folds into A
    spread = [c + 0.4 * rng.normal(size=(k, 16)) for c, k in zip(centres, sizes, strict=True)]
    rows = np.vstack(spread)
    vectors = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    ids = [f"{name}{i}" for name, k in zip("cab", sizes, strict=True) for i in range(k)]
    notes = notes_for(ids)
    labels = np.repeat([0, 1, 2], sizes)
    first = build_themes(notes, vectors, labels, None)
    folded = np.repeat([0, 1, 1], sizes)  # smallest theme now 120 notes, B only 60
    second = build_themes(notes, vectors, folded, first)
    assert id_of(second, "b0") == id_of(first, "b0")
    assert len(second.themes) == 3


def test_a_minority_overlap_does_not_carry_the_id() -> None:
    # 2 of the old 6 notes, in a new cluster of 6: a majority of neither.
    first = themes_for([["a1", "a2", "a3", "a4", "a5", "a6"]])
    second = themes_for([["a1", "a2", "n1", "n2", "n3", "n4"]], first, ["a3", "a4", "a5", "a6"])
    assert id_of(second, "a1") != id_of(first, "a1")
    assert second.unthemed_ids == ("a3", "a4", "a5", "a6")


def test_deleted_notes_do_not_count_against_the_old_theme() -> None:
    # As above, but a3-a6 were deleted: a1 and a2 are all that is left of the old theme.
    first = themes_for([["a1", "a2", "a3", "a4", "a5", "a6"]])
    second = themes_for([["a1", "a2", "n1", "n2", "n3", "n4"]], first)
    assert id_of(second, "a1") == id_of(first, "a1")


def test_same_input_gives_the_same_output() -> None:
    notes = [*topic_notes("bikes", 6), *topic_notes("schools", 6), *topic_notes("housing", 6)]
    labels = np.array([0] * 6 + [1] * 6 + [2] * 6)
    vectors = HashingEmbedder().embed([n.text for n in notes])
    assert build_themes(notes, vectors, labels, None) == build_themes(notes, vectors, labels, None)


def test_renumbering_the_clusters_changes_nothing() -> None:
    notes = [*topic_notes("bikes", 4), *topic_notes("parks", 4)]
    vectors = HashingEmbedder().embed([n.text for n in notes])
    first = build_themes(notes, vectors, np.array([0] * 4 + [1] * 4), None)
    again = build_themes(notes, vectors, np.array([7] * 4 + [3] * 4), None)
    assert first == again


def test_pipeline_keeps_ids_as_a_wall_grows() -> None:
    """End to end without a model: the hashing embedder and the real HDBSCAN clusterer."""
    pipeline = ThemePipeline(HashingEmbedder(), HdbscanClusterer())
    cache: dict[str, np.ndarray] = {}
    wall = [*topic_notes("bikes", 8), *topic_notes("parks", 8), *topic_notes("schools", 8)]
    first = pipeline.run(wall, cache, None)
    assert len(first.themes) == 3

    grown = [*wall, *topic_notes("bikes", 4, start=8), *topic_notes("housing", 8)]
    second = pipeline.run(grown, cache, first)
    assert len(second.themes) == 4
    for topic in ("bikes", "parks", "schools"):
        assert id_of(second, f"{topic}-0") == id_of(first, f"{topic}-0")
    housing = id_of(second, "housing-0")
    assert housing not in {t.id for t in first.themes}
    assert housing == fresh_id(next(t for t in second.themes if t.id == housing).note_ids)
    assert pipeline.run(grown, cache, first) == second


# Properties


@st.composite
def walls(draw: st.DrawFn) -> tuple[list[NoteInput], np.ndarray, np.ndarray, ThemeSet | None]:
    vocabulary = ["bike", "park", "the", "and", "2024", "école", "über", "tenants", "42", "!"]
    n = draw(st.integers(0, 30))
    notes = [
        NoteInput(
            f"n{i}",
            " ".join(draw(st.lists(st.sampled_from(vocabulary), max_size=6))),
            draw(st.sampled_from(["r1", "r2", "r3"])),
        )
        for i in range(n)
    ]
    labels = np.array(draw(st.lists(st.integers(-1, 4), min_size=n, max_size=n)), np.int64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    previous = None
    if draw(st.booleans()):
        # An earlier run on a random subset of the same notes, plus notes since deleted.
        old_notes = [note for note in notes if draw(st.booleans())]
        old_notes += [NoteInput(f"gone{i}", "bike", "r1") for i in range(draw(st.integers(0, 3)))]
        old_labels = np.array(
            draw(st.lists(st.integers(-1, 4), min_size=len(old_notes), max_size=len(old_notes)))
        )
        old_vectors = rng.normal(size=(len(old_notes), 8)).astype(np.float32)
        previous = build_themes(old_notes, old_vectors, old_labels, None)
    return notes, vectors, labels, previous


@settings(max_examples=150, deadline=None)
@given(walls())
def test_every_note_is_in_exactly_one_theme_or_unthemed(
    wall: tuple[list[NoteInput], np.ndarray, np.ndarray, ThemeSet | None],
) -> None:
    notes, vectors, labels, previous = wall
    themes = build_themes(notes, vectors, labels, previous)

    assert_partition(notes, themes)
    assert themes.n_notes == len(notes)
    assert len({t.id for t in themes.themes}) == len(themes.themes)
    assert [t.size for t in themes.themes] == sorted((t.size for t in themes.themes), reverse=True)
    assert themes.version == (1 if previous is None else previous.version + 1)
    for theme in themes.themes:
        assert_theme_is_consistent(theme, notes)
    payload = themes.to_payload({n.id: n for n in notes})
    assert json.loads(json.dumps(payload)) == payload


def assert_theme_is_consistent(theme: Theme, notes: Sequence[NoteInput]) -> None:
    assert theme.size > 0
    assert set(theme.representative_ids) <= set(theme.note_ids)
    assert len(theme.representative_ids) == min(3, theme.size)
    assert sum(count for _, count in theme.rooms) == theme.size
    by_id = {n.id: n for n in notes}
    assert {room for room, _ in theme.rooms} == {by_id[i].room_id for i in theme.note_ids}
    assert theme.label
    if theme.label != UNTITLED:
        for word in label_words(theme.label):
            assert word not in STOP_WORDS
            assert not word.isdigit()
