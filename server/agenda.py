"""An event's agenda and the clock of its current step. Pure: every change is given `now`.

The server owns the clock. Clients are told when the running step ends and count down to it
themselves; they never tell the server the time. Every change bumps `version`, which the store
uses to refuse a change made from a stale read (two facilitators clicking at once, or two server
processes whose timers fire for the same deadline), and clients use to ignore a late frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from .protocol import ErrorCode, ProtocolError

Mode = Literal["plenary", "breakouts"]
Assign = Literal["keep", "random", "balanced", "reshuffle", "self_select"]
Status = Literal["idle", "running", "paused", "ended"]

MODES: tuple[Mode, ...] = ("plenary", "breakouts")
LIVE: tuple[Status, ...] = ("running", "paused")  # a paused step is still the one being run
ASSIGNS: tuple[Assign, ...] = ("keep", "random", "balanced", "reshuffle", "self_select")
WARNING_SECONDS = 60.0
MAX_STEPS = 50
MAX_DURATION_SECONDS = 6 * 3600


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    title: str
    prompt: str = ""
    mode: Mode = "breakouts"
    duration: int = 0  # seconds; 0: no timer, the step runs until it is ended
    assign: Assign = "keep"  # what happens to the seating when the step starts
    recall: bool = True  # at its end, everyone is called back to plenary
    topics: bool = False  # participants may propose topics (open space)
    votes: int = 0  # likes each person seated at a table may give while it runs; 0: unlimited
    # Not empty: the step is a question (its prompt), answered once by each person at a table.
    choices: tuple[str, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "prompt": self.prompt,
            "mode": self.mode,
            "duration": self.duration,
            "assign": self.assign,
            "recall": self.recall,
            "topics": self.topics,
            "votes": self.votes,
            "choices": list(self.choices),
        }


@dataclass(frozen=True, slots=True)
class Clock:
    step_id: str | None = None
    status: Status = "idle"
    started_at: float | None = None
    ends_at: float | None = None  # while running with a duration
    remaining: float | None = None  # while paused with a duration
    warned: bool = False  # the one-minute warning went out (or the step was too short for one)

    @property
    def live(self) -> bool:
        return self.status in LIVE


@dataclass(frozen=True, slots=True)
class Warned:
    step_id: str
    ends_at: float


@dataclass(frozen=True, slots=True)
class Ended:
    step_id: str
    recalled: bool


Effect = Warned | Ended


@dataclass(frozen=True, slots=True)
class Agenda:
    event_id: str
    version: int = 0
    steps: tuple[Step, ...] = ()
    clock: Clock = field(default_factory=Clock)
    phase: Mode = "plenary"
    free_seating: bool = False  # participants may change table themselves

    def step(self, step_id: str | None) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def current(self) -> Step | None:
        return self.step(self.clock.step_id)

    def question_open(self, step_id: str) -> bool:
        """Whether `step_id` is a question being answered: the current step, run or paused."""
        step = self.current
        return step is not None and step.id == step_id and bool(step.choices) and self.clock.live

    @property
    def topics_open(self) -> bool:
        step = self.current
        return step is not None and step.topics and self.clock.live

    def to_wire(self, now: float) -> dict[str, Any]:
        c = self.clock
        return {
            "version": self.version,
            "steps": [s.to_wire() for s in self.steps],
            "current": {
                "step": c.step_id,
                "status": c.status,
                "started_at": iso(c.started_at),
                "ends_at": iso(c.ends_at),
                "remaining": None if c.remaining is None else round(c.remaining, 3),
                "warned": c.warned,
            },
            "phase": self.phase,
            "free_seating": self.free_seating,
            "server_time": iso(now),
        }


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _bump(agenda: Agenda, **changes: Any) -> Agenda:
    return replace(agenda, version=agenda.version + 1, **changes)


def _no_step_running() -> ProtocolError:
    return ProtocolError(ErrorCode.CONFLICT, "no step is running")


def set_steps(agenda: Agenda, steps: Sequence[Step]) -> Agenda:
    """Replace the agenda's steps; the step being run cannot be taken away."""
    if len(steps) > MAX_STEPS:
        raise ProtocolError(ErrorCode.INVALID, f"an agenda has at most {MAX_STEPS} steps")
    ids = [s.id for s in steps]
    if len(set(ids)) != len(ids):
        raise ProtocolError(ErrorCode.INVALID, "two steps have the same id")
    clock = agenda.clock
    if clock.step_id is not None and clock.step_id not in ids:
        if clock.live:
            raise ProtocolError(ErrorCode.CONFLICT, "end the running step before removing it")
        clock = Clock()
    live = agenda.current if clock.live else None
    for step in steps:
        # Answers given to other choices would be counted under the new ones (and a step
        # made a question while it runs would open it without the start everyone saw).
        if live is not None and step.id == live.id and step.choices != live.choices:
            raise ProtocolError(
                ErrorCode.CONFLICT,
                "the question is open: end the step before changing its choices",
            )
    return _bump(agenda, steps=tuple(steps), clock=clock)


