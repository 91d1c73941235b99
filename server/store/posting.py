"""The statements of a note's post, built once: the path every contribution takes.

Core rather than the ORM here: a post is three statements in one transaction, and the unit of
work, identity map and per-call statement building cost more than the database itself. On
SQLite even Core's per-execute work (an execution context, a result object, parameter
processing) cost more than SQLite's own: there the statements are compiled once and run on
the driver's cursor, inside the same transaction.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Dialect, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from .. import protocol
from ..rooms import Note, Participant, Room
from .models import AgendaRow, NoteRow, RoomEventRow, RoomRow

_rooms: Table = RoomRow.__table__  # type: ignore[assignment]
_notes: Table = NoteRow.__table__  # type: ignore[assignment]
_frames: Table = RoomEventRow.__table__  # type: ignore[assignment]
_agendas: Table = AgendaRow.__table__  # type: ignore[assignment]

BUMP = (
    update(_rooms)
    .where(_rooms.c.id == bindparam("room_id"))
    .values(seq=_rooms.c.seq + 1)
    .returning(_rooms.c.seq, _rooms.c.epoch)
)

_STEP = (
    select(_agendas.c.step_id)
    .where(_agendas.c.event_id == bindparam("step_event_id"))
    .scalar_subquery()
)

INSERT_NOTE = (
    insert(_notes)
    .values(
        id=bindparam("id"),
        event_id=bindparam("event_id"),
        room_id=bindparam("room_id"),
        author_id=bindparam("author_id"),
        text=bindparam("text"),
        seq=bindparam("seq"),
        created_at=bindparam("created_at"),
        updated_at=bindparam("updated_at"),
        step_id=_STEP,
    )
    .returning(_notes.c.step_id)
)

INSERT_FRAME = insert(_frames).values(
    room_id=bindparam("room_id"),
    seq=bindparam("seq"),
    frame=bindparam("frame"),
    created_at=bindparam("created_at"),
)

TRIM_FRAMES = delete(_frames).where(
    _frames.c.room_id == bindparam("room_id"), _frames.c.seq <= bindparam("upto")
)


class _Rows(Protocol):
    def fetchone(self) -> Any: ...


Run = Callable[[Executable, Mapping[str, Any]], _Rows]


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled for one dialect: SQL text, parameter order, parameter processing."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    fixed: Mapping[str, Any]  # values written into the statement, such as the 1 of seq + 1

    @classmethod
    def compile(cls, statement: Executable, dialect: Dialect) -> _DriverStatement:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        names = tuple(compiled.positiontup or ())
        binds = [compiled.binds[name] for name in names]
        processors = tuple(b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds)
        fixed = {n: b.value for n, b in zip(names, binds, strict=True) if not b.required}
        return cls(str(compiled), names, processors, fixed)

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = [params[n] if n in params else self.fixed[n] for n in self.names]
        return tuple(
            value if process is None else process(value)
            for value, process in zip(values, self.processors, strict=True)
        )


_sqlite_statements: dict[Executable, _DriverStatement] = {}


def _runner(c: Connection) -> Run:
    if c.dialect.name != "sqlite":
        return c.execute
    statements = _sqlite_statements
    if not statements:
        for statement in (BUMP, INSERT_NOTE, INSERT_FRAME, TRIM_FRAMES):
            statements[statement] = _DriverStatement.compile(statement, c.dialect)
    cursor = c.connection.driver_connection.cursor()  # type: ignore[union-attr]
    driver_error: type[Exception] = c.dialect.loaded_dbapi.Error
    hide = c.engine.hide_parameters  # the note's text stays out of the error, as elsewhere

    def run(statement: Executable, params: Mapping[str, Any]) -> _Rows:
        compiled = statements[statement]
        args = compiled.args(params)
        try:
            rows: _Rows = cursor.execute(compiled.sql, args)
        except driver_error as exc:
            # As SQLAlchemy would raise it: a repeated note id is an IntegrityError to callers.
            raise DBAPIError.instance(
                compiled.sql, args, exc, driver_error, hide_parameters=hide
            ) from exc
        return rows

    return run


class RoomGone(LookupError):
    """The room was deleted (with its event) between the request's checks and its write."""


@dataclass(frozen=True)
class Posted:
    seq: int
    epoch: str
    frame: str
    note: Note


def insert_note(
    c: Connection,
    actor: Participant,
    room: Room,
    note_id: str,
    text: str,
    now: datetime,
    *,
    keep_frames: int,
    trim_every: int,
) -> Posted:
    """Store a note and its diff frame in the caller's transaction: blocking, so that a whole
    post is one call on SQLite's writer thread (PostgreSQL's is `pg_posting`)."""
    run = _runner(c)
    bumped = run(BUMP, {"room_id": room.id}).fetchone()
    if bumped is None:
        raise RoomGone(room.id)
    seq, epoch = bumped
    # The step is read in this transaction, so a note belongs to the step it committed in.
    (step_id,) = run(
        INSERT_NOTE,
        {
            "id": note_id,
            "event_id": room.event_id,
            "room_id": room.id,
            "author_id": actor.id,
            "text": text,
            "seq": seq,
            "created_at": now,
            "updated_at": now,
            "step_event_id": room.event_id,
        },
    ).fetchone()
    note = new_note(actor, room, note_id, text, now, step_id)
    frame = protocol.encode(
        "note.added", {"note": note.to_wire()}, room=room.id, seq=seq, epoch=epoch
    )
    run(INSERT_FRAME, {"room_id": room.id, "seq": seq, "frame": frame, "created_at": now})
    upto = trim_upto(seq, keep_frames, trim_every)
    if upto is not None:
        run(TRIM_FRAMES, {"room_id": room.id, "upto": upto})
    return Posted(int(seq), str(epoch), frame, note)


def new_note(
    actor: Participant, room: Room, note_id: str, text: str, now: datetime, step_id: str | None
) -> Note:
    return Note(
        note_id, room.id, actor.id, actor.pseudonym, actor.role, text, now, now, step_id=step_id
    )


def trim_upto(seq: int, keep_frames: int, trim_every: int) -> int | None:
    """The seq up to which a room's frames go, on every `trim_every`-th post of the room."""
    if seq % trim_every == 0 and seq > keep_frames:
        return seq - keep_frames
    return None


class RecentIds:
    """A bounded set that forgets the oldest ids first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def add(self, key: str) -> None:
        self._ids[key] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
