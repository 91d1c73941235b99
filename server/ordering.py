"""Puts a room's diff frames back in sequence order. Pure.

Fan-out may reorder or lose frames (two commits racing to publish, a lossy broker); the
database has them all. A sequencer delivers frames strictly in order, holds early ones, and
says which range is missing so the caller can fetch it from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RoomSequencer:
    head: int  # the last seq delivered
    epoch: str
    _held: dict[int, str] = field(default_factory=dict)

    def accept(self, seq: int, epoch: str, frame: str) -> list[tuple[int, str]]:
        """(seq, frame) pairs now deliverable, in order; duplicates and stale ones dropped."""
        if epoch != self.epoch or seq <= self.head:
            return []
        self._held[seq] = frame
        out: list[tuple[int, str]] = []
        while self.head + 1 in self._held:
            self.head += 1
            out.append((self.head, self._held.pop(self.head)))
        return out

    def missing(self) -> tuple[int, int] | None:
        """(after, upto): the frames after `after` up to `upto` have not arrived yet."""
        if not self._held:
            return None
        return self.head, min(self._held) - 1

    def reset(self, head: int, epoch: str) -> None:
        self.head = head
        self.epoch = epoch
        self._held.clear()
