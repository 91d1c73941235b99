"""The note.added frame PostgreSQL assembles from pieces equals the one Python encodes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from server import protocol
from server.rooms import Note
from server.store.pg_posting import frame_pieces

# Texts and names that hold what the frame is cut at: the cut must not land inside them.
TRICKY = [
    "plain",
    'a "quoted" word, a \\ backslash, été, 🎉',
    ',"seq":0,"epoch":"" and "step_id":null',
    '"step_id":null',
]


@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize("step_id", [None, "9f1c2a7b"])
def test_pieces_joined_with_the_stored_values_make_the_encoded_frame(
    text: str, step_id: str | None
) -> None:
    now = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    note = Note("n-1", "room-1", "p-1", text, "participant", text, now, now, step_id=step_id)
    head, after_seq, after_epoch, tail = frame_pieces(note)
    seq, epoch = 41, "e-0123abcd"
    # What the statement does: seq as digits, epoch and step id through to_json.
    joined = (
        f"{head}{seq}{after_seq}{json.dumps(epoch)}{after_epoch}"
        f"{json.dumps(step_id) if step_id else 'null'}{tail}"
    )
    expected = protocol.encode(
        "note.added", {"note": note.to_wire()}, room=note.room_id, seq=seq, epoch=epoch
    )
    assert joined == expected
    assert json.loads(joined)["payload"]["note"]["text"] == text
