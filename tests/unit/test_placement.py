"""Placing notes where no run happened (a worker placing another worker's event), in
batches, and the server's per-event batching of new notes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from nlp.factory import make_pipeline
from nlp.incremental import warm_sample
from nlp.runner import PipelineHost
from nlp.themes import NoteInput, Theme, ThemeSet
from server.hub import Connection
from server.placement import PlacementBatcher, Posted
from server.rooms import Note, Participant
from tests.topics import BIKES, MEALS, TREES


def _notes(texts: list[str], prefix: str, start: float = 0.0) -> list[NoteInput]:
    return [NoteInput(f"{prefix}{i}", t, "r1", start + i) for i, t in enumerate(texts)]


def _ran_host() -> tuple[PipelineHost, list[NoteInput], ThemeSet]:
    host = PipelineHost(make_pipeline("hashing"))
    notes = _notes(BIKES + MEALS + TREES, "n")
    themes, _ = host.run("e", notes, None)
    assert len(themes.themes) >= 2
    return host, notes, themes


def test_a_host_that_never_ran_the_event_places_as_the_one_that_did() -> None:
    ran, notes, themes = _ran_host()
    cold = PipelineHost(make_pipeline("hashing"))
    assert cold.absorb("e", notes, themes) == len(notes)
    new = [
        NoteInput("x1", "bike lanes along the river", "r2"),
        NoteInput("x2", "hot school meals", "r2"),
    ]
    expected = [p.theme_id for p in ran.place("e", new)]
    got = [p.theme_id for p in cold.place("e", new)]
    assert got == expected and all(got)
    # Taken in again, the same notes and themes cost nothing.
    assert cold.absorb("e", notes, themes) == 0


def test_a_twin_placed_by_another_host_is_found_once_absorbed() -> None:
    ran, notes, themes = _ran_host()
    other = PipelineHost(make_pipeline("hashing"))
    other.absorb("e", notes, themes)
    first = NoteInput("t1", "a tram line to the harbour", "r1")
    other.place("e", [first])
    assert ran.place("e", [NoteInput("t2", "a tram line to the harbour", "r2")])[0].similar == ()
    ran.absorb("e", [first], None)
    twin = ran.place("e", [NoteInput("t3", "a tram line to the harbour", "r2")])[0]
    assert "t1" in {n for n, _ in twin.similar}


def test_older_stored_themes_do_not_replace_newer_centres() -> None:
    ran, _, themes = _ran_host()
    older = ThemeSet(version=themes.version - 1, themes=(), unthemed_ids=())
    ran.absorb("e", [], older)
    assert ran.place("e", [NoteInput("b", "bike lanes downtown", "r1")])[0].theme_id is not None


def test_notes_of_one_batch_see_each_other() -> None:
    host = PipelineHost(make_pipeline("hashing"))
    placed = host.place(
        "e",
        [
            NoteInput("a", "a tram line to the harbour", "r1"),
            NoteInput("b", "night buses every half hour", "r1"),
            NoteInput("c", "a tram line to the harbour", "r2"),
        ],
    )
    assert placed[0].similar == ()
    assert [n for n, _ in placed[2].similar] == ["a"]


def test_a_cold_cache_samples_every_theme_then_the_newest_notes() -> None:
    notes = _notes(BIKES + MEALS, "n")
    bikes = tuple(n.id for n in notes[:6])
    meals = tuple(n.id for n in notes[6:])
    themes = ThemeSet(
        version=3,
        themes=(
            Theme("t-b", "bike lanes", (), bikes, bikes[-1:], (("r1", 6),)),
            Theme("t-m", "school meals", (), meals, meals[:1], (("r1", 6),)),
        ),
        unthemed_ids=(),
    )
    chosen = warm_sample(notes, themes, limit=5, per_theme=2)
    ids = [n.id for n in chosen]
    assert len(ids) == 5 and len(set(ids)) == 5
    # Representatives first, then each theme's first members, then the newest note.
    assert ids[:4] == [bikes[-1], bikes[0], meals[0], meals[1]]
    assert ids[4] == meals[-1]
    assert len(warm_sample(notes, None, limit=100)) == len(notes)


class _Mute:
    async def send_text(self, data: str) -> None:
        return None

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        return None


def _posted(event: str, text: str) -> Posted:
    now = datetime.now(UTC)
    conn = Connection("c", Participant("p", event, "Ana", "participant", "r1"), 8, _Mute())
    return conn, Note(text, "r1", "p", "Ana", "participant", text, now, now)


def _add(batcher: PlacementBatcher, event: str, text: str) -> None:
    conn, note = _posted(event, text)
    batcher.add(conn, event, note)


async def test_notes_posted_close_together_are_placed_in_one_batch_per_event() -> None:
    calls: list[tuple[str, list[str]]] = []

    async def place(event_id: str, batch: list[Posted]) -> None:
        calls.append((event_id, [n.text for _, n in batch]))

    batcher = PlacementBatcher(place, delay=0.02)
    for text in ("one", "two", "three"):
        _add(batcher, "e1", text)
    _add(batcher, "e2", "other")
    await asyncio.sleep(0.1)
    assert sorted(calls) == [("e1", ["one", "two", "three"]), ("e2", ["other"])]
    _add(batcher, "e1", "later")
    await asyncio.sleep(0.1)
    assert calls[-1] == ("e1", ["later"])
    _add(batcher, "e1", "never")
    await batcher.close()
    await asyncio.sleep(0.05)
    assert calls[-1] == ("e1", ["later"])


async def test_a_failed_batch_does_not_stop_the_next() -> None:
    calls: list[str] = []

    async def place(event_id: str, batch: list[Posted]) -> None:
        calls.append(batch[0][1].text)
        if len(calls) == 1:
            raise RuntimeError("model gone")

    batcher = PlacementBatcher(place, delay=0.01)
    _add(batcher, "e", "first")
    await asyncio.sleep(0.05)
    _add(batcher, "e", "second")
    await asyncio.sleep(0.05)
    assert calls == ["first", "second"]
    await batcher.close()
