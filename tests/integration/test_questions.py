"""Question steps: answers and tallies over the real wire, the result when a question closes
(by hand, by another step, by its timer, on two server processes), one answer per person
under concurrency on SQLite and PostgreSQL, and the migration down and up."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from server import agenda as rules
from server.agenda import Agenda, Step
from server.migrate import alembic_config, upgrade_async
from server.protocol import ProtocolError
from server.rooms import Participant, Room
from server.store import Store
from server.store.agenda import load_agenda, save_agenda
from server.store.answers import answer_of, read_tally, set_answer
from server.store.models import AnswerRow, Base, ParticipantRow
from server.store.removal import remove_participant
from tests.client import Session, create_event, join
from tests.conftest import LiveServer
from tests.event_client import Attendee, seat

WAIT = 20.0  # seconds; two cores shared with other work
CHOICES = ["Very", "A little", "Not at all"]


# over the wire ---------------------------------------------------------------------------


async def _answer(who: Attendee, step: str, choice: Any) -> dict[str, Any]:
    return await who.request("answer.set", {"step": step, "choice": choice})


def _code(reply: dict[str, Any]) -> str:
    assert reply["type"] == "error", reply
    return str(reply["payload"]["code"])


async def _tally(who: Attendee, step: str) -> dict[str, Any]:
    reply = await who.request("answers.tally", {"step": step})
    assert reply["type"] == "ack", reply
    assert set(reply["payload"]) == {"tally"}
    return dict(reply["payload"]["tally"])


async def _watched_answer(who: Attendee) -> Any:
    reply = await who.request("event.watch", {})
    assert reply["type"] == "ack", reply
    return reply["payload"]["answer"]


async def _updated(who: Attendee, answered: int) -> dict[str, Any]:
    """The console's `answers.updated` once it counts `answered` (earlier ones are skipped)."""
    while True:
        frame = await who.until("answers.updated", WAIT)
        if frame["payload"]["answered"] == answered:
            return dict(frame["payload"])


