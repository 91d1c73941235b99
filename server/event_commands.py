"""The handlers of the messages that run an event, by type; `commands` adds them to its table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from . import agenda_handlers as agenda
from . import answer_handlers as answers
from . import console_handlers as console
from . import removal
from . import seating_handlers as seating
from . import spotlight_handlers as spotlight
from .context import AppContext
from .event_messages import EVENT_CLIENT_TYPES
from .hub import Connection
from .protocol import ClientMessage

EventHandler = Callable[[AppContext, Connection, ClientMessage], Awaitable[None]]

EVENT_HANDLERS: dict[str, EventHandler] = {
    "event.watch": agenda.event_watch,
    "console.watch": console.console_watch,
    "agenda.set": agenda.agenda_set,
    "agenda.load": agenda.agenda_load,
    "step.start": agenda.step_start,
    "step.pause": agenda.step_pause,
    "step.resume": agenda.step_resume,
    "step.adjust": agenda.step_adjust,
    "step.end": agenda.step_end,
    "seating.set": agenda.seating_set,
    "broadcast.send": console.broadcast_send,
    "help.raise": console.help_raise,
    "help.resolve": console.help_resolve,
    "observer.invite": console.observer_invite,
    "people.move": seating.people_move,
    "people.role": seating.people_role,
    "people.remove": removal.people_remove,
    "rooms.assign": seating.rooms_assign,
    "seat.choose": seating.seat_choose,
    "topic.propose": seating.topic_propose,
    "topic.decide": seating.topic_decide,
    "answer.set": answers.answer_set,
    "answers.tally": answers.answers_tally,
    "spotlight.set": spotlight.spotlight_set,
}
assert set(EVENT_HANDLERS) == set(EVENT_CLIENT_TYPES), "every event message needs a handler"
