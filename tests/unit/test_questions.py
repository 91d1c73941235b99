"""Question steps, the pure parts: choices, the Step on the wire, who answers when, the tally
and who sees its counts, templates in three languages, and the report's section."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from server import agenda as rules
from server.agenda import Agenda, Step
from server.answers import (
    Answer,
    check_answer,
    check_can_answer,
    closed_question,
    question,
    sees_counts,
    tally,
)
from server.event_messages import clean_choices
from server.protocol import ErrorCode, ProtocolError, Role, parse_client_frame
from server.report import themes_markdown
from server.rooms import Participant
from server.templates import TemplateError, load_templates, parse_template

T0 = 1_000_000.0
CHOICES = ("Very", "A little", "Not at all")
ASK = Step("q", "Vote", "How concerned are you?", "breakouts", 300, choices=CHOICES)
TALK = Step("t", "Talk", "Why?", "breakouts", 600)


def agenda() -> Agenda:
    return rules.set_steps(Agenda("e1"), (TALK, ASK))


def code_of(call: object) -> str:
    with pytest.raises(ProtocolError) as info:
        call()  # type: ignore[operator]
    return info.value.code


def person(role: Role = "participant", room: str | None = "r1") -> Participant:
    return Participant("p1", "e1", "Ana", role, room)


def step_frame(step: dict[str, object]) -> str:
    payload = {"steps": [{"title": "Vote", **step}]}
    return json.dumps({"v": 1, "type": "agenda.set", "ref": "r", "payload": payload})


# choices ------------------------------------------------------------------------------------


def test_choices_are_trimmed_and_none_means_no_question() -> None:
    assert clean_choices([]) == []
    assert clean_choices(["  Yes ", "No", " Don't know"]) == ["Yes", "No", "Don't know"]
    parsed = parse_client_frame(step_frame({"choices": [" Yes", "No "]}))
    assert parsed.payload.steps[0].choices == ["Yes", "No"]  # type: ignore[union-attr]
    assert parse_client_frame(step_frame({})).payload.steps[0].choices == []  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("choices", "problem"),
    [
        (["Only one"], "2 to 8 choices"),
        ([f"c{i}" for i in range(9)], "2 to 8 choices"),
        (["Yes", "   "], "1 to 80 characters"),
        (["Yes", "x" * 81], "1 to 80 characters"),
        (["Yes", " yes "], "the same"),
        (["Oui", "OUI", "Non"], "the same"),
    ],
)
def test_bad_choices_are_refused_with_a_reason(choices: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        clean_choices(choices)
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(step_frame({"choices": choices}))
    assert info.value.code == ErrorCode.INVALID
    assert "steps.0.choices" in info.value.message and problem in info.value.message


@pytest.mark.parametrize("choices", ["Yes,No", [1, 2], ["Yes", None], [True, False]])
def test_choices_are_a_list_of_texts(choices: object) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(step_frame({"choices": choices}))
    assert info.value.code == ErrorCode.INVALID


def test_an_answer_is_a_whole_number_or_null() -> None:
    def answer(choice: object) -> str:
        payload = {"step": "q", "choice": choice}
        return json.dumps({"v": 1, "type": "answer.set", "payload": payload})

    assert parse_client_frame(answer(2)).payload.choice == 2  # type: ignore[union-attr]
    assert parse_client_frame(answer(None)).payload.choice is None  # type: ignore[union-attr]
    for bad in (True, "1", 1.0, [1]):
        assert code_of(lambda bad=bad: parse_client_frame(answer(bad))) == ErrorCode.INVALID
    missing = json.dumps({"v": 1, "type": "answer.set", "payload": {"step": "q"}})
    assert code_of(lambda: parse_client_frame(missing)) == ErrorCode.INVALID
    tally_ = json.dumps({"v": 1, "type": "answers.tally", "payload": {"step": "q"}})
    assert parse_client_frame(tally_).payload.step == "q"  # type: ignore[union-attr]


# the step and its agenda -----------------------------------------------------------------


def test_a_question_goes_on_the_wire_with_its_choices() -> None:
    wire = agenda().to_wire(T0)
    assert wire["steps"][0]["choices"] == []
    assert wire["steps"][1] == {
        "id": "q",
        "title": "Vote",
        "prompt": "How concerned are you?",
        "mode": "breakouts",
        "duration": 300,
        "assign": "keep",
        "recall": True,
        "topics": False,
        "votes": 0,
        "choices": ["Very", "A little", "Not at all"],
    }


def test_the_open_questions_choices_cannot_change_but_a_closed_ones_can() -> None:
    running = rules.start(agenda(), "q", T0)
    other = Step("q", "Vote", "How concerned are you?", "breakouts", 300, choices=("Yes", "No"))
    with pytest.raises(ProtocolError) as refused:
        rules.set_steps(running, (TALK, other))
    assert refused.value.code == ErrorCode.CONFLICT
    assert refused.value.message == "the question is open: end the step before changing its choices"
    # Paused, it is still open.
    paused = rules.pause(running, T0 + 1)
    assert code_of(lambda: rules.set_steps(paused, (TALK, other))) == ErrorCode.CONFLICT
    # A running step cannot become a question, nor stop being one.
    talking = rules.start(agenda(), "t", T0)
    asked = Step("t", "Talk", "Why?", "breakouts", 600, choices=("Yes", "No"))
    assert code_of(lambda: rules.set_steps(talking, (asked, ASK))) == ErrorCode.CONFLICT
    # Its title may change; other steps' choices may change.
    renamed = rules.set_steps(running, (TALK, Step("q", "Poll", choices=CHOICES)))
    assert renamed.current is not None and renamed.current.title == "Poll"
    assert rules.set_steps(talking, (TALK, other)).step("q") == other
    ended, _ = rules.end(running, T0 + 5)
    assert rules.set_steps(ended, (TALK, other)).step("q") == other


def test_answers_are_taken_while_the_question_runs_or_is_paused() -> None:
    listed = agenda()
    assert code_of(lambda: check_answer(listed, "q", 0)) == ErrorCode.CLOSED
    running = rules.start(listed, "q", T0)
    assert check_answer(running, "q", 2) == ASK
    assert check_answer(running, "q", None) == ASK
    assert check_answer(rules.pause(running, T0 + 1), "q", 0) == ASK
    assert code_of(lambda: check_answer(running, "nope", 0)) == ErrorCode.NOT_FOUND
    assert code_of(lambda: check_answer(running, "t", 0)) == ErrorCode.INVALID
    assert code_of(lambda: check_answer(running, "q", 3)) == ErrorCode.INVALID
    assert code_of(lambda: check_answer(running, "q", -1)) == ErrorCode.INVALID
    ended, _ = rules.end(running, T0 + 2)
    with pytest.raises(ProtocolError) as closed:
        check_answer(ended, "q", 0)
    assert closed.value.code == ErrorCode.CLOSED
    assert closed.value.message == "answers to this question are closed"
    other = rules.start(running, "t", T0 + 3)
    assert code_of(lambda: check_answer(other, "q", 0)) == ErrorCode.CLOSED
    assert question(other, "q") == ASK
    assert code_of(lambda: question(other, "t")) == ErrorCode.INVALID


def test_the_people_at_the_tables_answer() -> None:
    check_can_answer(person())
    check_can_answer(person("table_host"))
    for role in ("facilitator", "observer"):
        assert code_of(lambda role=role: check_can_answer(person(role, None))) == "forbidden"
    assert code_of(lambda: check_can_answer(person("participant", None))) == "forbidden"
    gone = Participant("p1", "e1", "Ana", "participant", None, removed=True)
    assert code_of(lambda: check_can_answer(gone)) == "forbidden"


def test_a_question_closes_when_its_step_stops_being_the_live_one() -> None:
    listed = agenda()
    running = rules.start(listed, "q", T0)
    assert closed_question(listed, running) is None
    paused = rules.pause(running, T0 + 1)
    assert closed_question(running, paused) is None
    assert closed_question(paused, rules.resume(paused, T0 + 2)) is None
    assert closed_question(running, rules.start(running, "q", T0 + 3)) is None  # run again
    assert closed_question(running, rules.end(running, T0 + 4)[0]) == ASK
    assert closed_question(paused, rules.end(paused, T0 + 4)[0]) == ASK
    assert closed_question(running, rules.start(running, "t", T0 + 5)) == ASK
    timed_out, effects = rules.tick(running, T0 + 300)
    assert effects and closed_question(running, timed_out) == ASK
    # A step without choices closes no question.
    talking = rules.start(listed, "t", T0)
    assert closed_question(talking, rules.end(talking, T0 + 1)[0]) is None


# the tally -------------------------------------------------------------------------------


def test_the_tally_counts_each_choice_and_each_table_in_room_order() -> None:
    answers = [
        Answer("r2", 0),
        Answer("r1", 2),
        Answer("r2", 0),
        Answer("r3", 1),
        Answer(None, 1),  # their table was deleted since: counted, at no table
        Answer("r2", 2),
    ]
    counted = tally(
        ASK, answers, ["r1", "r2", "r9", "r3"], eligible=9, open_=False, agenda_version=7
    )
    assert counted.counts == (2, 2, 2) and counted.answered == 6
    assert counted.to_wire() == {
        "step": "q",
        "choices": ["Very", "A little", "Not at all"],
        "counts": [2, 2, 2],
        "answered": 6,
        "eligible": 9,
        "rooms": [
            {"room": "r1", "counts": [0, 0, 1]},
            {"room": "r2", "counts": [2, 0, 1]},
            {"room": "r3", "counts": [0, 1, 0]},
        ],
        "open": False,
        "agenda_version": 7,
    }
    empty = tally(ASK, [], ["r1"], eligible=4, open_=True)
    assert empty.to_wire()["counts"] == [0, 0, 0] and empty.to_wire()["rooms"] == []


def test_while_open_only_facilitators_see_the_counts() -> None:
    open_ = tally(ASK, [Answer("r1", 0)], ["r1"], eligible=3, open_=True)
    assert sees_counts(person("facilitator", None), open_)
    for role in ("participant", "table_host", "observer"):
        assert not sees_counts(person(role), open_)
    hidden = open_.to_wire(full=False)
    assert hidden == {
        "step": "q",
        "choices": list(CHOICES),
        "counts": None,
        "answered": 1,
        "eligible": 3,
        "rooms": None,
        "open": True,
        "agenda_version": 0,
    }
    closed = tally(ASK, [Answer("r1", 0)], ["r1"], eligible=3, open_=False)
    assert all(sees_counts(person(role), closed) for role in ("participant", "observer"))


# templates -------------------------------------------------------------------------------


def test_the_world_wide_views_session_asks_questions_in_every_language() -> None:
    template = load_templates()["world_wide_views"]
    titles = [s.title for s in template.steps]
    concerned = titles.index("Vote: how concerned are you?")
    assert titles[concerned - 1] == "Session 1: what is at stake"
    step = template.steps[concerned]
    assert step.prompt == "How concerned are you about this issue?"
    assert step.choices == (
        "Very concerned",
        "Moderately concerned",
        "A little concerned",
        "Not concerned",
        "Don't know",
    )
    assert (step.mode, step.assign, step.duration, step.recall) == ("breakouts", "keep", 300, False)
    questions = [s for s in template.steps if s.choices]
    assert len(questions) == 2
    summary = template.summary()["steps"][concerned]
    assert summary["choices"] == list(step.choices)
    for code in ("fr", "de"):
        made = template.instantiate(lambda: "x", code)
        for english, shown in zip(template.steps, made, strict=True):
            assert len(shown.choices) == len(english.choices)
            if english.choices:
                assert shown.choices != english.choices, (code, english.title)
    assert template.instantiate(lambda: "x", "fr")[concerned].choices[-1] == "Je ne sais pas"
    assert template.instantiate(lambda: "x", "de")[concerned].choices[0] == "Sehr besorgt"
    assert template.instantiate(lambda: "x", "en")[concerned].choices == step.choices


def test_every_shipped_question_has_its_choices_in_every_language() -> None:
    for name, template in load_templates().items():
        for i, step in enumerate(template.steps):
            if step.choices:
                for code in ("fr", "de"):
                    shown = template.translations[i][code].choices
                    assert shown != step.choices, (name, step.title, code)


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ({"choices": ["Yes"]}, "2 to 8 choices"),
        ({"choices": ["Yes", "YES"]}, "the same"),
        ({"choices": "Yes, No"}, "list of texts"),
        ({"choices": ["Yes", 2]}, "list of texts"),
        ({"choices": ["Yes", "No"], "fr": {"title": "Vote", "choices": ["Oui"]}}, "2 to 8"),
        (
            {"choices": ["Yes", "No"], "fr": {"title": "Vote", "choices": ["Oui", "Non", "?"]}},
            "as many choices",
        ),
        ({"de": {"title": "Wahl", "choices": ["Ja", "Nein"]}}, "as many choices"),
    ],
)
def test_broken_questions_in_templates_are_refused(step: dict[str, object], problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        parse_template("t", {"title": "T", "steps": [{"title": "Vote", **step}]})


def test_a_templates_translated_choices_replace_the_english_ones() -> None:
    doc = {
        "title": "T",
        "steps": [
            {
                "title": "Vote",
                "choices": ["Yes", "No"],
                "fr": {"title": "Vote", "choices": [" Oui", "Non "]},
            }
        ],
    }
    template = parse_template("t", doc)
    assert template.instantiate(lambda: "x", "fr")[0].choices == ("Oui", "Non")
    assert template.instantiate(lambda: "x", "de")[0].choices == ("Yes", "No")  # none given


# the report --------------------------------------------------------------------------------

ROOMS = {"r1": "Table 1", "r2": "Table | 2", "r3": "Table 3"}
MADE = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)


def test_the_report_gives_each_questions_shares_and_tables() -> None:
    counted = tally(
        ASK,
        [Answer("r2", 0), Answer("r1", 0), Answer("r2", 1), Answer("r1", 0), Answer("r2", 0)],
        list(ROOMS),
        eligible=6,
        open_=False,
    )
    nobody = Step("n", "Poll *two*", "", choices=("Yes", "No"))
    silent = tally(nobody, [], list(ROOMS), eligible=6, open_=False)
    report = themes_markdown("Jury", [], None, ROOMS, MADE, [(ASK, counted), (nobody, silent)])
    lines = report.splitlines()
    start = lines.index("## Questions")
    assert lines[start : start + 24] == [
        "## Questions",
        "",
        "### Vote",
        "",
        "How concerned are you?",
        "",
        "| choice | answers | share |",
        "| --- | ---: | ---: |",
        "| Very | 4 | 80.0% |",
        "| A little | 1 | 20.0% |",
        "| Not at all | 0 | 0.0% |",
        "",
        "5 answers.",
        "",
        "By table:",
        "",
        "| table | Very | A little | Not at all |",
        "| --- | ---: | ---: | ---: |",
        "| Table 1 | 2 | 0 | 0 |",
        "| Table \\| 2 | 2 | 1 | 0 |",
        "",
        "### Poll \\*two\\*",
        "",
        "| choice | answers | share |",
    ]
    assert "0 answers." in lines and "Table 3" not in report


def test_a_report_without_questions_has_no_questions_section() -> None:
    assert "## Questions" not in themes_markdown("Jury", [], None, ROOMS, MADE)
    open_ = tally(ASK, [Answer("r1", 2)], list(ROOMS), eligible=2, open_=True)
    still = themes_markdown("Jury", [], None, ROOMS, MADE, [(ASK, open_)])
    assert "1 answer (still open)." in still.splitlines()
    assert "| Not at all | 1 | 100.0% |" in still.splitlines()


def test_an_open_questions_counts_stay_out_of_a_report_for_anyone_but_facilitators() -> None:
    open_ = tally(ASK, [Answer("r1", 2), Answer("r2", 0)], list(ROOMS), eligible=3, open_=True)
    shown = themes_markdown("Jury", [], None, ROOMS, MADE, [(ASK, open_)], open_counts=False)
    lines = shown.splitlines()
    assert "Still open: 2 answers so far; the result is given when it closes." in lines
    assert "| choice | answers | share |" not in lines and "By table:" not in lines
    closed = tally(ASK, [Answer("r1", 2)], list(ROOMS), eligible=3, open_=False)
    after = themes_markdown("Jury", [], None, ROOMS, MADE, [(ASK, closed)], open_counts=False)
    assert "| Not at all | 1 | 100.0% |" in after.splitlines()
