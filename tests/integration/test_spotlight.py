"""The plenary screen's spotlight over the real wire: chosen by a facilitator, seen by every
page of the event, kept for a page that loads later, and true to the walls when a shown
note is edited or deleted."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.client import Session, create_event
from tests.conftest import LiveServer
from tests.event_client import Attendee, seat
from tests.topics import BIKES, MEALS, TREES


async def _post(who: Attendee, room: str, text: str) -> str:
    reply = await who.request("note.post", {"room": room, "id": str(uuid.uuid4()), "text": text})
    assert reply["type"] == "ack", reply
    return str(reply["payload"]["note"]["id"])


async def _shown(who: Attendee, version: int) -> dict[str, Any] | None:
    frame = await who.until("spotlight", version=version)
    return frame["payload"]["spotlight"]  # type: ignore[no-any-return]


async def test_a_table_a_note_and_clearing_reach_every_page(live_server_fast: LiveServer) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Assembly", rooms=2)
    code = fac_session.event["join_code"]
    t1, t2 = (r["id"] for r in fac_session.rooms)
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana = await Attendee.open(ws, await seat(url, code, "Ana", t1))
    ben = await Attendee.open(ws, await seat(url, code, "Ben", t1))
    cat = await Attendee.open(ws, await seat(url, code, "Cat", t2))
    invite = (await fac.request("observer.invite", {}))["payload"]
    screen = await Attendee.open(
        ws, Session(invite["token"], invite["participant"], fac_session.event, []), False
    )
    everyone = (fac, ana, ben, cat, screen)
    try:
        # Before anything is shown, a page is told so.
        watched = (await screen.request("event.watch", {}))["payload"]
        assert watched["spotlight"] is None and watched["spotlight_version"] == 0

        old = await _post(ana, t1, "Safer crossings near the school")
        liked = await _post(ben, t1, "A bus every ten minutes")
        newest = await _post(ana, t1, "Car-free Sundays")
        await _post(cat, t2, "Another table's idea")
        assert (await ana.request("note.like", {"room": t1, "id": liked}))["type"] == "ack"

        # Table 1 reports back: its notes, most liked first, then the newest.
        reply = await fac.request("spotlight.set", {"room": t1})
        assert reply["type"] == "ack", reply
        assert reply["payload"]["version"] == 1
        for who in everyone:  # the other table and the projector too
            shown = await _shown(who, 1)
            assert shown is not None
            assert shown["kind"] == "room" and shown["id"] == t1
            assert shown["title"] == fac_session.rooms[0]["name"]
            assert [n["id"] for n in shown["notes"]] == [liked, newest, old]
            assert shown["notes"][0]["likes"] == 1 and shown["size"] == 3
            assert shown["by"] == fac_session.participant["pseudonym"]

        # One note; then its author edits it, and the screen shows the new words.
        await fac.request("spotlight.set", {"note": newest})
        assert (await _shown(cat, 2))["notes"][0]["text"] == "Car-free Sundays"  # type: ignore[index]
        edit = {"room": t1, "id": newest, "text": "Car-free Sundays in the centre"}
        assert (await ana.request("note.edit", edit))["type"] == "ack"
        edited = await _shown(screen, 3)
        assert edited is not None and edited["notes"][0]["text"] == edit["text"]
        assert edited["kind"] == "note" and edited["title"] == fac_session.rooms[0]["name"]

        # A page that loads now shows it.
        late = await Attendee.open(ws, await seat(url, code, "Dan", t2))
        loaded = (await late.request("event.watch", {}))["payload"]
        assert loaded["spotlight"]["id"] == newest and loaded["spotlight_version"] == 3
        await late.close()

        # The shown note is deleted: it leaves the screen.
        assert (await fac.request("note.delete", {"room": t1, "id": newest}))["type"] == "ack"
        for who in everyone:
            assert await _shown(who, 4) is None

        # Clearing.
        await fac.request("spotlight.set", {"room": t2})
        assert (await fac.request("spotlight.set", {}))["payload"] == {
            "spotlight": None,
            "version": 6,
        }
        assert await _shown(ana, 6) is None
        assert (await ana.request("event.watch", {}))["payload"]["spotlight"] is None
    finally:
        for who in everyone:
            await who.close()


async def test_bad_requests_are_refused_and_change_nothing(live_server_fast: LiveServer) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Refusals", rooms=1)
    other = await create_event(url, "Elsewhere", rooms=1)
    code = fac_session.event["join_code"]
    (t1,) = (r["id"] for r in fac_session.rooms)
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana = await Attendee.open(ws, await seat(url, code, "Ana", t1))
    stranger = await Attendee.open(ws, other, join_room=False)
    foreign_note = await _post(stranger, other.rooms[0]["id"], "Not this event's")
    try:
        mine = await _post(ana, t1, "Mine")
        shown = await fac.request("spotlight.set", {"note": mine})
        assert shown["payload"]["version"] == 1
        refusals = [
            (ana, {"room": t1}, "forbidden"),
            (fac, {"room": t1, "note": mine}, "invalid"),
            (fac, {"note": "not-a-uuid"}, "invalid"),
            (fac, {"size": 3}, "invalid"),
            (fac, {"room": other.rooms[0]["id"]}, "not_found"),
            (fac, {"note": foreign_note}, "not_found"),
            (fac, {"note": str(uuid.uuid4())}, "not_found"),
            (fac, {"theme": "t-nothing"}, "not_found"),
        ]
        for who, payload, code_ in refusals:
            reply = await who.request("spotlight.set", payload)
            assert reply["type"] == "error", (payload, reply)
            assert reply["payload"]["code"] == code_, (payload, reply)
        watched = (await ana.request("event.watch", {}))["payload"]
        assert watched["spotlight_version"] == 1 and watched["spotlight"]["id"] == mine
        # Another event's pages hear nothing of it.
        await asyncio.sleep(0.2)
        await stranger.drain()
        assert not [f for f in stranger.frames if f["type"] == "spotlight"]
    finally:
        for who in (fac, ana, stranger):
            await who.close()


async def test_a_theme_on_the_screen_and_a_removal_that_takes_its_notes(
    live_server_fast: LiveServer,
) -> None:
    url, ws = live_server_fast.url, live_server_fast.ws_url
    fac_session = await create_event(url, "Themes", rooms=2)
    code = fac_session.event["join_code"]
    t1, t2 = (r["id"] for r in fac_session.rooms)
    fac = await Attendee.open(ws, fac_session, join_room=False)
    ana = await Attendee.open(ws, await seat(url, code, "Ana", t1))
    cat = await Attendee.open(ws, await seat(url, code, "Cat", t2))
    try:
        assert (await fac.request("themes.watch", {}))["type"] == "ack"
        authors: dict[str, str] = {}
        for i, text in enumerate(
            x for group in zip(BIKES, MEALS, TREES, strict=True) for x in group
        ):
            who, room = (ana, t1) if i % 2 == 0 else (cat, t2)
            authors[await _post(who, room, text)] = who.id
        async with asyncio.timeout(30):
            while True:
                snap = (await fac.until("themes.snapshot", timeout=30))["payload"]
                covered = {n for t in snap["themes"] for n in t["note_ids"]}
                covered |= {u["id"] for u in snap["unthemed"]}
                if set(authors) <= covered and snap["themes"]:
                    break
        # A theme with one of Ana's notes among those shown, to take away below.
        theme = next(
            t
            for t in snap["themes"]
            if any(authors[r["id"]] == ana.id for r in t["representatives"][:3])
        )
        reply = await fac.request("spotlight.set", {"theme": theme["id"]})
        assert reply["type"] == "ack", reply
        shown = reply["payload"]["spotlight"]
        assert shown["kind"] == "theme" and shown["title"] == theme["label"]
        assert shown["size"] == theme["size"]
        assert (shown["rooms"], shown["of_rooms"]) == (len(theme["rooms"]), snap["n_rooms"])
        reps = [r["id"] for r in theme["representatives"]][:3]
        assert [n["id"] for n in shown["notes"]] == reps
        assert (await _shown(ana, 1)) == shown

        # Renamed while on the screen: the screen says the new name at once; renaming another
        # theme changes nothing there.
        rename = {"theme": theme["id"], "label": "  Getting around  "}
        assert (await fac.request("themes.rename", rename))["type"] == "ack"
        renamed = await _shown(cat, 2)
        assert renamed == {**shown, "title": "Getting around"}
        other = next(t for t in snap["themes"] if t["id"] != theme["id"])
        rename = {"theme": other["id"], "label": "Something else"}
        assert (await fac.request("themes.rename", rename))["type"] == "ack"

        # Ana is removed with her notes: those of hers on the screen leave it, the rest stay.
        removal = {"participant": ana.id, "delete_notes": True}
        assert (await fac.request("people.remove", removal))["type"] == "ack"
        after = await _shown(cat, 3)
        assert after is not None and after["title"] == "Getting around"
        assert [n["id"] for n in after["notes"]] == [n for n in reps if authors[n] != ana.id]

        # Hidden from the board, it leaves the screen; hiding another theme changes nothing.
        assert (await fac.request("themes.hide", {"theme": other["id"]}))["type"] == "ack"
        assert (await fac.request("themes.hide", {"theme": theme["id"]}))["type"] == "ack"
        assert (await _shown(cat, 4)) is None
    finally:
        for who in (fac, ana, cat):
            await who.close()
