"""Messages that run the agenda: follow it, set or load it, start, pause, extend and end steps.

Each change is computed by the pure `agenda` module from a fresh read and written only if
nobody changed the agenda meanwhile (else read again, up to a few times). The step's timer is
re-armed from what was written; when it fires, `tick` decides from a fresh read again.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from . import agenda as rules
from . import event_messages, protocol
from .agenda import Agenda, Effect, Step
from .answer_handlers import publish_tally
from .answers import closed_question
from .assignment import STRATEGIES, Strategy
from .context import AppContext
from .event_fanout import agenda_payload, apply_moves, publish_agenda
from .hub import Connection
from .languages import DEFAULT_LANGUAGE
from .protocol import ClientMessage, ErrorCode, ProtocolError
from .removal import dismiss
from .rooms import STAFF_ROLES, Participant, check_staff
from .store.agenda import load_agenda, save_agenda
from .store.answers import answer_of
from .store.likes import votes_left_now
from .store.notices import open_help, recent_broadcasts
from .store.seating import seat_for_step
from .store.spotlight import shown
from .templates import TemplateError, load_templates

Change = Callable[[Agenda, float], tuple[Agenda, list[Effect]]]
ATTEMPTS = 5
STRATEGY_OF: dict[str, Strategy] = {s: s for s in STRATEGIES}  # "keep", "self_select": none


def _new_step_id() -> str:
    return uuid.uuid4().hex


async def change_agenda(ctx: AppContext, event_id: str, change: Change) -> Agenda:
    """Apply `change` to the stored agenda, publish the result and re-arm the timer."""
    for _ in range(ATTEMPTS):
        before = await load_agenda(ctx.store, event_id)
        after, effects = change(before, time.time())
        if await save_agenda(ctx.store, before, after):
            if after.version != before.version:
                await publish_agenda(ctx, after, effects)
            arm(ctx, after)  # first: a failed read of the tally must not cost the next timer
            # Here, from the one write that closed it, whatever closed it (an end, its timer
            # on whichever process, another step's start): the result to everyone.
            closed = closed_question(before, after)
            if closed is not None:
                await publish_tally(ctx, after, closed, everyone=True)
            return after
    raise ProtocolError(ErrorCode.CONFLICT, "the agenda was changing meanwhile; try again")


def arm(ctx: AppContext, agenda: Agenda) -> None:
    event_id = agenda.event_id

    async def fire() -> None:
        await tick(ctx, event_id)

    ctx.timers.arm(event_id, rules.next_deadline(agenda), fire)


async def tick(ctx: AppContext, event_id: str) -> None:
    """The step's deadline came: warn or end, unless the agenda says nothing is due."""
    await change_agenda(ctx, event_id, rules.tick)


def _ensure_armed(ctx: AppContext, agenda: Agenda) -> None:
    # After a restart, or on a process that did not start the step: follow its clock too.
    # Should both wake up, the versioned write lets only one of them act.
    if rules.next_deadline(agenda) is not None and not ctx.timers.armed(agenda.event_id):
        arm(ctx, agenda)


def _ack(conn: Connection, msg: ClientMessage, agenda: Agenda) -> None:
    conn.offer(protocol.ack_frame(msg.ref, {"agenda": agenda_payload(agenda)}))


