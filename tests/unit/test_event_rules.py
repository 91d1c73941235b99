"""Running an event, the pure parts: message payloads, who may do what, templates, QR codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server import agenda as rules
from server.agenda import Agenda, Step
from server.facilitation import (
    check_can_choose_seat,
    check_can_propose_topic,
    check_can_raise_help,
    check_movable,
    check_not_removed,
    check_removable,
)
from server.protocol import (
    CLIENT_TYPES,
    EVENT_CLIENT_TYPES,
    SERVER_TYPES,
    ErrorCode,
    ProtocolError,
    Role,
    parse_client_frame,
)
from server.qr import qr_svg
from server.rooms import Participant, Room, bound_by_votes, check_vote_left, votes_left
from server.templates import TemplateError, load_templates, parse_template

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def frame(type_: str, payload: dict[str, object]) -> str:
    return json.dumps({"v": 1, "type": type_, "ref": "r1", "payload": payload})


def code_of(call: object) -> str:
    with pytest.raises(ProtocolError) as info:
        call()  # type: ignore[operator]
    return info.value.code


def person(role: Role = "participant", room: str | None = "r1", pid: str = "p1") -> Participant:
    return Participant(pid, "e1", "Ana", role, room)


R1 = Room("r1", "e1", "Table 1", 8)
R2 = Room("r2", "e1", "Table 2", 8)


def test_every_event_message_is_a_client_type_and_documented() -> None:
    documented = DOCS.read_text()
    for type_ in EVENT_CLIENT_TYPES:
        assert CLIENT_TYPES[type_] is EVENT_CLIENT_TYPES[type_]
        assert f"`{type_}`" in documented, type_
    for type_ in (
        "agenda.state",
        "step.warning",
        "step.ended",
        "moved",
        "broadcast",
        "event.updated",
        "removed",
        "answers.updated",
    ):
        assert type_ in SERVER_TYPES
        assert f'"type": "{type_}"' in documented, type_


@pytest.mark.parametrize(
    ("type_", "payload"),
    [
        ("step.adjust", {"seconds": 0}),
        ("step.adjust", {"seconds": 10**7}),
        ("step.adjust", {}),
        ("step.start", {"step": ""}),
        ("agenda.set", {"steps": [{"title": ""}]}),
        ("agenda.set", {"steps": [{"title": "x", "mode": "party"}]}),
        ("agenda.set", {"steps": [{"title": "x", "assign": "chaos"}]}),
        ("agenda.set", {"steps": [{"title": "x"}] * 51}),
        ("agenda.set", {"steps": [{"title": "x", "votes": 21}]}),
        ("agenda.set", {"steps": [{"title": "x", "votes": -1}]}),
        ("agenda.set", {"steps": [{"title": "x", "votes": True}]}),
        ("agenda.set", {"steps": [{"title": "x", "votes": "3"}]}),
        ("agenda.set", {"steps": [{"title": "x", "votes": 2.5}]}),
        ("agenda.set", {"steps": [{"title": "x", "votes": None}]}),
        ("broadcast.send", {"text": " "}),
        ("broadcast.send", {"text": "x" * 301}),
        ("help.raise", {"room": "r1", "text": "x" * 201}),
        ("people.role", {"participant": "p", "role": "facilitator"}),
        ("people.remove", {}),
        ("people.remove", {"participant": ""}),
        ("people.remove", {"participant": 7}),
        ("people.remove", {"participant": "p", "delete_notes": "please"}),
        ("people.remove", {"participant": "p", "delete_notes": "yes"}),
        ("people.remove", {"participant": "p", "delete_notes": 1}),
        ("people.remove", {"participant": "p", "ban": True}),
        ("rooms.assign", {"strategy": "random", "groups": [[]]}),
        ("topic.propose", {"title": "x" * 61}),
        ("topic.decide", {"topic": "t", "accept": True, "capacity": 0}),
        ("seat.choose", {"room": "r1", "extra": 1}),
        ("event.watch", {"anything": 1}),
    ],
)
def test_bad_event_payloads_are_invalid(type_: str, payload: dict[str, object]) -> None:
    assert code_of(lambda: parse_client_frame(frame(type_, payload))) == ErrorCode.INVALID


def test_event_payloads_are_trimmed_and_defaulted() -> None:
    msg = parse_client_frame(frame("agenda.set", {"steps": [{"title": "  Round 1 "}]}))
    step = msg.payload.steps[0]  # type: ignore[union-attr]
    assert (step.title, step.mode, step.duration, step.assign, step.recall, step.votes) == (
        "Round 1",
        "breakouts",
        0,
        "keep",
        True,
        0,
    )
    sent = parse_client_frame(frame("broadcast.send", {"text": "  Back in 5  "})).payload
    assert sent.text == "Back in 5" and sent.room is None  # type: ignore[union-attr]


@pytest.mark.parametrize("votes", [0, 1, 3, 20])
def test_a_vote_budget_from_0_to_20_is_taken(votes: int) -> None:
    msg = parse_client_frame(frame("agenda.set", {"steps": [{"title": "Vote", "votes": votes}]}))
    assert msg.payload.steps[0].votes == votes  # type: ignore[union-attr]


def test_a_bad_vote_budget_names_the_field() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(
            frame("agenda.set", {"steps": [{"title": "a"}, {"title": "b", "votes": 99}]})
        )
    assert info.value.code == ErrorCode.INVALID
    assert "steps.1.votes" in info.value.message
    assert [d["field"] for d in info.value.details] == ["steps.1.votes"]


def test_a_vote_budget_binds_the_people_at_the_tables_only() -> None:
    for role in ("participant", "table_host"):
        assert bound_by_votes(person(role), 3)
        assert votes_left(person(role), 3, 0) == 3
        assert votes_left(person(role), 3, 2) == 1
        assert votes_left(person(role), 3, 5) == 0  # the budget was lowered mid-step
    for role in ("facilitator", "observer"):
        assert not bound_by_votes(person(role, None), 3)
        assert votes_left(person(role, None), 3, 9) is None
        check_vote_left(person(role, None), 3, 9)
    assert votes_left(person(), 0, 7) is None  # no budget: unlimited, as likes always were
    check_vote_left(person(), 0, 7)
    check_vote_left(person(), 3, 2)
    with pytest.raises(ProtocolError) as info:
        check_vote_left(person(), 3, 3)
    assert info.value.code == ErrorCode.NO_VOTES_LEFT == "no_votes_left"
    assert info.value.message == "no votes left in this step: each person has 3"


def test_help_is_for_the_people_at_the_table_and_facilitators() -> None:
    check_can_raise_help(person(), R1)
    check_can_raise_help(person("table_host"), R1)
    check_can_raise_help(person("facilitator", None), R2)
    assert code_of(lambda: check_can_raise_help(person(), R2)) == ErrorCode.NOT_MEMBER
    assert code_of(lambda: check_can_raise_help(person("observer", None), R1)) == "forbidden"
    elsewhere = Room("rx", "e2", "Other", 8)
    assert code_of(lambda: check_can_raise_help(person(), elsewhere)) == ErrorCode.NOT_FOUND


def test_seats_are_chosen_only_while_seating_is_free_and_hosts_stay() -> None:
    steps = (Step("s1", "Open", assign="self_select", topics=True), Step("s2", "Fixed"))
    agenda = rules.set_steps(Agenda("e1"), steps)
    assert code_of(lambda: check_can_choose_seat(person(), agenda)) == ErrorCode.CLOSED
    assert code_of(lambda: check_can_propose_topic(person(), agenda)) == ErrorCode.CLOSED
    check_can_propose_topic(person("facilitator", None), agenda)  # facilitators may, any time
    free = rules.start(agenda, "s1", 0)
    check_can_choose_seat(person(), free)
    check_can_propose_topic(person(), free)
    assert code_of(lambda: check_can_choose_seat(person("table_host"), free)) == "forbidden"
    assert code_of(lambda: check_can_choose_seat(person("observer", None), free)) == "forbidden"
    assert code_of(lambda: check_can_propose_topic(person("observer", None), free)) == "forbidden"
    fixed = rules.start(free, "s2", 1)
    assert code_of(lambda: check_can_choose_seat(person(), fixed)) == ErrorCode.CLOSED


def test_only_seated_people_of_the_event_can_be_moved() -> None:
    fac = person("facilitator", None, "f")
    assert check_movable(fac, person()) == person()
    assert code_of(lambda: check_movable(fac, None)) == ErrorCode.NOT_FOUND
    stranger = Participant("p9", "e2", "Zed", "participant", "rx")
    assert code_of(lambda: check_movable(fac, stranger)) == ErrorCode.NOT_FOUND
    assert code_of(lambda: check_movable(fac, person("observer", None))) == ErrorCode.INVALID


def test_the_shipped_templates_load_and_describe_their_formats() -> None:
    templates = load_templates()
    assert set(templates) >= {
        "world_cafe",
        "open_space",
        "citizens_jury",
        "future_workshop",
        "world_wide_views",
    }
    cafe = templates["world_cafe"]
    rounds = [s for s in cafe.steps if s.mode == "breakouts"]
    assert [s.assign for s in rounds] == ["balanced", "reshuffle", "reshuffle"]
    assert any(s.topics for s in templates["open_space"].steps)
    assert any(s.assign == "self_select" for s in templates["open_space"].steps)
    titles = [s.title for s in templates["future_workshop"].steps if s.mode == "breakouts"]
    assert titles == ["Critique", "Vision", "Realisation"]
    views = [s for s in templates["world_wide_views"].steps if s.mode == "breakouts"]
    assert len({s.prompt for s in views}) == len(views) >= 3  # same questions at every table
    ids = iter(range(100))
    made = cafe.instantiate(lambda: f"id{next(ids)}")
    assert [s.id for s in made] == [f"id{i}" for i in range(len(cafe.steps))]
    assert cafe.summary()["steps"][1] == {
        "title": "Round 1",
        "mode": "breakouts",
        "duration": 1200,
        "votes": 0,
        "choices": [],
    }
    # The future workshop chooses the vision to realise by dot voting, three dots each.
    workshop = templates["future_workshop"]
    assert [(s.title, s.votes) for s in workshop.steps if s.votes] == [("Realisation", 3)]
    assert [s["votes"] for s in workshop.summary()["steps"]][-2:] == [3, 0]
    assert [s.votes for s in workshop.instantiate(lambda: "x")] == [s.votes for s in workshop.steps]


def test_every_shipped_step_speaks_the_participants_languages() -> None:
    # Phones show a step's title and prompt: a French or German event must not get English.
    for name, template in load_templates().items():
        for code in ("fr", "de"):
            made = template.instantiate(lambda: "x", code)
            for step, shown, words in zip(template.steps, made, template.translations, strict=True):
                assert code in words, f"{name}: {step.title!r} has no {code}"
                assert (shown.title, shown.prompt) == (words[code].title, words[code].prompt)
                assert bool(shown.prompt) == bool(step.prompt)
                assert (shown.mode, shown.duration, shown.votes) == (
                    step.mode,
                    step.duration,
                    step.votes,
                )
            # Some words are the same in both ("Introduction"); prompts never are.
            assert all(
                shown.prompt != step.prompt
                for step, shown in zip(template.steps, made, strict=True)
                if step.prompt
            )
        assert [s.title for s in template.instantiate(lambda: "x", "en")] == [
            s.title for s in template.steps
        ]
    cafe = load_templates()["world_cafe"]
    assert [s.title for s in cafe.instantiate(lambda: "x", "de")][1:4] == [
        "Runde 1",
        "Runde 2",
        "Runde 3",
    ]
    assert cafe.instantiate(lambda: "x", "fr")[1].prompt.endswith("notre ville\u00a0?")


def test_every_shipped_format_is_named_in_each_consoles_language() -> None:
    for name, template in load_templates().items():
        words = template.summary()["words"]
        assert set(words) == {"fr", "de"}, name
        for code, said in words.items():
            assert said["title"] and said["description"], (name, code)
            assert said["description"] != template.description, (name, code)
    assert load_templates()["future_workshop"].summary()["words"]["de"]["title"] == (
        "Zukunftswerkstatt"
    )


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"steps": [{"title": "x"}]}, "needs a title"),
        ({"title": "T"}, "at least one"),
        ({"title": "T", "steps": [{"title": "x", "mode": "party"}]}, "mode"),
        ({"title": "T", "steps": [{"title": "x", "assign": "chaos"}]}, "assign"),
        ({"title": "T", "steps": [{"title": "x", "minutes": -1}]}, "minutes"),
        ({"title": "T", "steps": [{"title": "x", "votes": 21}]}, "votes"),
        ({"title": "T", "steps": [{"title": "x", "votes": True}]}, "votes"),
        ({"title": "T", "steps": [{"title": "x", "votes": 1.5}]}, "votes"),
        ({"title": "T", "steps": [{"title": "x", "colour": "red"}]}, "unknown keys"),
        ({"title": "T", "steps": ["x"]}, "not a table"),
        ({"title": "T", "steps": [{"title": "x", "fr": "Bonjour"}]}, "fr must be a table"),
        ({"title": "T", "steps": [{"title": "x", "de": {"prompt": ""}}]}, "de needs a title"),
        ({"title": "T", "steps": [{"title": "x", "fr": {"title": "y", "mood": "z"}}]}, "unknown"),
        (
            {"title": "T", "steps": [{"title": "x", "prompt": "Why?", "fr": {"title": "y"}}]},
            "prompt",
        ),
        ({"title": "T", "steps": [{"title": "x", "es": {"title": "y"}}]}, "unknown keys"),
        ({"title": "T", "fr": "Atelier", "steps": [{"title": "x"}]}, "fr must be a table"),
        ({"title": "T", "de": {"description": "d"}, "steps": [{"title": "x"}]}, "de needs"),
    ],
)
def test_broken_templates_are_refused_with_a_reason(doc: dict[str, object], problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        parse_template("t", doc)


def test_qr_codes_are_standalone_svg() -> None:
    svg = qr_svg("http://hall.example/join/K7Q2XM?room=abc", "Table 1")
    assert svg.startswith(b"<?xml") and b"<title>Table 1</title>" in svg
    assert len(svg) < 10_000


def test_anyone_of_the_event_but_a_facilitator_can_be_removed_once() -> None:
    fac = person("facilitator", None, "f")
    for target in (person(), person("table_host"), person("observer", None)):
        assert check_removable(fac, target) == target
    assert code_of(lambda: check_removable(fac, None)) == ErrorCode.NOT_FOUND
    stranger = Participant("p9", "e2", "Zed", "participant", "rx")
    assert code_of(lambda: check_removable(fac, stranger)) == ErrorCode.NOT_FOUND
    co_facilitator = person("facilitator", None, "f2")
    assert code_of(lambda: check_removable(fac, co_facilitator)) == ErrorCode.INVALID
    assert code_of(lambda: check_removable(fac, fac)) == ErrorCode.INVALID
    gone = Participant("p1", "e1", "Ana", "participant", None, removed=True)
    assert code_of(lambda: check_removable(fac, gone)) == ErrorCode.CONFLICT
    # Nor moved, nor let in again.
    assert code_of(lambda: check_movable(fac, gone)) == ErrorCode.NOT_FOUND
    assert code_of(lambda: check_not_removed(gone)) == ErrorCode.FORBIDDEN
    check_not_removed(person())


def test_removal_keeps_the_notes_unless_asked() -> None:
    kept = parse_client_frame(frame("people.remove", {"participant": "p1"})).payload
    assert kept.delete_notes is False  # type: ignore[union-attr]
    gone = parse_client_frame(
        frame("people.remove", {"participant": "p1", "delete_notes": True})
    ).payload
    assert gone.delete_notes is True  # type: ignore[union-attr]
