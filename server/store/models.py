"""Tables. The database is the source of truth; everything live is derived from it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The participants' pages' language; the server default covers events made before it.
    language: Mapped[str] = mapped_column(String(8), server_default="en")


class RoomRow(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Last sequence number handed out; bumped in the transaction that stores each change.
    seq: Mapped[int] = mapped_column(Integer, default=0)
    # Changes when the room's history can no longer be trusted; clients then reload.
    epoch: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ParticipantRow(Base):
    __tablename__ = "participants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set when a facilitator took them out of the event: their token is refused from then on.
    # The row stays, so their notes keep an author and the seating history its people.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NoteRow(Base):
    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_event_live", "event_id", "deleted_at"),)

    # Made by the client, so a retried post finds its note instead of making a second one.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    # Indexed, as every foreign key column is: erasing an event deletes its participants, and
    # each deletion looks up the rows pointing at them (a whole table's scan without one).
    author_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(Integer)  # the seq of its note.added diff
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The agenda step that was current when the note was written: each step has its own wall.
    # No foreign key: a step taken off the agenda leaves its notes where they are.
    step_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class LikeRow(Base):
    __tablename__ = "likes"
    # A step's vote budget counts one person's likes given in it.
    __table_args__ = (Index("ix_likes_participant_step", "participant_id", "step_id"),)

    note_id: Mapped[str] = mapped_column(
        ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The step that was running (or paused) when the like was given; null outside a step.
    # No foreign key, as for notes: a step taken off the agenda leaves its likes alone.
    step_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class RoomEventRow(Base):
    """The encoded diff frames of a room, kept for a while so reconnecting clients catch up."""

    __tablename__ = "room_events"
    __table_args__ = (UniqueConstraint("room_id", "seq", name="uq_room_events_room_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    frame: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ThemeSnapshotRow(Base):
    __tablename__ = "theme_snapshots"
    __table_args__ = (UniqueConstraint("event_id", "version", name="uq_theme_snapshots_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the notes these themes were made from were read: a note changed after this is
    # not covered yet, whatever created_at says.
    notes_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# Running an event: agenda, clock, seating history, help, broadcasts, open-space topics ------


class AgendaRow(Base):
    """An event's agenda clock. `version` guards every change against a stale read."""

    __tablename__ = "agendas"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    remaining: Mapped[float | None] = mapped_column(Float, nullable=True)  # seconds, when paused
    warned: Mapped[bool] = mapped_column(Boolean)
    phase: Mapped[str] = mapped_column(String(16))
    free_seating: Mapped[bool] = mapped_column(Boolean)


class AgendaStepRow(Base):
    __tablename__ = "agenda_steps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(16))
    duration: Mapped[int] = mapped_column(Integer)  # seconds; 0: no timer
    assign: Mapped[str] = mapped_column(String(16))
    recall: Mapped[bool] = mapped_column(Boolean)
    topics: Mapped[bool] = mapped_column(Boolean)
    # Likes each person at a table may give while the step runs; 0: unlimited. The server
    # default reads agendas stored before budgets existed as unlimited, as they were.
    votes: Mapped[int] = mapped_column(Integer, server_default="0")
    # A question's choices, in order; empty: the step asks none. Answers refer to them by
    # their index, so the list changes only with its answers gone.
    choices: Mapped[list[str]] = mapped_column(JSON, server_default="[]")


class AnswerRow(Base):
    """One person's answer to a question step; answering again replaces it."""

    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_step_id", "step_id"),)

    step_id: Mapped[str] = mapped_column(
        ForeignKey("agenda_steps.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # The table they sat at when they last answered: what the results compare.
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), nullable=True, index=True
    )
    choice: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SeatingRow(Base):
    """Who sat at which table during a step: the history a world café reshuffle avoids."""

    __tablename__ = "seatings"
    __table_args__ = (
        UniqueConstraint("step_id", "participant_id", "room_id", name="uq_seatings_step_seat"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[str] = mapped_column(String(32))
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HelpRequestRow(Base):
    __tablename__ = "help_requests"
    __table_args__ = (Index("ix_help_requests_event_open", "event_id", "resolved_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    raised_by: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(32), nullable=True)


class BroadcastRow(Base):
    __tablename__ = "broadcasts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), nullable=True, index=True
    )
    sender_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TopicRow(Base):
    """An open-space topic: proposed by anyone, accepted (then it has a room) or declined."""

    __tablename__ = "topics"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    proposed_by: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Theme steering ------------------------------------------------------------------------------


class ThemeEditRow(Base):
    """One facilitator edit of the themes (rename, merge, split, move, pin, hide, show).

    Replayed in order on every re-clustering, by whichever worker runs it.
    """

    __tablename__ = "theme_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    theme_id: Mapped[str] = mapped_column(String(64), default="")
    other_id: Mapped[str] = mapped_column(String(64), default="")
    label: Mapped[str] = mapped_column(String(200), default="")
    # Note ids for move, pin and merge; [[theme id, [note ids]], ...] for split.
    detail: Mapped[object] = mapped_column(JSON)
    author_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SpotlightRow(Base):
    """What is on the plenary screen of an event (at most one thing), as resolved for it.

    `version` counts every change, clearing included, so that pages can keep the latest of
    two changes that reach them in either order.
    """

    __tablename__ = "spotlights"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)
    # None: nothing is shown. Otherwise `Spotlight.to_wire()`.
    payload: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
