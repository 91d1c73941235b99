"""Messages of question steps: answering, and reading the tally; and who hears the counts.

The consoles hear the open question's tally as it changes, at most a few times a second: when
300 people answer within a minute, each answer re-counting and re-sending the whole tally to
every console would cost a read and a frame per console per answer. Everyone hears the
result once it closes (see `answers.closed_question`), in one frame after the `agenda.state`
that closed it. Each tally carries the agenda version it was counted under, so a console
keeps the newest whatever order frames from several processes arrive in.
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

# A console hears the first answer of a quiet spell this long after it, and a steady stream of
# answers at least this often.
TALLY_QUIET_SECONDS = 0.2
TALLY_MAX_WAIT_SECONDS = 0.5


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


def answers_changed(ctx: AppContext, event_id: str) -> None:
    """Someone answered, changed or withdrew an answer, or left: recount for the consoles soon."""
    if ctx.tally_pushes is None:
        from nlp.debounce import Debouncer

        async def push(key: str) -> None:
            await publish_current_tally(ctx, key)

        ctx.tally_pushes = Debouncer(
            push, quiet=TALLY_QUIET_SECONDS, max_wait=TALLY_MAX_WAIT_SECONDS
        )
    ctx.tally_pushes.touch(event_id)


async def answer_set(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.AnswerSet)
    await set_answer(ctx.store, conn.participant, p.step, p.choice)
    conn.offer(protocol.ack_frame(msg.ref, {"step": p.step, "choice": p.choice}))
    answers_changed(ctx, conn.participant.event_id)


async def answers_tally(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.AnswersTally)
    agenda = await load_agenda(ctx.store, conn.participant.event_id)
    counted = await read_tally(ctx.store, agenda, question(agenda, p.step))
    shown = counted.to_wire(full=sees_counts(conn.participant, counted))
    conn.offer(protocol.ack_frame(msg.ref, {"tally": shown}))
