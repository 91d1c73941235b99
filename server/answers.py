"""Questions: a step with choices, answered once by each person at a table. Pure.

While the question is open (its step runs or is paused) only facilitators see the counts:
people who see how others answered tend to answer the same (herding). When it closes,
everyone gets the result, per choice and per table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .agenda import Agenda, Step
from .protocol import ErrorCode, ProtocolError
from .rooms import SEATED_ROLES, STAFF_ROLES, Participant


@dataclass(frozen=True, slots=True)
class Answer:
    room_id: str | None  # where its author sat when answering; None: that table is gone
    choice: int


@dataclass(frozen=True, slots=True)
class Tally:
    step_id: str
    choices: tuple[str, ...]
    counts: tuple[int, ...]  # per choice
    answered: int
    eligible: int  # people sitting at a table now
    rooms: tuple[tuple[str, tuple[int, ...]], ...]  # (room id, counts), tables answered at
    open: bool
    # The agenda version this was counted under: a tally read before a close can arrive after
    # the result (another process, another channel), and must not reopen the question.
    agenda_version: int = 0

    def to_wire(self, full: bool = True) -> dict[str, Any]:
        """The tally as sent; without `full`, only how many answered."""
        return {
            "step": self.step_id,
            "choices": list(self.choices),
            "counts": list(self.counts) if full else None,
            "answered": self.answered,
            "eligible": self.eligible,
            "rooms": [{"room": r, "counts": list(c)} for r, c in self.rooms] if full else None,
            "open": self.open,
            "agenda_version": self.agenda_version,
        }


def tally(
    step: Step,
    answers: Sequence[Answer],
    room_order: Sequence[str],
    eligible: int,
    open_: bool,
    agenda_version: int = 0,
) -> Tally:
    """Count `answers` to `step`'s question per choice, and per table in `room_order`."""
    width = len(step.choices)
    counts = [0] * width
    by_room: dict[str, list[int]] = {}
    answered = 0
    for a in answers:
        if not 0 <= a.choice < width:
            continue  # choices changed under it: never stored, but never miscounted either
        answered += 1
        counts[a.choice] += 1
        if a.room_id is not None:
            by_room.setdefault(a.room_id, [0] * width)[a.choice] += 1
    rooms = tuple((r, tuple(by_room[r])) for r in room_order if r in by_room)
    return Tally(
        step.id, step.choices, tuple(counts), answered, eligible, rooms, open_, agenda_version
    )


def sees_counts(viewer: Participant, tally_: Tally) -> bool:
    """Facilitators always; everyone else once the question has closed."""
    return viewer.role in STAFF_ROLES or not tally_.open


def question(agenda: Agenda, step_id: str) -> Step:
    """The step `step_id` as a question, or the error saying why it is none."""
    step = agenda.step(step_id)
    if step is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such step in the agenda")
    if not step.choices:
        raise ProtocolError(ErrorCode.INVALID, "this step asks no question")
    return step


def check_can_answer(actor: Participant) -> None:
    """The people at the tables answer; facilitators ask, and plenary screens show."""
    if actor.role not in SEATED_ROLES or actor.removed:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"a {actor.role} does not answer questions")
    if actor.room_id is None:
        raise ProtocolError(ErrorCode.FORBIDDEN, "only people sitting at a table answer")


def check_answer(agenda: Agenda, step_id: str, choice: int | None) -> Step:
    """An answer (or its withdrawal) to `step_id`, checked against the agenda read with it."""
    step = question(agenda, step_id)
    if choice is not None and not 0 <= choice < len(step.choices):
        raise ProtocolError(
            ErrorCode.INVALID, f"choice must be a number from 0 to {len(step.choices) - 1}"
        )
    if not agenda.question_open(step.id):
        raise ProtocolError(ErrorCode.CLOSED, "answers to this question are closed")
    return step


def closed_question(before: Agenda, after: Agenda) -> Step | None:
    """The question that `before` had open and `after` no longer has: its step ended, timed
    out, or another started. A pause keeps it open; a re-run of it is the same question."""
    step = before.current
    if step is None or not before.question_open(step.id) or after.question_open(step.id):
        return None
    return step
