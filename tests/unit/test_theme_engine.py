"""Matching, lineage, steering, labels, unique ideas, the map and placement, on fake vectors."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.cluster import stable_sample
from nlp.evaluate import agreement, churn
from nlp.geometry import attach_leftovers, map_coordinates
from nlp.identity import assign_ids, lineage, settle
from nlp.incremental import Centres, place
from nlp.labels import label_from
from nlp.pipeline import ThemePipeline
from nlp.refresh import themes_from_payload
from nlp.steering import UNTHEMED, Edit, Steering, apply, fold
from nlp.stopwords import STOP_WORDS
from nlp.text import words
from nlp.themes import NoteInput, ThemeSet, build_themes


def blobs(sizes: list[int], dim: int = 16, spread: float = 0.05, seed: int = 0) -> np.ndarray:
    """Unit vectors in tight groups around orthogonal axes, `sizes[k]` around axis k."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, size in enumerate(sizes):
        centre = np.zeros(dim)
        centre[k] = 1.0
        rows.append(centre + spread * rng.standard_normal((size, dim)))
    matrix = np.vstack(rows)
    out: np.ndarray = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    return out.astype(np.float32)


def notes(n: int, prefix: str = "n", room: str = "r1") -> list[NoteInput]:
    return [NoteInput(f"{prefix}{i:03d}", f"idea number {i}", room, 1000.0 + i) for i in range(n)]


def grouped(themes: ThemeSet) -> dict[str, set[str]]:
    return {t.id: set(t.note_ids) for t in themes.themes}


# matching and lineage ---------------------------------------------------------------------


def test_a_theme_that_grows_keeps_its_id_and_a_new_one_gets_a_fresh_id() -> None:
    previous = {"t-old": ["a", "b", "c"]}
    ids = assign_ids([["a", "b", "c", "d"], ["x", "y", "z"]], set("abcdxyz"), previous)
    assert ids[0] == "t-old"
    assert ids[1] != "t-old" and ids[1].startswith("t-")


def test_a_split_leaves_the_id_to_the_larger_part_and_is_recorded() -> None:
    previous = {"t-old": ["a", "b", "c", "d", "e"]}
    clusters = [["a", "b", "c"], ["d", "e", "f"]]
    ids = assign_ids(clusters, set("abcdef"), previous)
    assert ids[0] == "t-old"
    events = lineage(2, dict(zip(ids, clusters, strict=True)), previous)
    assert [(e.kind, e.theme_id, e.other_id) for e in events] == [("split", ids[1], "t-old")]


def test_a_merge_keeps_one_id_and_records_the_other_as_merged_into_it() -> None:
    previous = {"t-a": ["a", "b", "c", "d"], "t-b": ["e", "f", "g"]}
    ids = assign_ids([list("abcdefg")], set("abcdefg"), previous)
    assert ids == ["t-a"]
    events = lineage(2, {"t-a": list("abcdefg")}, previous)
    assert [(e.kind, e.theme_id, e.other_id) for e in events] == [("merge", "t-a", "t-b")]


def test_settle_keeps_a_border_note_in_its_theme_unless_clearly_closer_elsewhere() -> None:
    vectors = blobs([5, 5])
    ids = [f"n{i}" for i in range(10)]
    # The clustering moved n4 to the other theme though it is no closer to it.
    theme_of: dict[str, str | None] = {i: ("A" if k < 4 else "B") for k, i in enumerate(ids)}
    previous = {"A": ids[:5], "B": ids[5:]}
    settled = settle(ids, vectors, theme_of, previous, margin=0.05, keep=0.5, min_size=3)
    assert settled["n4"] == "A"
    assert all(settled[i] == "B" for i in ids[5:])


def test_settle_keeps_previously_themed_notes_the_clustering_left_unthemed() -> None:
    vectors = blobs([6])
    ids = [f"n{i}" for i in range(6)]
    theme_of: dict[str, str | None] = {i: ("A" if k < 4 else None) for k, i in enumerate(ids)}
    settled = settle(ids, vectors, theme_of, {"A": ids}, margin=0.05, keep=0.5, min_size=3)
    assert set(settled.values()) == {"A"}


