"""Facilitators steering themes, and each new note placed in a theme as it arrives.

Steering handlers check the sender is staff, turn the request into an `nlp.steering.Edit`,
store it and ask for a re-clustering, which obeys every stored edit. The edit is
acknowledged once stored; the themes that show it follow within the debounce delay.

`after_post` runs after a note's `ack` went out: it hands the note to the placement batcher
(`server/placement.py`), which puts it in a theme (`themes.assigned` to theme watchers)
and, when the wall already holds a near twin, offers it to the author (`note.similar`),
who may "+1" it instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from nlp.identity import fresh_id
from nlp.steering import UNTHEMED, Edit

from . import protocol, theme_messages
from .context import AppContext
from .hub import Connection
from .protocol import ClientMessage, ErrorCode, ProtocolError
from .rooms import Note, check_staff
from .spotlight_handlers import theme_hidden, theme_renamed

Handler = Callable[[AppContext, Connection, ClientMessage], Awaitable[None]]


async def _latest(ctx: AppContext, event_id: str) -> dict[str, Any]:
    return await ctx.latest_themes(event_id) or {}


def _theme(latest: dict[str, Any], theme_id: str) -> dict[str, Any]:
    for theme in latest.get("themes", ()):
        if theme.get("id") == theme_id:
            return dict(theme)
    raise ProtocolError(ErrorCode.NOT_FOUND, f"no theme {theme_id!r} in the latest themes")


async def _store(ctx: AppContext, conn: Connection, msg: ClientMessage, edit: Edit) -> None:
    event_id = conn.participant.event_id
    edit_id = await ctx.store.themes.add_edit(event_id, edit, conn.participant.id)
    conn.offer(protocol.ack_frame(msg.ref, {"edit": edit_id}))
    ctx.note_changed(event_id)


async def themes_rename(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, theme_messages.ThemeRename)
    check_staff(conn.participant, "rename a theme")
    event_id = conn.participant.event_id
    _theme(await _latest(ctx, event_id), p.theme)
    await _store(ctx, conn, msg, Edit("rename", theme_id=p.theme, label=p.label))
    await theme_renamed(ctx, event_id, p.theme, p.label)


async def themes_merge(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, theme_messages.ThemeMerge)
    check_staff(conn.participant, "merge themes")
    latest = await _latest(ctx, conn.participant.event_id)
    notes = [*_theme(latest, p.theme)["note_ids"], *_theme(latest, p.into)["note_ids"]]
    edit = Edit("merge", theme_id=p.into, other_id=p.theme, note_ids=tuple(notes))
    await _store(ctx, conn, msg, edit)


async def themes_split(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, theme_messages.ThemeRef)
    check_staff(conn.participant, "split a theme")
    event_id = conn.participant.event_id
    note_ids = [str(n) for n in _theme(await _latest(ctx, event_id), p.theme)["note_ids"]]
    if len(note_ids) < 2:
        raise ProtocolError(ErrorCode.INVALID, "a theme of one note cannot be split")
    parts = await ctx.worker.split(event_id, note_ids) if ctx.worker is not None else None
    if parts is None:
        parts = await _split_by_words(ctx, event_id, note_ids)
    named = tuple((fresh_id([p.theme, *part]), tuple(part)) for part in parts if part)
    await _store(ctx, conn, msg, Edit("split", theme_id=p.theme, parts=named))


async def _split_by_words(
    ctx: AppContext, event_id: str, note_ids: Sequence[str]
) -> list[list[str]]:
    """Without this process's theme worker (themes made by `tablee worker`), split on words."""
    from nlp.embed import HashingEmbedder
    from nlp.incremental import split_groups

    texts = {n.id: n.text for n in await ctx.store.themes.notes(event_id)}
    known = [n for n in note_ids if n in texts]
    vectors = HashingEmbedder().embed([texts[n] for n in known])
    labels = await asyncio.to_thread(split_groups, vectors)
    parts = [[n for n, k in zip(known, labels.tolist(), strict=True) if k == g] for g in (0, 1)]
    return [part for part in sorted(parts, key=len, reverse=True) if part]


async def _theme_note(
    ctx: AppContext, conn: Connection, msg: ClientMessage, kind: str, what: str
) -> None:
    p = msg.payload
    assert isinstance(p, theme_messages.ThemeNote)
    check_staff(conn.participant, what)
    note = await ctx.store.note(str(p.note))
    if note is None or (await ctx.room(note.room_id)) is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such note")
    room = await ctx.room(note.room_id)
    if room is None or room.event_id != conn.participant.event_id:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such note in this event")
    if p.theme is not None:
        _theme(await _latest(ctx, conn.participant.event_id), p.theme)
    target = UNTHEMED if p.theme is None else p.theme
    await _store(ctx, conn, msg, Edit(kind, theme_id=target, note_ids=(str(p.note),)))


async def themes_move(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    await _theme_note(ctx, conn, msg, "move", "move a note between themes")


async def themes_pin(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    await _theme_note(ctx, conn, msg, "pin", "pin a note to a theme")


async def themes_hide(ctx: AppContext, conn: Connection, msg: ClientMessage) -> None:
    p = msg.payload
    assert isinstance(p, theme_messages.ThemeHide)
    check_staff(conn.participant, "hide a theme")
    event_id = conn.participant.event_id
    _theme(await _latest(ctx, event_id), p.theme)
    await _store(ctx, conn, msg, Edit("hide" if p.hidden else "show", theme_id=p.theme))
    if p.hidden:
        await theme_hidden(ctx, event_id, p.theme)


THEME_HANDLERS: dict[str, Handler] = {
    "themes.rename": themes_rename,
    "themes.merge": themes_merge,
    "themes.split": themes_split,
    "themes.move": themes_move,
    "themes.pin": themes_pin,
    "themes.hide": themes_hide,
}


def after_post(ctx: AppContext, conn: Connection, event_id: str, note: Note) -> None:
    """Place a just-acknowledged note in a theme, off the post's own path."""
    if ctx.placements is not None:
        ctx.placements.add(conn, event_id, note)
