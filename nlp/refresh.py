"""What crosses between the server and the process that re-clusters an event.

A re-clustering of a large event must not stall the server's event loop, and in one
process every large object the server builds, pickles, decodes or encodes holds the
interpreter lock for as long as that one C call takes: a 20,000-note event's notes are
megabytes, its snapshot too. So the server sends only the notes that changed since the
last run (`NoteLedger`), the host keeps the event's notes and its last themes
(`EventNotes`), and the host answers with the snapshot already encoded as JSON text, which
the server stores and sends on as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from .identity import LineageEvent
from .steering import Steering
from .themes import NoteInput, Theme, ThemeSet


class NoteRecord(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def room_id(self) -> str: ...
    @property
    def created_at(self) -> datetime | None: ...
    @property
    def step_id(self) -> str | None: ...


@dataclass(frozen=True)
class RunRequest:
    """One re-clustering of an event, as the changes since the host's last one.

    `full` requests carry every note and, when themes were stored, the stored snapshot's
    text: the host then forgets what it held. Other requests apply only when the host's
    state is the one the server last sent (`base`) and its last themes are the stored ones
    (`previous_version`); otherwise the host declines and the server sends a full one.
    """

    event_id: str
    token: int
    base: int
    full: bool
    upserts: tuple[NoteInput, ...]
    removed: tuple[str, ...]
    previous_version: int | None
    previous_text: str | None = None
    steering: Steering | None = None


@dataclass(frozen=True)
class RunOutput:
    version: int
    text: str  # the themes payload, encoded
    n_notes: int
    timings: dict[str, float] = field(default_factory=dict)
    diff: str | None = None  # from the previous version (`nlp.theme_diff`), encoded


def encode_payload(payload: object) -> str:
    # ASCII (non-ASCII as \u escapes): one accented note would otherwise make the whole
    # megabytes-long string two or four bytes a character, and each copy the server makes
    # of it on its way out (framing, UTF-8) a slow conversion instead of a memcpy.
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":"))


def note_input(record: NoteRecord) -> NoteInput:
    created = record.created_at
    return NoteInput(
        record.id,
        record.text,
        record.room_id,
        created.timestamp() if created else 0.0,
        record.step_id,
    )


# A note is read again if it changed this long before the last read: a write stamped by
# another process (or machine) commits a little after its stamp.
READ_OVERLAP = timedelta(seconds=10)
# Every so many runs an event's notes are all read again, whatever the stamps say.
FULL_READ_EVERY = 30


@dataclass(frozen=True)
class NoteReading:
    """Notes read from the store: all of an event's live notes (`complete`), or those
    written since some moment, with the ids of notes deleted since then."""

    records: Sequence[NoteRecord]
    read_at: datetime
    complete: bool = True
    deleted: Sequence[str] = ()


class NoteLedger:
    """The server's record of what it sent the host for one event."""

    def __init__(self) -> None:
        self._sent: dict[str, tuple[str, str]] = {}
        self._read_at: datetime | None = None
        self._partial_reads = 0
        self._token = 0
        self._acked = -1  # the token of the last request the host applied
        self._pending: tuple[dict[str, tuple[str, str]], datetime, bool] | None = None

    def since(self) -> datetime | None:
        """Where the next read may start; None when it must read every note."""
        if self._read_at is None or self._partial_reads >= FULL_READ_EVERY:
            return None
        return self._read_at - READ_OVERLAP

    def request(
        self,
        event_id: str,
        reading: NoteReading,
        previous_version: int | None,
        steering: Steering | None,
        *,
        full: bool = False,
        previous_text: str | None = None,
    ) -> RunRequest:
        """The request bringing the host from the last applied state to what was read.

        Runs in a thread: after a complete read it walks every note of the event once.
        """
        if full and not reading.complete:
            raise ValueError("a full request needs every note")
        self._token += 1
        upserts: list[NoteInput] = []
        removed: tuple[str, ...] = ()
        if reading.complete:
            current: dict[str, tuple[str, str]] = {}
            for record in reading.records:
                key = (record.text, record.room_id)
                current[record.id] = key
                if full or self._sent.get(record.id) != key:
                    upserts.append(note_input(record))
            if not full:
                removed = tuple(k for k in self._sent if k not in current)
        else:
            current = dict(self._sent)
            for record in reading.records:
                key = (record.text, record.room_id)
                if current.get(record.id) != key:
                    current[record.id] = key
                    upserts.append(note_input(record))
            removed = tuple(k for k in dict.fromkeys(reading.deleted) if k in current)
            for gone in removed:
                del current[gone]
        self._pending = (current, reading.read_at, reading.complete)
        return RunRequest(
            event_id=event_id,
            token=self._token,
            base=self._acked,
            full=full,
            upserts=tuple(upserts),
            removed=removed,
            previous_version=previous_version,
            previous_text=previous_text if full else None,
            steering=steering,
        )

    def applied(self, request: RunRequest) -> None:
        """The host took `request`: the next one is relative to it."""
        if request.token == self._token and self._pending is not None:
            self._sent, self._read_at, complete = self._pending
            self._partial_reads = 0 if complete else self._partial_reads + 1
            self._acked = request.token


@dataclass
class EventNotes:
    """The host's copy of one event's notes, kept in step with the server's ledger."""

    notes: dict[str, NoteInput] = field(default_factory=dict)
    token: int = -1

    def accepts(self, request: RunRequest) -> bool:
        return request.full or request.base == self.token

    def apply(self, request: RunRequest) -> list[NoteInput]:
        """The event's notes after `request`, oldest first (as the store orders them)."""
        if request.full:
            self.notes = {}
        for gone in request.removed:
            self.notes.pop(gone, None)
        for note in request.upserts:
            self.notes[note.id] = note
        self.token = request.token
        return sorted(self.notes.values(), key=_age)


def _age(note: NoteInput) -> tuple[float, str]:
    return (note.created_at, note.id)


def themes_from_payload(payload: dict[str, Any]) -> ThemeSet:
    """The stored snapshot as the `previous` of the next run, so ids survive a restart."""
    themes = tuple(
        Theme(
            id=str(t["id"]),
            label=str(t["label"]),
            keywords=tuple(str(k) for k in t.get("keywords", ())),
            note_ids=tuple(str(n) for n in t.get("note_ids", ())),
            representative_ids=tuple(str(r["id"]) for r in t.get("representatives", ())),
            rooms=tuple((str(r["id"]), int(r["count"])) for r in t.get("rooms", ())),
            steps=tuple((str(r["id"]), int(r["count"])) for r in t.get("steps", ())),
            renamed=bool(t.get("renamed", False)),
            hidden=bool(t.get("hidden", False)),
            split_from=t.get("split_from"),
        )
        for t in payload.get("themes", ())
    )
    listed = payload.get("unthemed", ())
    unthemed = tuple(str(u["id"]) for u in listed)
    distinct = {str(u["id"]): float(u.get("distinctness", 0.0)) for u in listed}
    coords = {str(k): (float(v[0]), float(v[1])) for k, v in payload.get("map", {}).items()}
    lineage = tuple(
        LineageEvent(int(e["version"]), str(e["kind"]), str(e["theme"]), str(e["other"]))
        for e in payload.get("lineage", ())
    )
    return ThemeSet(
        version=int(payload.get("version", 0)),
        themes=themes,
        unthemed_ids=unthemed,
        distinct=distinct,
        coords=coords,
        lineage=lineage,
    )