def test_churn_is_the_share_of_themed_notes_whose_theme_changed() -> None:
    ids = notes(8)
    vectors = blobs([4, 4])
    labels = np.array([0] * 4 + [1] * 4)
    first = build_themes(ids, vectors, labels, None)
    assert churn(first, build_themes(ids, vectors, labels, first)) == 0.0
    moved = np.array([0] * 4 + [1] * 3 + [-1])
    second = build_themes(ids, vectors, moved, first, stability=None)
    # n007 stays by `settle` (it is right in its old theme): still no churn.
    assert churn(first, second) == 0.0


# steering --------------------------------------------------------------------------------


def test_fold_later_edits_win_and_a_merge_retargets_earlier_pins() -> None:
    steering = fold(
        [
            Edit("rename", theme_id="A", label="Cycling"),
            Edit("rename", theme_id="A", label="Bikes"),
            Edit("pin", theme_id="B", note_ids=("n1",)),
            Edit("merge", theme_id="C", other_id="B", note_ids=("n2", "n3")),
            Edit("hide", theme_id="D"),
            Edit("hide", theme_id="E"),
            Edit("show", theme_id="E"),
        ]
    )
    assert steering.names == {"A": "Bikes"}
    assert steering.pins == {"n1": "C", "n2": "C", "n3": "C"}
    assert steering.hidden == frozenset({"D"})


def test_unknown_edits_are_refused() -> None:
    with pytest.raises(ValueError):
        Edit("delete", theme_id="A")


def test_a_group_mostly_pinned_follows_its_pins_with_its_new_notes() -> None:
    vectors = blobs([6])
    ids = [f"n{i}" for i in range(6)]
    theme_of: dict[str, str | None] = dict.fromkeys(ids, "t-fresh")
    steering = Steering(pins={i: "t-kept" for i in ids[:4]})
    assert set(apply(ids, vectors, theme_of, steering).values()) == {"t-kept"}


def test_a_single_moved_note_moves_alone() -> None:
    vectors = blobs([5, 5])
    ids = [f"n{i}" for i in range(10)]
    theme_of: dict[str, str | None] = {i: ("A" if k < 5 else "B") for k, i in enumerate(ids)}
    result = apply(ids, vectors, theme_of, Steering(pins={"n0": "B", "n9": UNTHEMED}))
    assert result["n0"] == "B" and result["n9"] is None
    assert [result[i] for i in ids[1:5]] == ["A"] * 4


def _recluster(
    all_notes: list[NoteInput],
    vectors: np.ndarray,
    labels: np.ndarray,
    previous: ThemeSet | None,
    steering: Steering,
) -> ThemeSet:
    return build_themes(all_notes, vectors, labels, previous, steering=steering)


def test_steering_survives_later_reclusterings() -> None:
    ids = notes(30)
    vectors = blobs([10, 10, 10])
    truth = np.array([0] * 10 + [1] * 10 + [2] * 10)
    first = build_themes(ids[:24], vectors[:24], truth[:24], None)
    a, b, c = (next(t.id for t in first.themes if f"n{k:03d}" in t.note_ids) for k in (0, 10, 20))
    edits = [
        Edit("rename", theme_id=a, label="Bicycles everywhere"),
        Edit(
            "merge",
            theme_id=b,
            other_id=c,
            note_ids=tuple(sorted(grouped(first)[b] | grouped(first)[c])),
        ),
        Edit("move", theme_id=UNTHEMED, note_ids=("n001",)),
        Edit("hide", theme_id=a),
    ]
    steering = fold(edits)
    previous = first
    # Reclusterings that know nothing of the edits: more notes, different label numbers.
    for n, shift in ((27, 1), (30, 2)):
        labels = (truth[:n] + shift) % 3
        themes = _recluster(ids[:n], vectors[:n], labels, previous, steering)
        by_id = {t.id: t for t in themes.themes}
        assert by_id[a].label == "Bicycles everywhere" and by_id[a].renamed and by_id[a].hidden
        assert c not in by_id
        assert {f"n{k:03d}" for k in range(10, n)} <= set(by_id[b].note_ids)
        assert "n001" in themes.unthemed_ids
        previous = themes


