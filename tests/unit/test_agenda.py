"""The step clock against a fake clock: start, warn, pause, extend, shorten, end and recall."""

from __future__ import annotations

import asyncio

import pytest

from server import agenda as rules
from server.agenda import WARNING_SECONDS, Agenda, Ended, Step, Warned
from server.protocol import ErrorCode, ProtocolError
from server.step_timers import Fire, StepTimers

T0 = 1_000_000.0
ROUND = Step("s2", "Round 1", "What matters?", "breakouts", 600, "balanced", recall=True)
STEPS = (
    Step("s1", "Welcome", "", "plenary", 300),
    ROUND,
    Step("s3", "Round 2", "", "breakouts", 600, "reshuffle", recall=False),
    Step("s4", "Open", "", "breakouts", 0, "self_select", topics=True),
)


def agenda() -> Agenda:
    return rules.set_steps(Agenda("e1"), STEPS)


def code_of(call: object) -> str:
    with pytest.raises(ProtocolError) as info:
        call()  # type: ignore[operator]
    return info.value.code


def test_a_started_step_ends_at_its_duration_with_a_warning_a_minute_before() -> None:
    a = rules.start(agenda(), "s2", T0)
    assert a.clock.status == "running" and a.phase == "breakouts"
    assert a.clock.ends_at == T0 + 600
    assert rules.next_deadline(a) == T0 + 600 - WARNING_SECONDS
    assert rules.tick(a, T0 + 100) == (a, [])
    warned, effects = rules.tick(a, T0 + 541)
    assert effects == [Warned("s2", T0 + 600)]
    assert warned.clock.warned and warned.version == a.version + 1
    assert rules.next_deadline(warned) == T0 + 600
    assert rules.tick(warned, T0 + 560) == (warned, [])  # warned once only
    ended, effects = rules.tick(warned, T0 + 600)
    assert effects == [Ended("s2", recalled=True)]
    assert ended.clock.status == "ended" and ended.phase == "plenary"
    assert rules.next_deadline(ended) is None


def test_pause_keeps_the_time_left_and_resume_restarts_from_it() -> None:
    a = rules.start(agenda(), "s2", T0)
    paused = rules.pause(a, T0 + 200)
    assert paused.clock.status == "paused" and paused.clock.remaining == 400
    assert rules.next_deadline(paused) is None
    assert rules.tick(paused, T0 + 5000) == (paused, [])  # a paused clock never ends
    resumed = rules.resume(paused, T0 + 1000)
    assert resumed.clock.ends_at == T0 + 1400
    assert code_of(lambda: rules.resume(resumed, T0)) == ErrorCode.CONFLICT
    assert code_of(lambda: rules.pause(paused, T0)) == ErrorCode.CONFLICT


def test_extend_and_shorten_move_the_end_and_re_arm_the_warning() -> None:
    a = rules.start(agenda(), "s2", T0)
    warned, _ = rules.tick(a, T0 + 545)
    longer = rules.adjust(warned, 300, T0 + 550)
    assert longer.clock.ends_at == T0 + 900 and not longer.clock.warned
    assert rules.tick(longer, T0 + 841)[1] == [Warned("s2", T0 + 900)]
    shorter = rules.adjust(longer, -850, T0 + 560)
    assert shorter.clock.ends_at == T0 + 560  # never before now
    assert rules.tick(shorter, T0 + 560)[1] == [Ended("s2", True)]
    paused = rules.adjust(rules.pause(a, T0 + 100), 60, T0 + 120)
    assert paused.clock.remaining == 560
    assert code_of(lambda: rules.adjust(rules.start(agenda(), "s4", T0), 60, T0)) == "conflict"
    assert code_of(lambda: rules.adjust(agenda(), 60, T0)) == ErrorCode.CONFLICT


