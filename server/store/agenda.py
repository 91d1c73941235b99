"""Reading and writing an event's agenda and step clock.

A change is written only if the stored version is still the one it was computed from; the
caller reads again and retries otherwise. That makes two facilitators clicking at once, or two
server processes whose timers fire for the same deadline, safe: exactly one change lands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..agenda import Agenda, Assign, Clock, Mode, Status, Step
from .models import AgendaRow, AgendaStepRow, AnswerRow
from .repo import Store
from .rows import as_utc


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else as_utc(moment).timestamp()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _step(row: AgendaStepRow) -> Step:
    return Step(
        id=row.id,
        title=row.title,
        prompt=row.prompt,
        mode=cast(Mode, row.mode),
        duration=row.duration,
        assign=cast(Assign, row.assign),
        recall=row.recall,
        topics=row.topics,
        votes=row.votes,
        choices=tuple(row.choices or ()),
    )


async def _load(s: AsyncSession, event_id: str) -> Agenda:
    steps = tuple(
        _step(r)
        for r in await s.scalars(
            select(AgendaStepRow)
            .where(AgendaStepRow.event_id == event_id)
            .order_by(AgendaStepRow.position)
        )
    )
    row = await s.get(AgendaRow, event_id)
    if row is None:
        return Agenda(event_id, 0, steps)
    clock = Clock(
        step_id=row.step_id,
        status=cast(Status, row.status),
        started_at=_ts(row.started_at),
        ends_at=_ts(row.ends_at),
        remaining=row.remaining,
        warned=row.warned,
    )
    return Agenda(
        event_id, row.version, steps, clock, cast(Mode, row.phase), bool(row.free_seating)
    )


async def load_agenda(store: Store, event_id: str) -> Agenda:
    async with store.session() as s:
        return await _load(s, event_id)


async def held_agenda(s: AsyncSession, event_id: str) -> Agenda:
    """The agenda read in a write that depends on its clock: on PostgreSQL no change of it
    commits before this transaction ends, and it reads the latest change committed."""
    await s.execute(
        select(AgendaRow.event_id).where(AgendaRow.event_id == event_id).with_for_update(read=True)
    )
    return await _load(s, event_id)


def _clock_values(agenda: Agenda) -> dict[str, Any]:
    c = agenda.clock
    return {
        "version": agenda.version,
        "step_id": c.step_id,
        "status": c.status,
        "started_at": _dt(c.started_at),
        "ends_at": _dt(c.ends_at),
        "remaining": c.remaining,
        "warned": c.warned,
        "phase": agenda.phase,
        "free_seating": agenda.free_seating,
    }


async def save_agenda(store: Store, before: Agenda, after: Agenda) -> bool:
    """Write `after` if the stored agenda is still `before`; False when it changed meanwhile."""
    if after.version == before.version:
        return True
    try:
        async with store.write() as s:
            if before.version == 0:
                s.add(AgendaRow(event_id=after.event_id, **_clock_values(after)))
                await s.flush()
            else:
                result = await s.execute(
                    update(AgendaRow)
                    .where(
                        AgendaRow.event_id == after.event_id,
                        AgendaRow.version == before.version,
                    )
                    .values(**_clock_values(after))
                )
                if getattr(result, "rowcount", 0) != 1:
                    return False
            if after.steps != before.steps:
                await _write_steps(s, after)
    except IntegrityError:
        return False  # another writer created the agenda first
    return True


async def _write_steps(s: AsyncSession, agenda: Agenda) -> None:
    keep = [step.id for step in agenda.steps]
    # A step's answers go with it (the foreign key cascades, on SQLite too: see engine).
    await s.execute(
        delete(AgendaStepRow).where(
            AgendaStepRow.event_id == agenda.event_id, AgendaStepRow.id.not_in(keep)
        )
    )
    existing = {
        r.id: r
        for r in await s.scalars(
            select(AgendaStepRow).where(AgendaStepRow.event_id == agenda.event_id)
        )
    }
    for position, step in enumerate(agenda.steps):
        values = {
            "position": position,
            "title": step.title,
            "prompt": step.prompt,
            "mode": step.mode,
            "duration": step.duration,
            "assign": step.assign,
            "recall": step.recall,
            "topics": step.topics,
            "votes": step.votes,
            "choices": list(step.choices),
        }
        row = existing.get(step.id)
        if row is None:
            s.add(AgendaStepRow(id=step.id, event_id=agenda.event_id, **values))
        else:
            if list(row.choices or ()) != list(step.choices):
                # Given to other choices: they would be counted under the new ones.
                await s.execute(delete(AnswerRow).where(AnswerRow.step_id == step.id))
            for key, value in values.items():
                setattr(row, key, value)
