"""How one re-clustering reaches theme watchers, whichever process made it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from . import protocol
from .hub import theme_diffs_channel, theme_snapshots_channel

Heard = Callable[[str], Awaitable[bool]]
Send = Callable[[str, str], Awaitable[None]]


async def publish_update(
    event_id: str, snapshot: str, diff: str | None, heard: Heard, send: Send
) -> int:
    """Send one update: the snapshot to watchers taking snapshots, and the diff to the
    others (the snapshot when there is nothing to diff from). A channel nobody listens on
    gets nothing: a large event's snapshot is megabytes, and most consoles take diffs.
    Returns how many frames went out."""
    sent = 0
    whole: str | None = None
    snapshots, diffs = theme_snapshots_channel(event_id), theme_diffs_channel(event_id)
    if await heard(snapshots):
        whole = protocol.encode_encoded("themes.snapshot", snapshot)
        await send(snapshots, whole)
        sent += 1
    if await heard(diffs):
        if diff is not None:
            change = protocol.encode_encoded("themes.diff", diff)
        else:
            change = whole or protocol.encode_encoded("themes.snapshot", snapshot)
        await send(diffs, change)
        sent += 1
    return sent
