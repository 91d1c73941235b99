"""Protocol v1: the one envelope every WebSocket frame uses, and every message type.

Pure: no I/O. Frames are JSON text objects:

    {"v": 1, "type": "note.post", "ref": "c7", "payload": {...}}

A request may carry a ``ref``; the ``ack`` or ``error`` that answers it echoes it. Room diffs
carry the room id, the room's epoch and its sequence number.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from .event_messages import EVENT_CLIENT_TYPES, EVENT_SERVER_TYPES, EventPayload
from .payload import Empty, Id, Payload, RoomName, clean_text
from .theme_messages import THEME_CLIENT_TYPES, THEME_SERVER_TYPES, ThemePayload, ThemesWatch

VERSION = 1
SUBPROTOCOL = "tablee.v1"
TOKEN_SUBPROTOCOL_PREFIX = "token."
MAX_FRAME_BYTES = 64 * 1024
NOTE_MAX_CHARS = 500
PSEUDONYM_MAX_CHARS = 40


class ErrorCode:
    """Machine-readable codes carried by ``error`` frames."""

    MALFORMED = "malformed"  # not JSON, not an object, or an envelope field of the wrong kind
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_TYPE = "unknown_type"
    INVALID = "invalid"  # the payload does not match the message type
    TOO_BIG = "too_big"
    FORBIDDEN = "forbidden"  # the sender's role may not do this
    NOT_MEMBER = "not_member"  # the sender is not in that room
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # e.g. the same note id already used for another room or author
    ROOM_FULL = "room_full"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"
    CLOSED = "closed"  # not possible in the current step (e.g. topics are not being collected)
    NO_VOTES_LEFT = "no_votes_left"  # the running step's vote budget is spent


class ProtocolError(Exception):
    """A frame that cannot be accepted; it becomes an ``error`` frame to its sender."""

    def __init__(
        self, code: str, message: str, ref: str | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref
        self.details = details


class SinceCursor(Payload):
    seq: int = Field(ge=0)
    epoch: Id


class RoomJoin(Payload):
    room: Id
    since: SinceCursor | None = None


class RoomLeave(Payload):
    room: Id


class NoteText(Payload):
    text: str

    @field_validator("text")
    @classmethod
    def _text_bounds(cls, value: str) -> str:
        value = clean_text(value)
        if not value:
            raise ValueError("text is empty")
        if len(value) > NOTE_MAX_CHARS:
            raise ValueError(f"text is longer than {NOTE_MAX_CHARS} characters")
        return value


class NotePost(NoteText):
    room: Id
    id: uuid.UUID


class NoteEdit(NoteText):
    room: Id
    id: uuid.UUID


class NoteRef(Payload):
    room: Id
    id: uuid.UUID


class RoomCreate(Payload):
    name: RoomName
    capacity: int = Field(default=8, ge=1, le=500)


ClientPayload = (
    RoomJoin
    | RoomLeave
    | NotePost
    | NoteEdit
    | NoteRef
    | RoomCreate
    | Empty
    | EventPayload
    | ThemePayload
    | ThemesWatch
)

# Every message a client may send, with the payload it must carry.
CLIENT_TYPES: dict[str, type[ClientPayload]] = {
    "room.join": RoomJoin,
    "room.leave": RoomLeave,
    "note.post": NotePost,
    "note.edit": NoteEdit,
    "note.delete": NoteRef,
    "note.like": NoteRef,
    "note.unlike": NoteRef,
    "room.create": RoomCreate,
    "themes.watch": ThemesWatch,
    "ping": Empty,
    **EVENT_CLIENT_TYPES,
    **THEME_CLIENT_TYPES,
}

# Room diffs: sequenced, stored, replayable.
ROOM_DIFF_TYPES = frozenset({"note.added", "note.edited", "note.deleted", "note.likes"})
# Everything the server sends.
SERVER_TYPES = ROOM_DIFF_TYPES | {
    "hello",
    "ack",
    "error",
    "pong",
    "room.joined",
    "room.reset",
    "presence.diff",
    "rooms.updated",
    "themes.snapshot",
    *EVENT_SERVER_TYPES,
    *THEME_SERVER_TYPES,
}


@dataclass(frozen=True, slots=True)
class ClientMessage:
    type: str
    ref: str | None
    payload: ClientPayload


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    v: int
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    ref: Annotated[str, StringConstraints(max_length=64)] | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


def _ref_of(raw: object) -> str | None:
    if isinstance(raw, dict):
        ref = raw.get("ref")
        if isinstance(ref, str) and len(ref) <= 64:
            return ref
    return None


def parse_client_frame(data: str | bytes) -> ClientMessage:
    """Validate one frame from a client, or raise ProtocolError naming the problem."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_FRAME_BYTES:
        raise ProtocolError(ErrorCode.TOO_BIG, f"frame of {size} bytes exceeds {MAX_FRAME_BYTES}")
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(ErrorCode.MALFORMED, f"frame is not valid JSON: {exc}") from None
    ref = _ref_of(raw)
    if not isinstance(raw, dict):
        raise ProtocolError(ErrorCode.MALFORMED, "frame must be a JSON object")
    try:
        env = _Envelope.model_validate(raw)
    except ValidationError as exc:
        raise ProtocolError(
            ErrorCode.MALFORMED, "bad envelope: " + _summarise(exc), ref, _details(exc)
        ) from None
    if env.v != VERSION:
        raise ProtocolError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"protocol version {env.v} is not supported; use {VERSION}",
            ref,
        )
    model = CLIENT_TYPES.get(env.type)
    if model is None:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {env.type!r}", ref)
    try:
        payload = model.model_validate(env.payload)
    except ValidationError as exc:
        raise ProtocolError(
            ErrorCode.INVALID, f"{env.type}: " + _summarise(exc), ref, _details(exc)
        ) from None
    return ClientMessage(env.type, env.ref, payload)


def _summarise(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "frame"
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def _details(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "problem": str(err["msg"])}
        for err in exc.errors()[:10]
    ]


def encode(
    type_: str,
    payload: dict[str, Any] | None = None,
    *,
    ref: str | None = None,
    room: str | None = None,
    seq: int | None = None,
    epoch: str | None = None,
) -> str:
    """Encode one server frame. Called once per broadcast, never once per recipient."""
    frame: dict[str, Any] = {"v": VERSION, "type": type_}
    if ref is not None:
        frame["ref"] = ref
    if room is not None:
        frame["room"] = room
    if seq is not None:
        frame["seq"] = seq
    if epoch is not None:
        frame["epoch"] = epoch
    frame["payload"] = payload if payload is not None else {}
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def encode_encoded(type_: str, payload_json: str) -> str:
    """A frame around a payload that is already JSON text: a theme snapshot of a large event
    is megabytes, encoded once where it was made and never decoded on its way out."""
    return f'{{"v":{VERSION},"type":{json.dumps(type_)},"payload":{payload_json}}}'


def error_frame(err: ProtocolError) -> str:
    payload: dict[str, Any] = {"code": err.code, "message": err.message}
    if err.details is not None:
        payload["details"] = err.details
    return encode("error", payload, ref=err.ref)


def ack_frame(ref: str | None, payload: dict[str, Any] | None = None) -> str:
    return encode("ack", payload or {}, ref=ref)


Role = Literal["participant", "facilitator", "table_host", "observer"]
ROLES: tuple[Role, ...] = ("participant", "facilitator", "table_host", "observer")