def test_a_split_keeps_its_parts_apart_and_new_notes_join_the_nearer_part() -> None:
    ids = notes(16)
    vectors = blobs([8, 8])
    one = np.zeros(16, dtype=np.int64)
    first = build_themes(ids[:14], vectors[:14], one[:14], None)
    theme = first.themes[0].id
    parts = (
        ("t-left", tuple(f"n{k:03d}" for k in range(7))),
        ("t-right", tuple(f"n{k:03d}" for k in range(8, 14))),
    )
    steering = fold([Edit("split", theme_id=theme, parts=parts)])
    themes = build_themes(ids, vectors, one, first, steering=steering)
    by_id = {t.id: t for t in themes.themes}
    assert set(by_id) == {"t-left", "t-right"}
    assert "n007" in by_id["t-left"].note_ids and "n015" in by_id["t-right"].note_ids
    assert by_id["t-left"].split_from == theme


# labels, provenance, unique ideas -----------------------------------------------------------


def test_a_label_is_never_a_stop_word_or_a_number() -> None:
    texts = ["We should do 42 things", "the 42 and the 7", "Il faut que nous", "Wir sollten das"]
    label = label_from(tuple(w for t in texts for w in words(t) if w not in STOP_WORDS), texts)
    for word in label.replace(",", " ").split():
        assert word not in STOP_WORDS and not word.isdigit()
    assert label_from((), texts) == "untitled theme"


def test_payload_names_rooms_flags_single_room_themes_and_counts_recent_notes() -> None:
    ids = [NoteInput(f"n{i}", "bike lanes please", f"r{i % 3}", 1000.0 + 100 * i) for i in range(9)]
    ids += [NoteInput(f"p{i}", "more park benches", "r9", 1000.0 + 100 * i) for i in range(4)]
    vectors = blobs([9, 4])
    themes = build_themes(ids, vectors, np.array([0] * 9 + [1] * 4), None)
    payload = themes.to_payload({n.id: n for n in ids})
    bikes, parks = payload["themes"]
    assert len(bikes["rooms"]) == 3 and not bikes["single_room"]
    assert parks["single_room"] and parks["rooms"] == [{"id": "r9", "count": 4}]
    assert payload["n_rooms"] == 4
    assert bikes["recent"] == 4  # created within 300 s of the newest note
    assert bikes["growth"][-1] == 9 and bikes["growth"] == sorted(bikes["growth"])


def test_unique_ideas_are_kept_and_ranked_most_distinct_first() -> None:
    vectors = blobs([6, 1, 1], spread=0.02)
    # The second unthemed note leans towards the theme; the first is alone.
    vectors[7] = vectors[7] + 0.9 * vectors[0]
    vectors[7] /= np.linalg.norm(vectors[7])
    ids = notes(8)
    themes = build_themes(ids, vectors, np.array([0] * 6 + [-1, -1]), None)
    assert themes.unthemed_ids == ("n006", "n007")
    assert themes.distinct["n006"] > themes.distinct["n007"]
    assert themes.n_notes == 8


def test_leftovers_join_a_theme_only_when_close_enough() -> None:
    vectors = blobs([5, 1])
    near = vectors[0] + 0.3 * vectors[5]
    vectors = np.vstack([vectors, near / np.linalg.norm(near)])
    labels = np.array([0] * 5 + [-1, -1])
    attached = attach_leftovers(vectors, labels, 0.5)
    assert attached.tolist() == [0] * 5 + [-1, 0]


# map, sampling, placement ----------------------------------------------------------------


def test_the_map_does_not_turn_or_mirror_when_notes_arrive() -> None:
    vectors = blobs([10, 10, 10], seed=3)
    ids = [f"n{i}" for i in range(30)]
    before = map_coordinates(vectors[:27], ids[:27], {})
    previous = {
        i: (float(x), float(y)) for i, (x, y) in zip(ids[:27], before.tolist(), strict=True)
    }
    after = map_coordinates(vectors, ids, previous)
    moved = np.linalg.norm(after[:27] - before, axis=1)
    assert float(moved.mean()) < 0.1
    assert np.abs(after).max() <= 1.0


def test_a_stable_sample_keeps_most_rows_as_the_wall_grows() -> None:
    small = set(stable_sample(9000, 5000).tolist())
    large = set(stable_sample(10000, 5000).tolist())
    assert abs(len(large) - 5000) < 50
    assert len(small & large) / len(large) > 0.85
    assert stable_sample(100, 5000).tolist() == list(range(100))


