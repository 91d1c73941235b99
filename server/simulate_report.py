"""What one `tablee simulate` run measured, and how it reads for a person."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50: float
    p95: float
    p99: float


@dataclass(frozen=True, slots=True)
class Reclustering:
    """One themes snapshot the facilitator received: a full re-clustering of the event."""

    version: int
    notes: int
    seconds: float | None  # the worker's own time for the run, as the snapshot says
    received: float  # seconds after the run's first post (negative: before it)


@dataclass(slots=True)
class SimulateReport:
    join_code: str
    participants: int
    rooms: int
    sent: int
    acked: int
    errors: dict[str, int]
    ack_ms: Percentiles | None
    delivery_ms: Percentiles | None
    deliveries: int
    missing_deliveries: int
    out_of_order: int
    duplicates: int
    retries: int
    reconnects: int
    room_resets: int
    disconnects: dict[str, int]
    post_seconds: float | None  # first post to last ack
    themes_seconds: float | None  # last ack to the first snapshot covering every acked note
    themes_seconds_from_first_post: float | None
    themes_covered: int  # acked notes present in the latest snapshot
    n_themes: int
    labels: list[str]
    theme_worker: bool = True  # False when the server said it runs none
    # Post to the note's first appearance on the facilitator's board: its `themes.assigned`,
    # or the first snapshot holding it when that came sooner.
    board_ms: Percentiles | None = None
    board_placed: int = 0  # acked notes that reached the board
    board_unplaced: int = 0  # acked notes that never did
    board_by_snapshot: int = 0  # of the placed, how many a snapshot showed before any assignment
    reclusterings: list[Reclustering] = field(default_factory=list)
    preloaded: int = 0  # notes posted before the measured stream, not counted above
    preload_seconds: float | None = None  # first preload post until themes covered them all
    protocol_mismatches: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        return (
            not self.interrupted
            and self.acked == self.sent
            and self.missing_deliveries == 0
            and self.out_of_order == 0
            and (self.themes_seconds is not None or not self.theme_worker)
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def percentiles(samples: Sequence[float]) -> Percentiles | None:
    if not samples:
        return None
    ordered = sorted(samples)

    def at(q: float) -> float:
        pos = q * (len(ordered) - 1)
        low = math.floor(pos)
        high = min(low + 1, len(ordered) - 1)
        return round(ordered[low] + (ordered[high] - ordered[low]) * (pos - low), 2)

    return Percentiles(at(0.50), at(0.95), at(0.99))


def span(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max(0.0, end - start), 3)


def format_report(report: SimulateReport) -> str:
    def ms(p: Percentiles | None) -> str:
        return (
            "no samples"
            if p is None
            else f"p50 {p.p50:.1f} ms  p95 {p.p95:.1f} ms  p99 {p.p99:.1f} ms"
        )

    errors = ", ".join(f"{code} {n}" for code, n in sorted(report.errors.items())) or "no errors"
    lines = [
        f"Tablée simulation, event {report.join_code}"
        + (" (interrupted: partial figures)" if report.interrupted else ""),
        f"  participants  {report.participants} in {report.rooms} rooms",
    ]
    if report.preloaded:
        themed = (
            f"themes covered them {report.preload_seconds:.1f} s after the first"
            if report.preload_seconds is not None
            else "themes never covered them all"
        )
        lines.append(f"  preloaded     {report.preloaded} notes before measuring; {themed}")
    lines.append(
        f"  notes         {report.acked}/{report.sent} acknowledged; {errors}"
        + (f"; {report.retries} retries" if report.retries else "")
    )
    if report.post_seconds:
        lines.append(
            f"  posting       {report.post_seconds:.1f} s "
            f"({report.acked / report.post_seconds:.1f} notes/s achieved)"
        )
    lines += [
        f"  post → ack    {ms(report.ack_ms)}",
        f"  delivery      {ms(report.delivery_ms)}",
        f"                {report.deliveries} deliveries, {report.missing_deliveries} missing, "
        f"{report.out_of_order} out of order, {report.duplicates} duplicates, "
        f"{report.reconnects} reconnects, {report.room_resets} room resets",
    ]
    if report.disconnects:
        causes = ", ".join(f"{n}× {cause}" for cause, n in report.disconnects.items())
        lines.append(f"  closed by     {causes}")
    if not report.theme_worker:
        lines.append("  themes        none: the server runs no theme worker")
        lines += [f"  mismatch      {m}" for m in report.protocol_mismatches]
        return "\n".join(lines)
    lines.append(
        f"  post → board  {ms(report.board_ms)}"
        if report.board_placed
        else "  post → board  no note reached the facilitator's board"
    )
    lines.append(
        f"                {report.board_placed} placed ({report.board_by_snapshot} first by a "
        f"snapshot), {report.board_unplaced} never placed"
    )
    if report.themes_seconds is not None:
        lines.append(
            f"  themes        cover all notes {report.themes_seconds:.1f} s after the last ack "
            f"({report.themes_seconds_from_first_post:.1f} s after the first post)"
        )
    else:
        lines.append(
            f"  themes        did not cover every note ({report.themes_covered}/{report.acked})"
        )
    runs = [r for r in report.reclusterings if r.seconds is not None and r.received >= 0]
    if runs:
        longest = max(runs, key=lambda r: r.seconds or 0.0)
        lines.append(
            f"  re-clustering {len(runs)} run{'' if len(runs) == 1 else 's'} while posting; "
            f"longest {longest.seconds:.1f} s "
            f"({longest.notes} notes)"
        )
    if report.labels:
        lines.append(f"                {report.n_themes} themes: " + "; ".join(report.labels))
    lines += [f"  mismatch      {m}" for m in report.protocol_mismatches]
    return "\n".join(lines)
