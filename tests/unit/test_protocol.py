"""Protocol v1 parsing: every bad frame becomes a ProtocolError with a code, never a crash."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import protocol
from server.protocol import ErrorCode, ProtocolError, parse_client_frame


def frame(type_: str, payload: dict[str, object], **extra: object) -> str:
    return json.dumps({"v": 1, "type": type_, "payload": payload, **extra})


def test_a_post_parses_with_trimmed_text_and_ref() -> None:
    nid = str(uuid.uuid4())
    msg = parse_client_frame(
        frame("note.post", {"room": "r1", "id": nid, "text": "  hi  "}, ref="c1")
    )
    assert msg.type == "note.post"
    assert msg.ref == "c1"
    assert isinstance(msg.payload, protocol.NotePost)
    assert msg.payload.text == "hi"
    assert str(msg.payload.id) == nid


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", ErrorCode.MALFORMED),
        ("{", ErrorCode.MALFORMED),
        ("null", ErrorCode.MALFORMED),
        ('"text"', ErrorCode.MALFORMED),
        ('{"type": "ping", "payload": {}}', ErrorCode.MALFORMED),  # no version
        ('{"v": "1", "type": "ping", "payload": {}}', ErrorCode.MALFORMED),  # strict types
        ('{"v": 1, "type": "ping", "payload": [], "ref": "x"}', ErrorCode.MALFORMED),
        ('{"v": 1, "type": "ping", "payload": {}, "extra": 1}', ErrorCode.MALFORMED),
        ('{"v": 9, "type": "ping", "payload": {}}', ErrorCode.UNSUPPORTED_VERSION),
        ('{"v": 1, "type": "drop.tables", "payload": {}}', ErrorCode.UNKNOWN_TYPE),
        ('{"v": 1, "type": "ping", "payload": {"x": 1}}', ErrorCode.INVALID),
        (
            '{"v": 1, "type": "note.post", "payload": {"room": "r", "id": "x", "text": "t"}}',
            ErrorCode.INVALID,
        ),
        (
            frame("room.join", {"room": "r", "since": {"seq": -1, "epoch": "e"}}),
            ErrorCode.INVALID,
        ),
    ],
)
def test_bad_frames_name_their_problem(raw: str, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(raw)
    assert info.value.code == code
    assert info.value.message


def test_the_ref_is_echoed_even_when_the_payload_is_wrong() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(frame("note.post", {"room": "r"}, ref="abc"))
    assert info.value.ref == "abc"
    err = json.loads(protocol.error_frame(info.value))
    assert err["ref"] == "abc"
    assert err["type"] == "error"
    assert err["payload"]["code"] == "invalid"
    assert {d["field"] for d in err["payload"]["details"]} >= {"id", "text"}


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "x" * 501])
def test_note_text_bounds(text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(frame("note.post", {"room": "r", "id": str(uuid.uuid4()), "text": text}))
    assert info.value.code == ErrorCode.INVALID


def test_oversized_frames_are_refused_before_parsing() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_frame("x" * (protocol.MAX_FRAME_BYTES + 1))
    assert info.value.code == ErrorCode.TOO_BIG


def test_encode_is_compact_json_with_the_envelope() -> None:
    out = json.loads(protocol.encode("note.deleted", {"id": "n"}, room="r", seq=3, epoch="e"))
    assert out == {
        "v": 1,
        "type": "note.deleted",
        "room": "r",
        "seq": 3,
        "epoch": "e",
        "payload": {"id": "n"},
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200),
        st.builds(json.dumps, json_values),
        st.builds(
            lambda t, p, v: json.dumps({"v": v, "type": t, "payload": p}),
            st.sampled_from([*protocol.CLIENT_TYPES, "x"]),
            json_values,
            st.sampled_from([1, 1, 1, 2, "1"]),
        ),
    )
)
def test_random_frames_never_raise_anything_but_protocol_errors(data: str | bytes) -> None:
    try:
        msg = parse_client_frame(data)
    except ProtocolError as exc:
        assert exc.code in vars(ErrorCode).values()
    else:
        assert msg.type in protocol.CLIENT_TYPES


def test_a_payload_encoded_elsewhere_makes_the_same_frame_as_encode() -> None:
    payload = {"version": 3, "themes": [{"label": "vélo, écoles", "note_ids": ["a", "b"]}]}
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    framed = protocol.encode_encoded("themes.snapshot", text)
    assert framed == protocol.encode("themes.snapshot", payload)
    assert json.loads(framed)["payload"] == payload
