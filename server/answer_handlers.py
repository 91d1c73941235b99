"""Messages of question steps: answering, and reading the tally; and who hears the counts.

The consoles hear every change of the open question's tally; everyone hears the result once
it closes (see `answers.closed_question`), in one frame after the `agenda.state` that closed it.
"""

from __future__ import annotations

from . import event_messages, protocol
from .agenda import Agenda, Step
from .answers import question, sees_counts
from .context import AppContext
from .hub import Connection, event_channel, staff_channel
from .protocol import ClientMessage
from .store.agenda import load_agenda
from .store.answers import read_tally, set_answer


async def publish_tally(ctx: AppContext, agenda: Agenda, step: Step, *, everyone: bool) -> None:
    """`step`'s full tally to the consoles, or (`everyone`, at its close) to every connection."""
    counted = await read_tally(ctx.store, agenda, step)
    frame = protocol.encode("answers.updated", counted.to_wire())
    channel = event_channel if everyone else staff_channel
    await ctx.hub.publish(channel(agenda.event_id), frame)


async def publish_current_tally(ctx: AppContext, event_id: str) -> None:
    """The current step's tally to the consoles, if it asks a question."""
    agenda = await load_agenda(ctx.store, event_id)
    step = agenda.current
    if step is not None and step.choices:
        await publish_tally(ctx, agenda, step, everyone=False)


async def answer_set(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.AnswerSet)
    agenda, step = await set_answer(ctx.store, conn.participant, p.step, p.choice)
    conn.offer(protocol.ack_frame(msg.ref, {"step": p.step, "choice": p.choice}))
    await publish_tally(ctx, agenda, step, everyone=False)


async def answers_tally(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.AnswersTally)
    agenda = await load_agenda(ctx.store, conn.participant.event_id)
    counted = await read_tally(ctx.store, agenda, question(agenda, p.step))
    shown = counted.to_wire(full=sees_counts(conn.participant, counted))
    conn.offer(protocol.ack_frame(msg.ref, {"tally": shown}))