def test_ending_recalls_to_plenary_unless_configured_or_told_not_to() -> None:
    a = rules.start(agenda(), "s3", T0)
    stay, ended = rules.end(a, T0 + 10)
    assert ended == Ended("s3", recalled=False) and stay.phase == "breakouts"
    back, ended = rules.end(a, T0 + 10, recall=True)
    assert ended.recalled and back.phase == "plenary"
    assert code_of(lambda: rules.end(back, T0 + 20)) == ErrorCode.CONFLICT


def test_steps_set_free_seating_and_topics() -> None:
    a = rules.start(agenda(), "s4", T0)
    assert a.free_seating and a.topics_open and rules.next_deadline(a) is None
    assert not rules.start(a, "s2", T0).free_seating
    assert rules.set_free_seating(a, True) is a
    assert rules.next_step(agenda()) == STEPS[0]
    assert rules.next_step(rules.start(agenda(), "s2", T0)) == STEPS[2]


def test_the_running_step_cannot_be_removed_but_the_others_can() -> None:
    a = rules.start(agenda(), "s2", T0)
    assert code_of(lambda: rules.set_steps(a, STEPS[:1])) == ErrorCode.CONFLICT
    kept = rules.set_steps(a, (ROUND,))
    assert kept.clock.step_id == "s2"
    ended, _ = rules.end(a, T0)
    assert rules.set_steps(ended, STEPS[:1]).clock.status == "idle"
    assert code_of(lambda: rules.set_steps(a, (ROUND, ROUND))) == ErrorCode.INVALID
    assert code_of(lambda: rules.start(a, "nope", T0)) == ErrorCode.NOT_FOUND


def test_a_step_under_a_minute_gets_no_warning() -> None:
    a = rules.set_steps(Agenda("e1"), (Step("q", "Quick", duration=30),))
    started = rules.start(a, "q", T0)
    assert rules.next_deadline(started) == T0 + 30
    assert rules.tick(started, T0 + 30)[1] == [Ended("q", True)]


def test_the_wire_form_carries_iso_times_and_the_server_time() -> None:
    wire = rules.start(agenda(), "s2", T0).to_wire(T0 + 1)
    assert wire["current"]["ends_at"] == "1970-01-12T13:56:40.000Z"
    assert wire["server_time"] == "1970-01-12T13:46:41.000Z"
    assert [s["id"] for s in wire["steps"]] == ["s1", "s2", "s3", "s4"]


def test_a_steps_vote_budget_goes_on_the_wire_and_survives_agenda_changes() -> None:
    vote = Step("s5", "Prioritise", "Give your three dots", "breakouts", 600, votes=3)
    a = rules.set_steps(agenda(), (*STEPS, vote))
    wire = rules.start(a, "s5", T0).to_wire(T0)
    assert [s["votes"] for s in wire["steps"]] == [0, 0, 0, 0, 3]
    assert wire["steps"][4] == {
        "id": "s5",
        "title": "Prioritise",
        "prompt": "Give your three dots",
        "mode": "breakouts",
        "duration": 600,
        "assign": "keep",
        "recall": True,
        "topics": False,
        "votes": 3,
        "choices": [],
    }
    reordered = rules.set_steps(a, (vote, *STEPS))
    assert reordered.steps[0].votes == 3 and reordered.step("s1") == STEPS[0]


async def test_timers_fire_at_their_time_and_rearming_replaces_them() -> None:
    now = [T0]
    timers = StepTimers(clock=lambda: now[0])
    fired: list[str] = []

    def fire(name: str) -> Fire:
        async def go() -> None:
            fired.append(name)

        return go

    timers.arm("e1", T0 + 0.05, fire("first"))
    timers.arm("e1", T0 + 0.01, fire("second"))  # replaces the first
    timers.arm("e2", None, fire("never"))
    assert timers.armed("e1") and not timers.armed("e2")
    await asyncio.sleep(0.1)
    assert fired == ["second"]
    assert not timers.armed("e1")
    timers.arm("e1", T0 + 10, fire("late"))
    await timers.close()
    assert fired == ["second"]