async def event_watch(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    # Seats may have changed since the socket opened (on another process): read them again.
    fresh = await ctx.store.participant(conn.participant.id)
    if fresh is not None:
        conn.participant = fresh
    me = conn.participant
    if me.removed:  # while this socket was opening, before it heard its person channel
        dismiss(conn)
        return
    agenda = await load_agenda(ctx.store, me.event_id)
    _ensure_armed(ctx, agenda)
    broadcasts = await recent_broadcasts(
        ctx.store, me.event_id, me.room_id, everything=me.role in STAFF_ROLES
    )
    help_ = await open_help(ctx.store, me.event_id, me.room_id) if me.room_id else []
    payload = {
        "agenda": agenda_payload(agenda),
        "participant": me.to_wire(),
        "broadcasts": [b.to_wire() for b in broadcasts],
        "help": help_[0].to_wire() if help_ else None,
        # A phone that reloads mid-vote learns how many it has left without liking first.
        "votes_left": await votes_left_now(ctx.store, me, agenda),
        # A phone that reloads during a question shows the answer it gave.
        "answer": await _my_answer(ctx, me, agenda),
    }
    # What the plenary screen shows, for the screen itself and for the online tables.
    on_screen = await shown(ctx.store, me.event_id)
    payload["spotlight"] = on_screen.spotlight.to_wire() if on_screen.spotlight else None
    payload["spotlight_version"] = on_screen.version
    conn.offer(protocol.ack_frame(msg.ref, payload))


async def _my_answer(ctx: AppContext, me: Participant, agenda: Agenda) -> int | None:
    step = agenda.current
    if step is None or not step.choices:
        return None  # no answer to read
    return await answer_of(ctx.store, me.id, step.id)


def _steps_from(agenda: Agenda, given: list[event_messages.StepIn]) -> list[Step]:
    known = {s.id for s in agenda.steps}
    steps = []
    for s in given:
        if s.id is not None and s.id not in known:
            raise ProtocolError(ErrorCode.INVALID, f"no step {s.id!r} in this agenda")
        steps.append(
            Step(
                s.id or _new_step_id(),
                s.title,
                s.prompt,
                s.mode,
                s.duration,
                s.assign,
                s.recall,
                s.topics,
                s.votes,
                tuple(s.choices),
            )
        )
    return steps


async def agenda_set(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.AgendaSet)
    check_staff(conn.participant, "change the agenda")

    def change(agenda: Agenda, now: float) -> tuple[Agenda, list[Effect]]:
        return rules.set_steps(agenda, _steps_from(agenda, p.steps)), []

    _ack(conn, msg, await change_agenda(ctx, conn.participant.event_id, change))


async def agenda_load(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.AgendaLoad)
    check_staff(conn.participant, "load a template")
    _ack(conn, msg, await load_template(ctx, conn.participant.event_id, p.template))


def template_steps(name: str, language: str = DEFAULT_LANGUAGE) -> list[Step]:
    """A template's steps with fresh ids, in the participants' language, or not_found."""
    try:
        template = load_templates().get(name)
    except TemplateError as exc:
        raise ProtocolError(ErrorCode.INTERNAL, str(exc)) from None
    if template is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no template named {name!r}")
    return template.instantiate(_new_step_id, language)


async def load_template(ctx: AppContext, event_id: str, name: str) -> Agenda:
    """Replace the agenda with a template's steps (the running step cannot be taken away),
    titled in the event's language: the participants' phones show them."""
    event = await ctx.store.event(event_id)
    steps = template_steps(name, event.language if event is not None else DEFAULT_LANGUAGE)

    def change(agenda: Agenda, now: float) -> tuple[Agenda, list[Effect]]:
        return rules.set_steps(agenda, steps), []

    return await change_agenda(ctx, event_id, change)


async def step_start(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.StepStart)
    check_staff(conn.participant, "start a step")
    event_id = conn.participant.event_id
    step = (await load_agenda(ctx.store, event_id)).step(p.step)
    if step is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such step in the agenda")
    if step.mode == "breakouts":
        # Seat people first: if they cannot be seated, the step does not start.
        strategy = STRATEGY_OF.get(step.assign)
        moves = await seat_for_step(ctx.store, event_id, step.id, strategy, random.Random())
        await apply_moves(ctx, event_id, moves)

    def change(agenda: Agenda, now: float) -> tuple[Agenda, list[Effect]]:
        return rules.start(agenda, step.id, now), []

    _ack(conn, msg, await change_agenda(ctx, event_id, change))


async def step_pause(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    check_staff(conn.participant, "pause a step")
    agenda = await change_agenda(
        ctx, conn.participant.event_id, lambda a, now: (rules.pause(a, now), [])
    )
    _ack(conn, msg, agenda)


async def step_resume(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    check_staff(conn.participant, "resume a step")
    agenda = await change_agenda(
        ctx, conn.participant.event_id, lambda a, now: (rules.resume(a, now), [])
    )
    _ack(conn, msg, agenda)


async def step_adjust(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.StepAdjust)
    check_staff(conn.participant, "change a step's time")

    def change(agenda: Agenda, now: float) -> tuple[Agenda, list[Effect]]:
        # Shortened to nothing: the end follows in the same write.
        return rules.tick(rules.adjust(agenda, p.seconds, now), now)

    _ack(conn, msg, await change_agenda(ctx, conn.participant.event_id, change))


async def step_end(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.StepEnd)
    check_staff(conn.participant, "end a step")

    def change(agenda: Agenda, now: float) -> tuple[Agenda, list[Effect]]:
        after, ended = rules.end(agenda, now, p.recall)
        return after, [ended]

    _ack(conn, msg, await change_agenda(ctx, conn.participant.event_id, change))


async def seating_set(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, event_messages.SeatingSet)
    check_staff(conn.participant, "open or close free seating")
    agenda = await change_agenda(
        ctx,
        conn.participant.event_id,
        lambda a, now: (rules.set_free_seating(a, p.free), []),
    )
    _ack(conn, msg, agenda)
