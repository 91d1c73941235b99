"""Following an event's themes as a facilitator's console does: snapshots, diffs, and waiting
for the themes to account for given notes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from nlp import theme_diff
from tests.client import Client


class ThemeFollower:
    """Watches with `diffs`, applies each `themes.diff` to the snapshot held, and asks for
    a snapshot again when a diff does not apply, as the web client does."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.held: dict[str, Any] | None = None
        self.snapshots = 0
        self.diffs = 0
        self.bytes = 0
        self.resyncs = 0

    async def watch(self) -> dict[str, Any]:
        return await self.client.request("themes.watch", {"diffs": True})

    async def step(self, timeout: float) -> None:
        frame = await self.client.next(timeout=timeout)
        kind, payload = frame["type"], frame["payload"]
        if kind == "themes.snapshot":
            self.snapshots += 1
            self.held = payload
        elif kind == "themes.diff":
            self.diffs += 1
            self.bytes += len(str(payload))
            try:
                if self.held is None:
                    raise theme_diff.DiffMismatch("no snapshot yet")
                self.held = theme_diff.apply(self.held, payload)
            except theme_diff.DiffMismatch:
                self.resyncs += 1
                await self.watch()

    async def until(self, version: int, timeout: float = 30) -> dict[str, Any]:
        """The themes once the held version reaches `version`."""
        async with asyncio.timeout(timeout):
            while self.held is None or self.held["version"] < version:
                await self.step(timeout)
        assert self.held is not None
        return self.held


def normalised(payload: dict[str, Any]) -> dict[str, Any]:
    """A snapshot with each theme's notes sorted (their order carries no meaning), as JSON
    would carry it."""
    themes = [{**t, "note_ids": sorted(t["note_ids"])} for t in payload["themes"]]
    decoded: dict[str, Any] = json.loads(json.dumps({**payload, "themes": themes}))
    return decoded


def covered(snapshot: dict[str, Any], ids: set[str]) -> bool:
    """Whether a themes snapshot accounts for every note of `ids`, themed or not."""
    seen = {n for t in snapshot["themes"] for n in t["note_ids"]}
    seen |= {u["id"] for u in snapshot["unthemed"]}
    return ids <= seen


async def until_covered(fac: Client, ids: set[str], timeout: float = 30) -> dict[str, Any]:
    """The first themes snapshot `fac` receives that accounts for every note of `ids`."""
    async with asyncio.timeout(timeout):
        while True:
            snap: dict[str, Any] = (await fac.next("themes.snapshot", timeout=timeout))["payload"]
            if covered(snap, ids):
                return snap
