"""A question: a facilitator adds a step that asks everyone at the tables to choose one answer.
Phones answer and change their answer; the console follows how the answers fall while the
plenary screen shows only how many have answered; when the step ends every phone and the
screen show the result.

Runs against the `live_server_fast` fixture, or a server at TABLEE_E2E_URL.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_wall import _create_event, _join, _open_screen, _shot, browser  # noqa: F401

pytestmark = pytest.mark.browser

CHOICES = ["Very concerned", "A little concerned", "Not concerned"]
PROMPT = "How concerned are you about the climate?"


def _ask(console: Any) -> None:
    """Add the question step to the console's agenda."""
    from playwright.sync_api import expect

    console.get_by_text("Format, steps and seating").click()
    form = console.get_by_role("form", name="Add a step")
    form.get_by_label("New step").fill("Vote")
    form.get_by_label("Prompt", exact=True).fill(PROMPT)
    form.get_by_label("Minutes").fill("10")
    form.get_by_test_id("step-choices").fill("\n".join(CHOICES) + "\n")
    form.get_by_role("button", name="Add step").click()
    expect(console.get_by_test_id("agenda-steps").locator("li")).to_have_count(1)


def test_everyone_answers_and_sees_the_result_when_the_step_ends(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    console, code = _create_event(browser, event_url, "Climate assembly", errors)
    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    ben = _join(browser, event_url, code, "Ben", "Table 2", errors)
    cleo = _join(browser, event_url, code, "Cléo", "Table 2", errors)

    _ask(console)
    step = console.get_by_test_id("agenda-steps").locator("li")
    expect(step).to_contain_text("question, 3 choices")
    expect(ana.get_by_test_id("question")).to_be_hidden()

    screen = _open_screen(browser, console, errors)

    console.get_by_role("button", name="Start Vote").click()
    expect(ana.get_by_test_id("step")).to_contain_text(PROMPT)
    question = ana.get_by_test_id("question")
    choices = question.get_by_test_id("choice")
    expect(choices).to_have_text(CHOICES)

    choices.nth(1).click()
    expect(choices.nth(1)).to_have_attribute("aria-checked", "true")
    expect(ana.get_by_test_id("question-status")).to_contain_text("A little concerned")
    # Changed: one answer per person, the latest.
    choices.nth(0).click()
    expect(choices.nth(0)).to_have_attribute("aria-checked", "true")
    expect(choices.nth(1)).to_have_attribute("aria-checked", "false")
    ben.get_by_test_id("question").get_by_test_id("choice").nth(0).click()
    cleo_choices = cleo.get_by_test_id("question").get_by_test_id("choice")
    cleo_choices.nth(2).click()
    expect(cleo_choices.nth(2)).to_have_attribute("aria-checked", "true")

    # The console sees how they fall, overall and by table.
    tally = console.get_by_test_id("console-question")
    expect(tally.get_by_test_id("question-answered")).to_contain_text("3 of 3")
    bars = tally.get_by_test_id("result-bar")
    expect(bars.nth(0)).to_have_attribute("data-count", "2")
    expect(bars.nth(2)).to_have_attribute("data-count", "1")
    tally.get_by_text("By table").click()
    expect(tally.locator("tbody tr")).to_have_count(2)
    _shot(console, "question-console", full_page=True)
    # The room sees only how many have answered, never how, until the step ends.
    expect(screen.get_by_test_id("question-progress")).to_have_text("3 of 3 have answered")
    expect(screen.get_by_test_id("result-bars")).to_have_count(0)
    expect(ana.get_by_test_id("question-result")).to_have_count(0)

    # A reload keeps the answer given.
    ana.reload()
    expect(ana.get_by_test_id("question").get_by_test_id("choice").nth(0)).to_have_attribute(
        "aria-checked", "true"
    )
    _shot(ana, "question-phone")

    # Withdrawn, it no longer counts.
    cleo.get_by_test_id("withdraw").click()
    expect(cleo_choices.nth(2)).to_have_attribute("aria-checked", "false")
    expect(tally.get_by_test_id("question-answered")).to_contain_text("2 of 3")

    console.get_by_role("button", name="End step").click()
    for page in (ana, ben, cleo):
        result = page.get_by_test_id("question-result")
        expect(result).to_contain_text("Results")
        expect(result.get_by_test_id("result-bar").nth(0)).to_have_attribute("data-count", "2")
        expect(result).to_contain_text("2 answers")
        expect(page.get_by_test_id("question")).to_have_count(0)
    expect(screen.get_by_test_id("result-bars")).to_be_visible()
    expect(screen.get_by_test_id("result-bar").nth(0)).to_contain_text("Very concerned")
    expect(screen.get_by_test_id("result-bar").nth(0)).to_contain_text("2 · 100%")
    _shot(screen, "question-screen")
    expect(tally.get_by_test_id("question-answered")).to_contain_text("closed")

    # A phone that opens after the close asks for the result itself.
    ben.reload()
    expect(ben.get_by_test_id("question-result")).to_contain_text("2 answers")

    # The answers as a spreadsheet: one row each, with its table, never its author.
    with console.expect_download() as download:
        console.get_by_role("button", name="Answers (CSV)").click()
    saved = Path(download.value.path()).read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(saved)))
    assert sorted((r[2], r[4]) for r in rows[1:]) == [
        ("Table 1", "Very concerned"),
        ("Table 2", "Very concerned"),
    ]
    assert "Ana" not in saved and "Ben" not in saved
    assert not errors, errors