def test_a_new_note_is_placed_in_the_nearest_theme_and_twins_are_offered() -> None:
    vectors = blobs([5, 5])
    centres = Centres(("A", "B"), np.stack([vectors[:5].mean(0), vectors[5:].mean(0)]))
    others = [f"n{i}" for i in range(10)]
    placed = place(
        "new", vectors[7], centres, others, vectors, {"n7": (0.5, 0.5)}, attach_threshold=0.5
    )
    assert placed.theme_id == "B"
    assert placed.similar[0][0] == "n7"
    assert placed.xy == (0.5, 0.5)
    far = np.zeros(16, dtype=np.float32)
    far[12] = 1.0
    alone = place("new", far, centres, others, vectors, {}, attach_threshold=0.5)
    assert alone.theme_id is None and alone.similar == ()


def test_the_stored_payload_round_trips_ids_lineage_map_and_flags() -> None:
    ids = notes(12)
    vectors = blobs([6, 6])
    steering = Steering(names={}, hidden=frozenset())
    first = build_themes(ids, vectors, np.array([0] * 6 + [1] * 6), None, steering=steering)
    payload = first.to_payload({n.id: n for n in ids})
    again = themes_from_payload(payload)
    assert again.theme_of() == first.theme_of()
    assert set(again.coords) == {n.id for n in ids}


def test_pipeline_small_wall_of_twenty_notes_has_themes_with_fake_vectors() -> None:
    class Fixed:
        dim = 16

        def __init__(self, matrix: np.ndarray) -> None:
            self.rows = {f"idea number {i}": matrix[i] for i in range(len(matrix))}

        def embed(self, texts: list[str]) -> np.ndarray:
            return np.stack([self.rows[t] for t in texts])

    from nlp.cluster import HdbscanClusterer

    matrix = blobs([7, 7, 6])
    pipeline = ThemePipeline(Fixed(matrix), HdbscanClusterer())
    themes = pipeline.run(notes(20), {}, None)
    assert len(themes.themes) == 3
    truth = [0] * 7 + [1] * 7 + [2] * 6
    from nlp.evaluate import theme_labels

    assert (
        agreement(theme_labels(themes, [n.id for n in notes(20)]), [str(t) for t in truth]).nmi
        > 0.9
    )


# the steering messages -------------------------------------------------------------------


def test_steering_messages_parse_and_bad_ones_are_named() -> None:
    import json
    import uuid

    from server.protocol import ErrorCode, ProtocolError, parse_client_frame

    def frame(type_: str, payload: dict[str, object]) -> str:
        return json.dumps({"v": 1, "type": type_, "ref": "r1", "payload": payload})

    note = str(uuid.uuid4())
    for type_, payload in [
        ("themes.rename", {"theme": "t-1", "label": "  Cycling "}),
        ("themes.merge", {"theme": "t-1", "into": "t-2"}),
        ("themes.split", {"theme": "t-1"}),
        ("themes.move", {"note": note, "theme": None}),
        ("themes.pin", {"note": note, "theme": "t-1"}),
        ("themes.hide", {"theme": "t-1"}),
    ]:
        assert parse_client_frame(frame(type_, payload)).type == type_
    assert parse_client_frame(frame("themes.rename", {"theme": "t", "label": " x "})).payload
    for type_, payload in [
        ("themes.merge", {"theme": "t-1", "into": "t-1"}),
        ("themes.rename", {"theme": "t-1", "label": "   "}),
        ("themes.move", {"note": "not-a-uuid", "theme": "t-1"}),
        ("themes.hide", {"theme": "t-1", "extra": 1}),
    ]:
        with pytest.raises(ProtocolError) as err:
            parse_client_frame(frame(type_, payload))
        assert err.value.code == ErrorCode.INVALID and err.value.ref == "r1"


def test_edits_round_trip_through_their_stored_form() -> None:
    from server.store.edits import edit_detail, edit_from_row

    for edit in [
        Edit("rename", theme_id="t-1", label="Cycling"),
        Edit("merge", theme_id="t-1", other_id="t-2", note_ids=("a", "b")),
        Edit("split", theme_id="t-1", parts=(("t-3", ("a",)), ("t-4", ("b", "c")))),
        Edit("move", theme_id=UNTHEMED, note_ids=("a",)),
        Edit("hide", theme_id="t-1"),
    ]:
        stored = edit_detail(edit)
        assert edit_from_row(edit.kind, edit.theme_id, edit.other_id, edit.label, stored) == edit
