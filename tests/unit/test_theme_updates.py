"""Which frames one theme update becomes, by who listens."""

from __future__ import annotations

import json

import pytest

from server.hub import theme_diffs_channel, theme_snapshots_channel
from server.theme_updates import publish_update

SNAPSHOT = '{"version": 4, "themes": []}'
DIFF = '{"version": 4, "base": 3}'


async def _sent(listening: set[str], diff: str | None) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}

    async def heard(channel: str) -> bool:
        return channel in listening

    async def send(channel: str, frame: str) -> None:
        assert channel not in out, "one frame per channel"
        out[channel] = json.loads(frame)

    count = await publish_update("e1", SNAPSHOT, diff, heard, send)
    assert count == len(out)
    return out


SNAPSHOTS, DIFFS = theme_snapshots_channel("e1"), theme_diffs_channel("e1")


@pytest.mark.parametrize(
    ("listening", "diff", "expected"),
    [
        ({SNAPSHOTS, DIFFS}, DIFF, {SNAPSHOTS: "themes.snapshot", DIFFS: "themes.diff"}),
        ({DIFFS}, DIFF, {DIFFS: "themes.diff"}),
        ({DIFFS}, None, {DIFFS: "themes.snapshot"}),
        ({SNAPSHOTS}, DIFF, {SNAPSHOTS: "themes.snapshot"}),
        (set(), DIFF, {}),
    ],
)
async def test_each_channel_gets_its_frame_only_when_heard(
    listening: set[str], diff: str | None, expected: dict[str, str]
) -> None:
    sent = await _sent(listening, diff)
    assert {channel: frame["type"] for channel, frame in sent.items()} == expected
    for frame in sent.values():
        body = SNAPSHOT if frame["type"] == "themes.snapshot" else DIFF
        assert frame["payload"] == json.loads(body)