async def _closing(who: Attendee, step: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `agenda.state` that closed `step`'s question, then the result that followed it."""
    while True:
        frame = await who.until("agenda.state", WAIT)
        if frame["payload"]["current"]["step"] != step or frame["payload"]["current"][
            "status"
        ] not in ("running", "paused"):
            break
    result = await who.until("answers.updated", WAIT)
    return frame, dict(result["payload"])


def _results(who: Attendee, step: str) -> list[dict[str, Any]]:
    """The closing results for `step` this socket was sent."""
    return [
        f["payload"]
        for f in who.frames
        if f["type"] == "answers.updated" and f["payload"]["step"] == step
    ]


async def _event(
    server: LiveServer, steps: list[dict[str, Any]], rooms: int = 2
) -> tuple[Session, list[str], list[str]]:
    fac_session = await create_event(server.url, "Assembly", rooms=rooms)
    fac = await Attendee.open(server.ws_url, fac_session, join_room=False)
    try:
        reply = await fac.request("agenda.set", {"steps": steps})
        assert reply["type"] == "ack", reply
        ids = [s["id"] for s in reply["payload"]["agenda"]["steps"]]
    finally:
        await fac.close()
    return fac_session, [r["id"] for r in fac_session.rooms], ids


async def test_people_at_the_tables_answer_an_open_question_and_see_the_result_at_its_close(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Assembly", rooms=2)
    code = fac_session.event["join_code"]
    t1, t2 = (r["id"] for r in fac_session.rooms)
    fac = await Attendee.open(ws, fac_session, join_room=False)
    assert (await fac.request("console.watch", {}))["type"] == "ack"
    ana = await Attendee.open(ws, await seat(url, code, "Ana", t1))
    ben = await Attendee.open(ws, await seat(url, code, "Ben", t2))
    hana = await Attendee.open(ws, await seat(url, code, "Hana", t1, "table_host"))
    invite = (await fac.request("observer.invite", {}))["payload"]
    screen = await Attendee.open(
        ws, Session(invite["token"], invite["participant"], fac_session.event, []), False
    )
    people = (ana, ben, hana, screen, fac)
    try:
        bad = await fac.request("agenda.set", {"steps": [{"title": "Q", "choices": ["Yes"]}]})
        assert _code(bad) == "invalid" and "steps.0.choices" in bad["payload"]["message"]
        twice = {"title": "Q", "choices": ["Yes", " YES"]}
        assert _code(await fac.request("agenda.set", {"steps": [twice]})) == "invalid"
        steps = [
            {"title": "Talk", "prompt": "Why does it matter?"},
            {"title": "Vote", "prompt": "How concerned are you?", "choices": CHOICES},
        ]
        agenda = (await fac.request("agenda.set", {"steps": steps}))["payload"]["agenda"]
        assert [s["choices"] for s in agenda["steps"]] == [[], CHOICES]
        talk, vote = (s["id"] for s in agenda["steps"])

        # Before the step starts, answers are closed.
        before = await _answer(ana, vote, 0)
        assert _code(before) == "closed"
        assert before["payload"]["message"] == "answers to this question are closed"
        await fac.request("step.start", {"step": talk})
        assert _code(await _answer(ana, vote, 0)) == "closed"
        started = await fac.request("step.start", {"step": vote})
        assert started["payload"]["agenda"]["current"]["step"] == vote
        version = started["payload"]["agenda"]["version"]

        # Who may answer what.
        assert _code(await _answer(fac, vote, 0)) == "forbidden"
        assert _code(await _answer(screen, vote, 0)) == "forbidden"
        assert _code(await _answer(ana, "no-such-step", 0)) == "not_found"
        assert _code(await _answer(ana, talk, 0)) == "invalid"
        assert _code(await _answer(ana, vote, 3)) == "invalid"
        assert _code(await _answer(ana, vote, -1)) == "invalid"
        assert _code(await _answer(ana, vote, True)) == "invalid"
        assert _code(await ana.request("answer.set", {"step": vote})) == "invalid"
        assert _code(await ana.request("answers.tally", {"step": talk})) == "invalid"
        assert _code(await ana.request("answers.tally", {"step": "nope"})) == "not_found"
        assert await _watched_answer(ana) is None

        # Answer, change, and the console follows every change with the full tally.
        first = await _answer(ana, vote, 0)
        assert first["type"] == "ack" and first["payload"] == {"step": vote, "choice": 0}
        seen = await _updated(fac, 1)
        assert seen == {
            "step": vote,
            "choices": CHOICES,
            "counts": [1, 0, 0],
            "answered": 1,
            "eligible": 3,
            "rooms": [{"room": t1, "counts": [1, 0, 0]}],
            "open": True,
            "agenda_version": version,
        }
        assert (await _answer(ana, vote, 2))["payload"] == {"step": vote, "choice": 2}
        changed = await fac.until("answers.updated", WAIT)
        assert changed["payload"]["counts"] == [0, 0, 1] and changed["payload"]["answered"] == 1
        assert (await _answer(ben, vote, 1))["type"] == "ack"
        assert (await _answer(hana, vote, 1))["type"] == "ack"
        seen = await _updated(fac, 3)
        assert seen["counts"] == [0, 2, 1]
        assert seen["rooms"] == [
            {"room": t1, "counts": [0, 1, 1]},
            {"room": t2, "counts": [0, 1, 0]},
        ]
        assert await _watched_answer(ana) == 2
        assert await _watched_answer(fac) is None

        # While it is open, only the facilitators see how people answered.
        for who in (ana, hana, screen):
            hidden = await _tally(who, vote)
            assert hidden["counts"] is None and hidden["rooms"] is None
            assert (hidden["answered"], hidden["eligible"], hidden["open"]) == (3, 3, True)
        assert (await _tally(fac, vote))["counts"] == [0, 2, 1]
        # Nor does the report over HTTP give a plenary screen's token the counts.
        async with httpx.AsyncClient(base_url=url) as http:
            reports = {
                who: (
                    await http.get(
                        f"/api/events/{code}/report/themes.md",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                ).text.splitlines()
                for who, token in (
                    ("screen", screen.client.session.token),
                    ("facilitator", fac_session.token),
                )
            }
        assert (
            "Still open: 3 answers so far; the result is given when it closes."
            in (reports["screen"])
        )
        assert "| A little | 2 | 66.7% |" not in reports["screen"]
        assert "| A little | 2 | 66.7% |" in reports["facilitator"]

        # Its choices cannot change while it is open.
        edited = [steps[0] | {"id": talk}, steps[1] | {"id": vote, "choices": ["Yes", "No"]}]
        refused = await fac.request("agenda.set", {"steps": edited})
        assert _code(refused) == "conflict"
        assert "end the step before changing its choices" in refused["payload"]["message"]

        # Withdrawn, then given again; a pause keeps the question open.
        withdrawn = await _answer(ana, vote, None)
        assert withdrawn["payload"] == {"step": vote, "choice": None}
        assert (await _updated(fac, 2))["counts"] == [0, 2, 0]
        assert await _watched_answer(ana) is None
        await fac.request("step.pause", {})
        assert (await _answer(ana, vote, 0))["type"] == "ack"
        assert (await _updated(fac, 3))["counts"] == [1, 2, 0]
        await fac.request("step.resume", {})
        for who in people:
            await who.drain()

        # The end: everyone gets the result, after the agenda that closed it.
        ended = await fac.request("step.end", {})
        assert ended["payload"]["agenda"]["current"]["status"] == "ended"
        for who in (ana, ben, screen):
            state, result = await _closing(who, vote)
            assert state["payload"]["version"] == ended["payload"]["agenda"]["version"]
            assert result == {
                "step": vote,
                "choices": CHOICES,
                "counts": [1, 2, 0],
                "answered": 3,
                "eligible": 3,
                "rooms": [
                    {"room": t1, "counts": [1, 1, 0]},
                    {"room": t2, "counts": [0, 1, 0]},
                ],
                "open": False,
                "agenda_version": ended["payload"]["agenda"]["version"],
            }
        assert _code(await _answer(ben, vote, 0)) == "closed"
        shown = await _tally(ana, vote)
        assert shown["counts"] == [1, 2, 0] and shown["open"] is False
        assert (await _tally(screen, vote))["rooms"] is not None
        assert await _watched_answer(ana) == 0  # still the current step, ended
        async with httpx.AsyncClient(base_url=url) as http:
            report = await http.get(
                f"/api/events/{code}/report/themes.md",
                headers={"Authorization": f"Bearer {fac_session.token}"},
            )
        assert report.status_code == 200
        lines = report.text.splitlines()
        assert lines[lines.index("### Vote") + 2] == "How concerned are you?"
        assert "| A little | 2 | 66.7% |" in lines and "3 answers." in lines
        assert "| Table 2 | 0 | 1 | 0 |" in lines
        async with httpx.AsyncClient(base_url=url) as http:
            answers = await http.get(
                f"/api/events/{code}/report/answers.csv",
                headers={"Authorization": f"Bearer {fac_session.token}"},
            )
            refused = [
                await http.get(
                    f"/api/events/{code}/report/answers.csv",
                    headers={"Authorization": f"Bearer {who.client.session.token}"},
                )
                for who in (ana, screen)
            ]
        assert answers.status_code == 200
        assert [r.status_code for r in refused] == [403, 403]
        rows = list(csv.reader(io.StringIO(answers.text.removeprefix("\ufeff"))))
        assert rows[0] == ["step", "question", "table", "choice_number", "choice", "answered_at"]
        given = sorted((r[0], r[1], r[2], r[3], r[4]) for r in rows[1:])
        assert given == [
            ("Vote", "How concerned are you?", "Table 1", "1", "Very"),
            ("Vote", "How concerned are you?", "Table 1", "2", "A little"),
            ("Vote", "How concerned are you?", "Table 2", "2", "A little"),
        ]
        for name in ("Ana", "Ben", "Hana"):  # answers are secret
            assert name not in answers.text

        # Closed, its choices may change: the answers given to the old ones go.
        changed_steps = await fac.request("agenda.set", {"steps": edited})
        assert changed_steps["type"] == "ack", changed_steps
        cleared = await _tally(fac, vote)
        assert (cleared["choices"], cleared["counts"], cleared["answered"]) == (
            ["Yes", "No"],
            [0, 0],
            0,
        )
        assert await _watched_answer(ana) is None
    finally:
        await asyncio.gather(*(p.close() for p in people), return_exceptions=True)


async def test_a_crowd_answering_at_once_gives_the_console_a_few_recounts_not_one_each(
    live_server_fast: LiveServer,
) -> None:
    """A whole assembly answers within seconds: the console hears the tally as it grows, a
    few times a second at most, and the last one counts everybody."""
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session, rooms, (vote,) = await _event(
        live_server_fast, [{"title": "Vote", "prompt": "Concerned?", "choices": CHOICES}], 4
    )
    code = fac_session.event["join_code"]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    crowd = [
        await Attendee.open(ws, await seat(url, code, f"P{i}", rooms[i % 4]), join_room=False)
        for i in range(24)
    ]
    try:
        assert (await fac.request("console.watch", {}))["type"] == "ack"
        started = await fac.request("step.start", {"step": vote})
        version = started["payload"]["agenda"]["version"]
        await fac.drain()
        before = len(fac.frames)
        replies = await asyncio.gather(*(_answer(who, vote, i % 3) for i, who in enumerate(crowd)))
        assert all(r["type"] == "ack" for r in replies), replies
        last = await _updated(fac, len(crowd))
        assert last["counts"] == [8, 8, 8] and last["agenda_version"] == version
        await asyncio.sleep(1.0)  # anything still on its way
        await fac.drain()
        pushed = [f["payload"] for f in fac.frames[before:] if f["type"] == "answers.updated"]
        print(f"24 answers at once: the console got {len(pushed)} recounts")
        assert 1 <= len(pushed) <= len(crowd) // 2, [p["answered"] for p in pushed]
        answered = [p["answered"] for p in pushed]
        assert answered == sorted(answered) and answered[-1] == len(crowd)
    finally:
        await asyncio.gather(fac.close(), *(who.close() for who in crowd))


async def test_another_steps_start_and_the_timer_close_a_question_and_a_rerun_keeps_it(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    steps = [
        {"title": "Vote", "prompt": "Concerned?", "choices": CHOICES},
        {"title": "Talk"},
        {"title": "Quick vote", "prompt": "Yes?", "choices": ["Yes", "No"], "duration": 2},
    ]
    fac_session, (t1, t2), (vote, talk, quick) = await _event(live_server_fast, steps)
    code = fac_session.event["join_code"]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana = await Attendee.open(ws, await seat(url, code, "Ana", t1))
    ben = await Attendee.open(ws, await seat(url, code, "Ben", t2))
    try:
        await fac.request("step.start", {"step": vote})
        assert (await _answer(ana, vote, 1))["type"] == "ack"
        # Run again while it runs: the same question, answers kept, nothing closed.
        await fac.request("step.start", {"step": vote})
        assert await _watched_answer(ana) == 1
        assert (await _answer(ben, vote, 1))["type"] == "ack"

        for who in (ana, ben):
            await who.drain()
        await fac.request("step.start", {"step": talk})
        for who in (ana, ben):
            state, result = await _closing(who, vote)
            assert state["payload"]["current"]["step"] == talk
            assert (result["step"], result["counts"], result["open"]) == (vote, [0, 2, 0], False)
        assert _code(await _answer(ana, vote, 0)) == "closed"
        # Nothing else closed: the talk's end closes no question.
        await fac.request("step.end", {})
        await ana.until("step.ended", WAIT)

        # A question run again after its close is open again, its answers kept.
        await fac.request("step.start", {"step": vote})
        assert await _watched_answer(ben) == 1
        assert (await _tally(fac, vote))["counts"] == [0, 2, 0]
        assert (await _tally(ana, vote))["counts"] is None

        # The timer closes it, on its own.
        for who in (ana, ben):
            await who.drain()
        started = time.monotonic()
        await fac.request("step.start", {"step": quick})
        await ana.until_step(quick)
        assert (await _answer(ana, quick, 0))["type"] == "ack"
        for who in (ana, ben):
            state, result = await _closing(who, quick)
            current = state["payload"]["current"]
            assert (current["step"], current["status"]) == (quick, "ended")
            assert result["counts"] == [1, 0] and result["open"] is False
        assert time.monotonic() - started >= 1.5
        await asyncio.sleep(0.5)
        for who in (ana, ben):
            await who.drain()
            assert len(_results(who, quick)) == 1
    finally:
        await asyncio.gather(*(p.close() for p in (fac, ana, ben)), return_exceptions=True)


async def test_a_removed_persons_answer_no_longer_counts(live_server_fast: LiveServer) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    steps = [{"title": "Vote", "choices": ["Yes", "No"]}]
    fac_session, (t1, _), (vote,) = await _event(live_server_fast, steps)
    code = fac_session.event["join_code"]
    fac = await Attendee.open(ws, fac_session, join_room=False)
    await fac.request("console.watch", {})
    ana = await Attendee.open(ws, await seat(url, code, "Ana", t1))
    troll = await Attendee.open(ws, await seat(url, code, "Troll", t1))
    try:
        await fac.request("step.start", {"step": vote})
        assert (await _answer(ana, vote, 0))["type"] == "ack"
        assert (await _answer(troll, vote, 1))["type"] == "ack"
        assert (await _updated(fac, 2))["counts"] == [1, 1]
        removed = await fac.request("people.remove", {"participant": troll.id})
        assert removed["type"] == "ack", removed
        fresh = await _updated(fac, 1)
        assert (fresh["counts"], fresh["eligible"]) == ([1, 0], 1)
        assert fresh["rooms"] == [{"room": t1, "counts": [1, 0]}]
        assert (await _tally(fac, vote))["answered"] == 1
    finally:
        await asyncio.gather(*(p.close() for p in (fac, ana, troll)), return_exceptions=True)


@pytest.mark.postgres
@pytest.mark.redis
async def test_answers_on_two_processes_count_together_and_both_hear_the_result(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    one, two = two_processes
    steps = [{"title": "Vote", "prompt": "Concerned?", "choices": CHOICES}]
    fac_session, (t1, t2), (vote,) = await _event(one, steps)
    code = fac_session.event["join_code"]
    fac = await Attendee.open(one.ws_url, fac_session, join_room=False)
    await fac.request("console.watch", {})
    ana = await Attendee.open(one.ws_url, await seat(one.url, code, "Ana", t1))
    ben = await Attendee.open(two.ws_url, await seat(two.url, code, "Ben", t2))
    cem_session = await join(two.url, code, "Cem", t2)
    # One person, two sockets on two processes: their answers at once make one row.
    cem_tabs = [await Attendee.open(s.ws_url, cem_session) for s in (one, two, one, two)]
    people = (fac, ana, ben, *cem_tabs)
    try:
        await fac.request("step.start", {"step": vote})
        assert (await _answer(ana, vote, 0))["type"] == "ack"
        assert (await _answer(ben, vote, 1))["type"] == "ack"  # on the other process
        assert (await _updated(fac, 2))["rooms"] == [
            {"room": t1, "counts": [1, 0, 0]},
            {"room": t2, "counts": [0, 1, 0]},
        ]
        for round_ in range(3):
            replies = await asyncio.gather(
                *(_answer(tab, vote, (i + round_) % 3) for i, tab in enumerate(cem_tabs))
            )
            assert all(r["type"] == "ack" for r in replies), replies
            counted = await _tally(fac, vote)
            assert counted["answered"] == 3 and sum(counted["counts"]) == 3, counted
            assert counted["rooms"][1]["room"] == t2 and sum(counted["rooms"][1]["counts"]) == 2
        mine = await _watched_answer(cem_tabs[1])
        assert mine in (0, 1, 2)
        final = await _tally(fac, vote)

        for who in people:
            await who.drain()
        await fac.request("step.end", {})
        for who in (ana, ben, cem_tabs[0], cem_tabs[1]):
            _, result = await _closing(who, vote)
            assert result["agenda_version"] > final["agenda_version"]
            assert result == final | {"open": False, "agenda_version": result["agenda_version"]}
    finally:
        await asyncio.gather(*(p.close() for p in people), return_exceptions=True)


@pytest.mark.postgres
@pytest.mark.redis
async def test_the_timer_on_the_other_process_closes_the_question_for_everyone(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    one, two = two_processes
    steps = [{"title": "Quick", "choices": ["Yes", "No"], "duration": 2}]
    fac_session, (t1, t2), (quick,) = await _event(one, steps)
    code = fac_session.event["join_code"]
    fac = await Attendee.open(one.ws_url, fac_session, join_room=False)
    ana = await Attendee.open(one.ws_url, await seat(one.url, code, "Ana", t1))
    ben = await Attendee.open(two.ws_url, await seat(two.url, code, "Ben", t2))
    try:
        await fac.request("step.start", {"step": quick})  # process one arms the timer
        await fac.close()
        await ben.until_step(quick)
        # Process two follows the same clock once someone there watches the event: both
        # wake up, one write ends the step, and only its frames go out.
        assert await _watched_answer(ben) is None
        assert (await _answer(ben, quick, 1))["type"] == "ack"
        for who in (ana, ben):
            state, result = await _closing(who, quick)
            assert state["payload"]["current"]["status"] == "ended"
            assert (result["counts"], result["open"]) == ([0, 1], False)
        await asyncio.sleep(1.0)
        for who in (ana, ben):
            await who.drain()
            assert len(_results(who, quick)) == 1
    finally:
        await asyncio.gather(*(p.close() for p in (ana, ben)), return_exceptions=True)


# the store ---------------------------------------------------------------------------------


async def _asking(
    store: Store, choices: tuple[str, ...] = ("Yes", "No", "Maybe")
) -> tuple[list[Room], Participant, Participant, Agenda]:
    """An event whose question step runs, with a person at each of two tables."""
    event, rooms = await store.create_event("Jury", "hash", [("T1", 8), ("T2", 8)])
    ana = await store.join(event.id, "Ana", "participant", rooms[0].id)
    ben = await store.join(event.id, "Ben", "participant", rooms[1].id)
    before = await load_agenda(store, event.id)
    step = Step("q" + event.id[:16], "Vote", "Concerned?", choices=choices)
    listed = rules.set_steps(before, (step, Step("t" + event.id[:16], "Talk")))
    assert await save_agenda(store, before, listed)
    running = rules.start(listed, step.id, 1000.0)
    assert await save_agenda(store, listed, running)
    return rooms, ana, ben, running


async def _rows(store: Store, step_id: str) -> int:
    async with store.session() as s:
        return int(
            await s.scalar(
                select(func.count()).select_from(AnswerRow).where(AnswerRow.step_id == step_id)
            )
            or 0
        )


async def test_one_persons_answers_at_once_make_one_row(store: Store) -> None:
    rooms, ana, ben, running = await _asking(store)
    step = running.steps[0]
    for round_ in range(3):
        await asyncio.gather(*(set_answer(store, ana, step.id, (i + round_) % 3) for i in range(8)))
        assert await _rows(store, step.id) == 1
        assert await answer_of(store, ana.id, step.id) in (0, 1, 2)
    await set_answer(store, ben, step.id, 2)
    counted = await read_tally(store, running, step)
    assert counted.answered == 2 and counted.eligible == 2
    assert [r for r, _ in counted.rooms] == [rooms[0].id, rooms[1].id]
    await set_answer(store, ana, step.id, None)
    assert await answer_of(store, ana.id, step.id) is None
    await set_answer(store, ana, step.id, None)  # withdrawing nothing is no error
    assert await _rows(store, step.id) == 1


async def test_an_answer_records_the_table_its_author_sits_at_now(store: Store) -> None:
    rooms, ana, _, running = await _asking(store)
    step = running.steps[0]
    await set_answer(store, ana, step.id, 0)
    # Moved since: the socket's participant says table 1, the store says table 2.
    async with store.write() as s:
        row = await s.get(ParticipantRow, ana.id)
        assert row is not None
        row.room_id = rooms[1].id
    await set_answer(store, ana, step.id, 1)
    counted = await read_tally(store, running, step)
    assert counted.rooms == ((rooms[1].id, (0, 1, 0)),)
    assert counted.eligible == 2


async def test_answers_go_with_their_step_their_choices_and_their_removed_author(
    store: Store,
) -> None:
    _, ana, ben, running = await _asking(store)
    step, talk = running.steps
    await set_answer(store, ana, step.id, 0)
    await set_answer(store, ben, step.id, 1)
    with pytest.raises(ProtocolError) as info:
        await set_answer(store, ana, talk.id, 0)
    assert info.value.code == "invalid"
    fac = await store.join(ana.event_id, "Fran", "facilitator", None)
    await remove_participant(store, fac, ben.id, delete_notes=False)
    assert await answer_of(store, ben.id, step.id) is None
    with pytest.raises(ProtocolError) as info:
        await set_answer(store, ben, step.id, 1)  # their socket still thinks they sit
    assert info.value.code == "forbidden"
    ended, _ = rules.end(running, 2000.0)
    assert await save_agenda(store, running, ended)
    with pytest.raises(ProtocolError) as info:
        await set_answer(store, ana, step.id, 1)
    assert info.value.code == "closed"
    # Same choices, another title: answers kept. Other choices: gone.
    renamed = rules.set_steps(ended, (Step(step.id, "Poll", choices=step.choices), talk))
    assert await save_agenda(store, ended, renamed)
    assert await _rows(store, step.id) == 1
    rechosen = rules.set_steps(renamed, (Step(step.id, "Poll", choices=("A", "B")), talk))
    assert await save_agenda(store, renamed, rechosen)
    assert await _rows(store, step.id) == 0
    # Taken off the agenda: its answers go with it.
    again = rules.start(rechosen, step.id, 3000.0)
    assert await save_agenda(store, rechosen, again)
    await set_answer(store, ana, step.id, 1)
    over, _ = rules.end(again, 4000.0)
    assert await save_agenda(store, again, over)
    dropped = rules.set_steps(over, (talk,))
    assert await save_agenda(store, over, dropped)
    assert await _rows(store, step.id) == 0


BEFORE_QUESTIONS = "0007_step_choices@0006_step_votes"


def _question_drift(connection: Any) -> list[Any]:
    diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return [d for d in diffs if "answers" in repr(d) or "choices" in repr(d)]


def _schema(connection: Any) -> tuple[set[str], set[str]]:
    found = inspect(connection)
    return set(found.get_table_names()), {c["name"] for c in found.get_columns("agenda_steps")}


async def test_the_questions_migration_matches_the_models_and_goes_down_and_up(
    store: Store, store_url: str
) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_question_drift) == []
    rooms, ana, _, running = await _asking(store)
    step = running.steps[0]
    await set_answer(store, ana, step.id, 2)
    await store.engine.dispose()
    cfg = alembic_config(store_url)
    await asyncio.to_thread(command.downgrade, cfg, BEFORE_QUESTIONS)
    async with store.engine.connect() as conn:
        tables, columns = await conn.run_sync(_schema)
    assert "answers" not in tables and "choices" not in columns and "votes" in columns
    await store.engine.dispose()
    await upgrade_async(store_url)
    async with store.engine.connect() as conn:
        tables, columns = await conn.run_sync(_schema)
        assert "answers" in tables and "choices" in columns
        assert await conn.run_sync(_question_drift) == []
    # Stored before questions: every step asks none, and nothing was answered.
    agenda = await load_agenda(store, rooms[0].event_id)
    assert [s.choices for s in agenda.steps] == [(), ()]
    assert [s.title for s in agenda.steps] == [s.title for s in running.steps]
    assert await _rows(store, step.id) == 0
    assert {p.id for p in await store.members(rooms[0].id)} == {ana.id}
    # And it goes down again cleanly, and up.
    await store.engine.dispose()
    await asyncio.to_thread(command.downgrade, cfg, BEFORE_QUESTIONS)
    await upgrade_async(store_url)
    assert (await load_agenda(store, rooms[0].event_id)).steps == agenda.steps
