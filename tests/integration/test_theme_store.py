"""Theme edits are stored in order and read back the same, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from nlp.steering import UNTHEMED, Edit, fold
from server.store import Store
from tests.integration.test_store import _seat, store  # noqa: F401 (fixture)


async def test_theme_edits_round_trip_in_order(store: Store) -> None:  # noqa: F811
    room, (a, _) = await _seat(store)
    nid = str(uuid.uuid4())
    await store.post_note(a, room, nid, "bike lanes")
    notes = await store.themes.notes(room.event_id)
    assert notes[0].created_at is not None and notes[0].created_at.tzinfo is not None
    edits = [
        Edit("rename", theme_id="t-1", label="Cycling"),
        Edit("merge", theme_id="t-1", other_id="t-2", note_ids=(nid,)),
        Edit("split", theme_id="t-1", parts=(("t-3", (nid,)), ("t-4", ()))),
        Edit("move", theme_id=UNTHEMED, note_ids=(nid,)),
        Edit("hide", theme_id="t-3"),
    ]
    ids = [await store.themes.add_edit(room.event_id, e, a.id) for e in edits]
    assert ids == sorted(ids)
    assert await store.themes.edits(room.event_id) == edits
    steering = fold(await store.themes.edits(room.event_id))
    assert steering.pins == {nid: UNTHEMED} and steering.names == {"t-1": "Cycling"}
    assert await store.themes.edits("no-such-event") == []
