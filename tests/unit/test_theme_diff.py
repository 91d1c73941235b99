"""A themes update as a diff: applied to the version it was made from, it gives the new
snapshot exactly; and the map holds still where points barely moved, so diffs stay small."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp import theme_diff
from nlp.refresh import themes_from_payload
from nlp.themes import MAP_STILL, NoteInput, ThemeSet, build_themes
from tests.theme_follower import normalised

DIM = 8


class Wall:
    """An event whose notes sit around a few topic centres, re-clustered step by step."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.centres = self.rng.normal(size=(4, DIM))
        self.notes: dict[str, NoteInput] = {}
        self.rows: dict[str, np.ndarray] = {}
        self.topic: dict[str, int] = {}
        self.count = 0
        self.themes: ThemeSet | None = None

    def add(self, n: int) -> None:
        for _ in range(n):
            topic = int(self.rng.integers(0, 4))
            note_id = f"n{self.count:04d}"
            self.count += 1
            room = f"r{int(self.rng.integers(0, 3))}"
            self.notes[note_id] = NoteInput(note_id, f"idea {note_id} topic{topic}", room, 1e9)
            self.rows[note_id] = self.centres[topic] + 0.3 * self.rng.normal(size=DIM)
            self.topic[note_id] = topic

    def remove(self, n: int) -> None:
        for note_id in list(self.notes)[:n]:
            del self.notes[note_id], self.rows[note_id], self.topic[note_id]

    def run(self, jitter: float, noise_share: float) -> dict[str, Any]:
        ids = list(self.notes)
        vectors = np.stack([self.rows[i] for i in ids]) if ids else np.zeros((0, DIM))
        vectors = vectors + jitter * self.rng.normal(size=vectors.shape)
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        labels = np.array([self.topic[i] for i in ids], dtype=np.int64)
        labels[self.rng.random(len(ids)) < noise_share] = -1
        self.themes = build_themes(
            list(self.notes.values()), vectors.astype(np.float32), labels, self.themes
        )
        return self.themes.to_payload(self.notes)


steps = st.lists(
    st.tuples(
        st.integers(0, 15),  # notes added
        st.integers(0, 5),  # notes removed
        st.sampled_from([0.0, 0.002, 0.05]),  # how far every note's vector moves
        st.sampled_from([0.0, 0.2]),  # share of notes left unthemed
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), plan=steps)
def test_a_diff_applied_to_its_base_gives_the_new_snapshot(
    seed: int, plan: list[tuple[int, int, float, float]]
) -> None:
    wall = Wall(seed)
    wall.add(12)
    held = wall.run(0.0, 0.1)
    for added, removed, jitter, noise in plan:
        wall.add(added)
        wall.remove(removed)
        new = wall.run(jitter, noise)
        change = json.loads(json.dumps(theme_diff.diff(held, new)))
        held = theme_diff.apply(json.loads(json.dumps(held)), change)
        assert normalised(held) == normalised(new)


def test_a_diff_from_another_version_is_refused() -> None:
    wall = Wall(1)
    wall.add(30)
    first = wall.run(0.0, 0.1)
    second = wall.run(0.0, 0.1)
    wall.add(5)
    third = wall.run(0.0, 0.1)
    with pytest.raises(theme_diff.DiffMismatch):
        theme_diff.apply(first, theme_diff.diff(second, third))


def test_points_that_barely_moved_hold_still_and_are_not_sent() -> None:
    wall = Wall(2)
    wall.add(400)
    before = wall.run(0.0, 0.1)
    wall.add(8)
    after = wall.run(0.001, 0.1)
    change = theme_diff.diff(before, after)
    # The eight newcomers are on the map; of the others only those that moved visibly.
    assert all(n in change["map"] for n in list(wall.notes)[-8:])
    for note_id, xy in change["map"].items():
        if note_id in before["map"]:
            old = before["map"][note_id]
            assert max(abs(xy[0] - old[0]), abs(xy[1] - old[1])) >= MAP_STILL - 1e-3
    assert len(change["map"]) < 40
    assert len(json.dumps(change)) < 0.25 * len(json.dumps(after))


def test_a_point_that_moves_far_is_sent() -> None:
    wall = Wall(3)
    wall.add(200)
    before = wall.run(0.0, 0.0)
    mover = next(iter(wall.notes))
    wall.rows[mover] = -wall.rows[mover]
    after = wall.run(0.0, 0.0)
    assert after["map"][mover] != before["map"][mover]
    assert mover in theme_diff.diff(before, after)["map"]


def test_unique_ideas_keep_their_score_when_it_barely_changes() -> None:
    wall = Wall(4)
    wall.add(300)
    before = wall.run(0.0, 0.3)
    # Same notes, same unthemed ones (the same seed draws the same noise), a tiny wobble.
    wall.rng = np.random.default_rng(99)
    before = wall.run(0.0, 0.3)
    wall.rng = np.random.default_rng(99)
    after = wall.run(0.0005, 0.3)
    assert [u["id"] for u in after["unthemed"]] == [u["id"] for u in before["unthemed"]]
    assert theme_diff.diff(before, after)["unthemed"] == []


def test_themes_read_back_from_a_stored_snapshot_diff_like_the_live_ones() -> None:
    """After a restart the previous themes come from the stored text: the next update's
    diff, made against them, still rebuilds the new snapshot."""
    wall = Wall(5)
    wall.add(80)
    stored = json.loads(json.dumps(wall.run(0.0, 0.2)))
    wall.themes = themes_from_payload(stored)
    wall.add(10)
    new = wall.run(0.01, 0.2)
    assert normalised(theme_diff.apply(stored, theme_diff.diff(stored, new))) == normalised(new)
