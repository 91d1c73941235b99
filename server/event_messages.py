"""Messages that run an event: agenda and step timers, seating, broadcasts, help, open space."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from .payload import Empty, Id, Payload, RoomName

TITLE_MAX_CHARS = 120
PROMPT_MAX_CHARS = 1000
BROADCAST_MAX_CHARS = 300
HELP_MAX_CHARS = 200
MAX_STEP_SECONDS = 6 * 3600
MAX_STEP_VOTES = 20
MIN_CHOICES = 2
MAX_CHOICES = 8
CHOICE_MAX_CHARS = 80

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_CHARS)
]


def clean_choices(raw: Sequence[str]) -> list[str]:
    """A question's choices as stored: none (no question), or 2 to 8 distinct answers.

    Told apart without regard to case: "Yes" and "yes" would split one answer's count in two.
    """
    choices = [c.strip() for c in raw]
    if not choices:
        return []
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        raise ValueError(f"a question has {MIN_CHOICES} to {MAX_CHOICES} choices")
    for choice in choices:
        if not 1 <= len(choice) <= CHOICE_MAX_CHARS:
            raise ValueError(f"each choice has 1 to {CHOICE_MAX_CHARS} characters")
    folded = [c.casefold() for c in choices]
    if len(set(folded)) != len(folded):
        raise ValueError("two choices are the same")
    return choices


class StepIn(Payload):
    id: Id | None = None  # an existing step's id keeps it (and its notes' link to it)
    title: Title
    prompt: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=PROMPT_MAX_CHARS)
    ] = ""
    mode: Literal["plenary", "breakouts"] = "breakouts"
    duration: int = Field(default=0, ge=0, le=MAX_STEP_SECONDS)
    assign: Literal["keep", "random", "balanced", "reshuffle", "self_select"] = "keep"
    recall: bool = True
    topics: bool = False
    # Strict: a budget of true or "3" is a client's mistake, not a number of votes.
    votes: StrictInt = Field(default=0, ge=0, le=MAX_STEP_VOTES)
    # Not empty: the step is a question, its prompt what is asked, each person answers once.
    choices: list[StrictStr] = Field(default_factory=list)

    @field_validator("choices")
    @classmethod
    def _choices(cls, value: list[str]) -> list[str]:
        return clean_choices(value)


class AgendaSet(Payload):
    steps: list[StepIn] = Field(max_length=50)


class AgendaLoad(Payload):
    template: Id


class StepStart(Payload):
    step: Id


class StepAdjust(Payload):
    seconds: int = Field(ge=-MAX_STEP_SECONDS, le=MAX_STEP_SECONDS)

    @field_validator("seconds")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("seconds must not be 0")
        return value


class StepEnd(Payload):
    recall: bool | None = None  # absent: what the step is configured to do


class AnswerSet(Payload):
    step: Id
    # Strict: true is not the second choice. None takes one's answer back.
    choice: StrictInt | None


class AnswersTally(Payload):
    step: Id


class BroadcastSend(Payload):
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=BROADCAST_MAX_CHARS)
    ]
    room: Id | None = None  # absent: every room


class HelpRaise(Payload):
    room: Id
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=HELP_MAX_CHARS)] = ""


class RoomRef(Payload):
    room: Id


class PeopleMove(Payload):
    participant: Id
    room: Id


class PeopleRole(Payload):
    participant: Id
    role: Literal["participant", "table_host"]


class PeopleRemove(Payload):
    participant: Id
    # Strict: what it deletes cannot be undone, so "yes" or 1 is a mistake, not a request.
    delete_notes: StrictBool = False


class RoomsAssign(Payload):
    strategy: Literal["random", "balanced", "reshuffle"]
    groups: list[Annotated[list[Id], Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=500
    )


class SeatingSet(Payload):
    free: bool


class TopicPropose(Payload):
    title: RoomName


class TopicDecide(Payload):
    topic: Id
    accept: bool
    capacity: int = Field(default=20, ge=1, le=500)


class SpotlightSet(Payload):
    """One thing for the plenary screen, or nothing (`{}` clears it)."""

    theme: Id | None = None
    room: Id | None = None
    note: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_thing(self) -> SpotlightSet:
        if sum(v is not None for v in (self.theme, self.room, self.note)) > 1:
            raise ValueError("the screen shows one thing: give one of theme, room or note")
        return self


EventPayload = (
    AgendaSet
    | AgendaLoad
    | StepStart
    | StepAdjust
    | StepEnd
    | BroadcastSend
    | HelpRaise
    | RoomRef
    | PeopleMove
    | PeopleRole
    | PeopleRemove
    | RoomsAssign
    | SeatingSet
    | TopicPropose
    | TopicDecide
    | AnswerSet
    | AnswersTally
    | SpotlightSet
)

EVENT_CLIENT_TYPES: dict[str, type[EventPayload | Empty]] = {
    "event.watch": Empty,
    "console.watch": Empty,
    "agenda.set": AgendaSet,
    "agenda.load": AgendaLoad,
    "step.start": StepStart,
    "step.pause": Empty,
    "step.resume": Empty,
    "step.adjust": StepAdjust,
    "step.end": StepEnd,
    "broadcast.send": BroadcastSend,
    "help.raise": HelpRaise,
    "help.resolve": RoomRef,
    "people.move": PeopleMove,
    "people.role": PeopleRole,
    "people.remove": PeopleRemove,
    "rooms.assign": RoomsAssign,
    "seating.set": SeatingSet,
    "seat.choose": RoomRef,
    "topic.propose": TopicPropose,
    "topic.decide": TopicDecide,
    "observer.invite": Empty,
    "answer.set": AnswerSet,
    "answers.tally": AnswersTally,
    "spotlight.set": SpotlightSet,
}
EVENT_SERVER_TYPES = frozenset(
    {
        "agenda.state",
        "event.updated",
        "step.warning",
        "step.ended",
        "broadcast",
        "help.updated",
        "moved",
        "people.updated",
        "removed",
        "event.deleted",
        "topics.updated",
        "answers.updated",
        "spotlight",
    }
)