def start(agenda: Agenda, step_id: str, now: float) -> Agenda:
    """Run a step from its start (again, if it ran before); whatever ran stops."""
    step = agenda.step(step_id)
    if step is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, "no such step in the agenda")
    ends_at = now + step.duration if step.duration else None
    clock = Clock(
        step_id=step.id,
        status="running",
        started_at=now,
        ends_at=ends_at,
        # A step shorter than the warning gets none: its whole length is the last minute.
        warned=not step.duration or step.duration <= WARNING_SECONDS,
    )
    return _bump(agenda, clock=clock, phase=step.mode, free_seating=step.assign == "self_select")


def pause(agenda: Agenda, now: float) -> Agenda:
    c = agenda.clock
    if c.status != "running":
        raise _no_step_running()
    remaining = None if c.ends_at is None else max(0.0, c.ends_at - now)
    return _bump(agenda, clock=replace(c, status="paused", ends_at=None, remaining=remaining))


def resume(agenda: Agenda, now: float) -> Agenda:
    c = agenda.clock
    if c.status != "paused":
        raise ProtocolError(ErrorCode.CONFLICT, "no step is paused")
    ends_at = None if c.remaining is None else now + c.remaining
    return _bump(agenda, clock=replace(c, status="running", ends_at=ends_at, remaining=None))


def adjust(agenda: Agenda, seconds: int, now: float) -> Agenda:
    """Extend (seconds > 0) or shorten the running or paused step; never below zero left."""
    c = agenda.clock
    if not c.live:
        raise _no_step_running()
    if c.ends_at is None and c.remaining is None:
        raise ProtocolError(ErrorCode.CONFLICT, "this step has no timer")
    if c.status == "running" and c.ends_at is not None:
        ends_at: float | None = max(now, c.ends_at + seconds)
        remaining = None
        left = (ends_at or now) - now
    else:
        ends_at = None
        remaining = max(0.0, (c.remaining or 0.0) + seconds)
        left = remaining
    # Extended past the last minute: the warning is due again when that minute comes.
    warned = c.warned and left <= WARNING_SECONDS
    return _bump(agenda, clock=replace(c, ends_at=ends_at, remaining=remaining, warned=warned))


def end(agenda: Agenda, now: float, recall: bool | None = None) -> tuple[Agenda, Ended]:
    """Stop the current step now; `recall` overrides what the step is configured to do."""
    c = agenda.clock
    step = agenda.current
    if not c.live or step is None:
        raise _no_step_running()
    recalled = step.recall if recall is None else recall
    clock = replace(c, status="ended", ends_at=None, remaining=None, warned=True)
    after = _bump(
        agenda,
        clock=clock,
        phase="plenary" if recalled else agenda.phase,
        free_seating=False if recalled else agenda.free_seating,
    )
    return after, Ended(step.id, recalled)


def tick(agenda: Agenda, now: float) -> tuple[Agenda, list[Effect]]:
    """What the clock does by itself at `now`: the one-minute warning, then the end."""
    c = agenda.clock
    if c.status != "running" or c.ends_at is None:
        return agenda, []
    if now >= c.ends_at:
        after, ended = end(agenda, now)
        return after, [ended]
    if not c.warned and c.ends_at - now <= WARNING_SECONDS and c.step_id is not None:
        return _bump(agenda, clock=replace(c, warned=True)), [Warned(c.step_id, c.ends_at)]
    return agenda, []


def next_deadline(agenda: Agenda) -> float | None:
    """When `tick` will next have something to do, or None while nothing is due."""
    c = agenda.clock
    if c.status != "running" or c.ends_at is None:
        return None
    return c.ends_at if c.warned else c.ends_at - WARNING_SECONDS


def set_free_seating(agenda: Agenda, free: bool) -> Agenda:
    if agenda.free_seating == free:
        return agenda
    return _bump(agenda, free_seating=free)


def next_step(agenda: Agenda) -> Step | None:
    """The step after the current one (the first when none ran yet)."""
    if agenda.clock.step_id is None:
        return agenda.steps[0] if agenda.steps else None
    ids = [s.id for s in agenda.steps]
    try:
        i = ids.index(agenda.clock.step_id)
    except ValueError:
        return None
    return agenda.steps[i + 1] if i + 1 < len(agenda.steps) else None