def _focus_in(scope: Any) -> bool:
    return bool(scope.evaluate("(el) => el.contains(document.activeElement)"))


def test_the_choices_are_a_radio_group_answered_with_the_keyboard(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    """One tab stop for the choices, on the one chosen; the arrows choose the next or the
    previous, round the end; Space chooses the focused one; the focus stays in the group
    after each answer; quick presses end on the last choice, on the phone and the console,
    with one answer on the wire at a time."""
    from playwright.sync_api import expect

    errors: list[str] = []
    console, code = _create_event(browser, event_url, "Keyboard vote", errors)
    _ask(console)
    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    # Ana's socket passes through here, so her page's frames can be counted and held back.
    sent: list[str] = []
    held: list[tuple[Any, str]] = []
    holding = [False]

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def up(message: str) -> None:
            sent.append(json.loads(message)["type"])
            server.send(message)

        def down(message: str) -> None:
            if holding[0]:
                held.append((ws, message))
            else:
                ws.send(message)

        ws.on_message(up)
        server.on_message(down)

    ana.context.route_web_socket(re.compile(r"/ws$"), route)
    ana.reload()
    expect(ana.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    console.get_by_role("button", name="Start Vote").click()

    group = ana.get_by_role("radiogroup", name=PROMPT)
    choices = group.get_by_role("radio")
    expect(choices).to_have_text(CHOICES)
    status = ana.get_by_test_id("question-status")
    tally = console.get_by_test_id("console-question")
    answered = tally.get_by_test_id("question-answered")
    bars = tally.get_by_test_id("result-bar")

    def chosen(i: int) -> None:
        """Choice `i` alone is checked, has the focus, is the group's tab stop and is saved;
        the console counts it."""
        for j in range(len(CHOICES)):
            expect(choices.nth(j)).to_have_attribute("aria-checked", str(i == j).lower())
            expect(choices.nth(j)).to_have_attribute("tabindex", "0" if i == j else "-1")
            expect(bars.nth(j)).to_have_attribute("data-count", "1" if i == j else "0")
        expect(status).to_contain_text(f"Your answer: {CHOICES[i]}.")
        expect(choices.nth(i)).to_be_focused()
        expect(choices.nth(i)).to_be_enabled()
        expect(answered).to_contain_text("1 of 1")

    # Nothing chosen yet: Tab enters the group on its first choice, and the next Tab leaves it.
    for _ in range(40):
        ana.keyboard.press("Tab")
        if _focus_in(group):
            break
    expect(choices.nth(0)).to_be_focused()
    expect(choices.nth(0)).to_have_attribute("aria-checked", "false")
    ana.keyboard.press("Tab")
    assert not _focus_in(group), "the group has more than one tab stop"
    ana.keyboard.press("Shift+Tab")
    expect(choices.nth(0)).to_be_focused()

    ana.keyboard.press("Space")
    chosen(0)
    ana.keyboard.press("ArrowDown")
    chosen(1)
    ana.keyboard.press("ArrowRight")
    chosen(2)
    ana.keyboard.press("ArrowDown")  # round from the last to the first
    chosen(0)
    ana.keyboard.press("ArrowUp")  # and from the first to the last
    chosen(2)
    ana.keyboard.press("Home")
    chosen(0)
    ana.keyboard.press("End")
    chosen(2)

    # Back into the group from what follows it, the focus lands on the choice made.
    ana.keyboard.press("Tab")
    withdraw = ana.get_by_test_id("withdraw")
    expect(withdraw).to_be_focused()
    ana.keyboard.press("Shift+Tab")
    expect(choices.nth(2)).to_be_focused()
    # Withdrawn with the keyboard: the focus goes back to the group, on its first choice.
    ana.keyboard.press("Tab")
    ana.keyboard.press("Enter")
    expect(answered).to_contain_text("0 of 1")
    expect(group.locator("[aria-checked=true]")).to_have_count(0)
    expect(choices.nth(0)).to_be_focused()
    expect(choices.nth(0)).to_have_attribute("tabindex", "0")
    ana.keyboard.press("Space")
    chosen(0)

    # Five presses while the first answer is on its way: the page shows each at once, and
    # only the last is sent after it, so phone and server end on the same choice.
    sent.clear()
    holding[0] = True
    for _ in range(5):  # 0 → 1 → 2 → 0 → 1 → 2
        ana.keyboard.press("ArrowDown")
    expect(choices.nth(2)).to_have_attribute("aria-checked", "true")
    expect(choices.nth(2)).to_be_focused()
    expect(status).to_contain_text(f"Your answer: {CHOICES[0]}.")  # not saved yet
    assert sent.count("answer.set") == 1, sent
    holding[0] = False
    for ws, message in held:
        ws.send(message)
    chosen(2)
    assert sent.count("answer.set") == 2, sent

    # And quick presses with nothing held back.
    for key in ("ArrowUp", "ArrowUp", "ArrowUp", "ArrowUp"):  # 2 → 1 → 0 → 2 → 1
        ana.keyboard.press(key)
    chosen(1)
    ana.reload()  # the server holds it too
    expect(choices.nth(1)).to_have_attribute("aria-checked", "true")
    expect(bars.nth(1)).to_have_attribute("data-count", "1")

    # The step ends: the group is gone, the result shown.
    console.get_by_role("button", name="End step").click()
    expect(ana.get_by_test_id("question")).to_have_count(0)
    expect(
        ana.get_by_test_id("question-result").get_by_test_id("result-bar").nth(1)
    ).to_have_attribute("data-count", "1")
    assert not errors, errors


def test_a_count_made_before_the_close_does_not_reopen_the_question(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    """Two server processes can deliver an open tally after the closing result: the console
    and the plenary screen keep the one counted under the later agenda."""
    page = browser.new_page()
    try:
        page.goto(event_url + "/")
        shown = page.evaluate(
            """async () => {
                const { mountConsoleQuestion, mountScreenQuestion } =
                    await import("/js/views/question.js");
                const step = { id: "q", title: "Vote", prompt: "Concerned?",
                               choices: ["Yes", "No"] };
                const state = { step, live: false, agenda: { current: { step: "q" } },
                                subscribe() {} };
                const socket = { request: () => new Promise(() => {}) };
                const tally = (open, version, counts) => ({ step: "q", choices: ["Yes", "No"],
                    counts, answered: counts[0] + counts[1], eligible: 4,
                    rooms: [], open, agenda_version: version });
                const closed = tally(false, 7, [2, 1]);
                const stale = tally(true, 6, [1, 1]);
                const rerun = tally(true, 8, [2, 2]);
                const consoleRoot = document.createElement("div");
                const console_ = mountConsoleQuestion(consoleRoot,
                    { socket, state, roomName: () => "Table" });
                const screenRoot = document.createElement("div");
                const screen = mountScreenQuestion(screenRoot, { socket, state });
                const seen = [];
                for (const t of [closed, stale, rerun]) {
                    console_.update(t);
                    screen.showResult(t);
                    seen.push([consoleRoot.querySelector("[data-testid=question-answered]")
                        .textContent, screenRoot.querySelector(".result-bars") !== null]);
                }
                return seen;
            }"""
        )
    finally:
        page.close()
    assert shown[0] == ["3 of 4 at the tables have answered · closed", True]
    assert shown[1] == shown[0], "the stale open count replaced the result"
    # The step run again (a later agenda) opens it again.
    assert shown[2] == [
        "4 of 4 at the tables have answered · hidden from the room until the step ends",
        False,
    ]
