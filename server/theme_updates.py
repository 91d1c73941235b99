"""How one re-clustering reaches theme watchers, whichever process made it."""

from __future__ import annotations

from . import protocol
from .hub import theme_diffs_channel, theme_snapshots_channel


def update_frames(event_id: str, snapshot: str, diff: str | None) -> list[tuple[str, str]]:
    """(channel, frame) for one update: the snapshot for watchers taking snapshots, and the
    diff for the others, or the snapshot when there is nothing to diff from."""
    whole = protocol.encode_encoded("themes.snapshot", snapshot)
    change = whole if diff is None else protocol.encode_encoded("themes.diff", diff)
    return [(theme_snapshots_channel(event_id), whole), (theme_diffs_channel(event_id), change)]
