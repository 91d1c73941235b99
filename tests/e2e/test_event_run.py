"""Running an event from the browser: a facilitator loads a format, starts a step, moves a
participant by dragging them to another table, broadcasts, handles a call for help and opens
the plenary screen; the participant's phone follows: the new table, the countdown, the banner.

Runs against the `live_server_fast` fixture, or a server at TABLEE_E2E_URL. Screenshots go to
tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.test_wall import PHONE, _create_event, _join, _post, _shot, browser  # noqa: F401

pytestmark = pytest.mark.browser
CLOCK = re.compile(r"^\d+:\d\d$")


def _card(page: Any, table: str) -> Any:
    return page.get_by_test_id("room").filter(has=page.get_by_role("heading", name=table))


def test_a_facilitator_runs_a_step_and_moves_a_participant(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    console, code = _create_event(browser, event_url, "Town café", errors)
    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    ben = _join(browser, event_url, code, "Ben", "Table 1", errors)
    expect(ana.get_by_test_id("step")).to_contain_text("Waiting for the facilitator")

    # A ready agenda from a format.
    console.get_by_text("Format, steps and seating").click()
    console.get_by_label("Template").select_option("world_cafe")
    console.get_by_role("button", name="Load", exact=True).click()
    steps = console.get_by_test_id("agenda-steps").locator("li")
    expect(steps).to_have_count(5)
    expect(steps.first).to_contain_text("Welcome")

    # Start the first step: every phone shows it with the server's countdown.
    console.get_by_role("button", name="Start Welcome").click()
    step = ana.get_by_test_id("step")
    expect(step).to_contain_text("Welcome")
    expect(step).to_contain_text("Plenary")
    countdown = ana.get_by_test_id("countdown")
    expect(countdown).to_have_text(CLOCK)
    expect(countdown).to_have_text(re.compile(r"^(4:5\d|5:00)$"))
    expect(console.get_by_test_id("agenda").get_by_test_id("countdown")).to_have_text(CLOCK)

    # Drag Ana from Table 1 onto Table 2.
    table_1, table_2 = _card(console, "Table 1"), _card(console, "Table 2")
    chip = table_1.get_by_test_id("person").filter(has_text="Ana")
    expect(chip).to_have_class(re.compile(r"\bonline\b"))
    chip.drag_to(table_2)
    expect(table_2.get_by_test_id("person").filter(has_text="Ana")).to_have_count(1)
    expect(table_1.get_by_test_id("person").filter(has_text="Ana")).to_have_count(0)

    # Her phone follows: the new table, the notice, the countdown still running.
    expect(ana.locator("#room-name")).to_have_text("Table 2")
    expect(ana.get_by_test_id("notice-moved")).to_contain_text("You have been moved to Table 2")
    expect(countdown).to_have_text(CLOCK)
    expect(ana.locator("#members")).not_to_contain_text("Ben")
    expect(ben.locator("#members")).not_to_contain_text("Ana")
    _shot(ana, "event-participant-moved-phone")

    # Without a mouse: the menu beside a name makes Ben the host of Table 1.
    menu = table_1.get_by_test_id("person").filter(has_text="Ben").get_by_test_id("person-menu")
    menu.focus()
    menu.select_option(label="Make table host")
    expect(table_1.get_by_test_id("person").filter(has_text="Ben")).to_contain_text("host")
    expect(ben.locator("#role-line")).to_contain_text("table's host")

    # A note written now belongs to the new table and this step.
    _post(ana, "Start with safer crossings near schools")
    expect(table_2.locator(".note").filter(has_text="safer crossings")).to_have_count(1)
    expect(table_1.locator(".note")).to_have_count(0)

    # A broadcast reaches every phone; a call for help reaches the console until handled.
    console.get_by_role("textbox", name="Broadcast").fill("Five minutes left: agree on one idea")
    console.get_by_role("button", name="Send", exact=True).click()
    expect(ben.get_by_test_id("notice-broadcast")).to_contain_text("Five minutes left")
    expect(ana.get_by_test_id("notice-broadcast")).to_contain_text("Five minutes left")
    ana.get_by_test_id("help").click()
    expect(ana.get_by_test_id("help")).to_have_text("Help is on its way")
    flag = table_2.get_by_test_id("help-flag")
    expect(flag).to_contain_text("Help! Ana")
    expect(console.get_by_test_id("help-calls")).to_contain_text("Help needed (1)")
    _shot(console, "event-console-desktop", full_page=True)
    flag.get_by_test_id("help-handled").click()
    expect(flag).to_be_hidden()
    expect(ana.get_by_test_id("help")).to_have_text("We need help")

    # More time, then the next round; the step's own wall starts empty.
    console.get_by_test_id("extend").click()
    expect(countdown).to_have_text(re.compile(r"^(5:5\d|6:00)$"))
    console.get_by_role("button", name="Start Round 1").click()
    expect(step).to_contain_text("Round 1")
    expect(step).to_contain_text("At your table")
    expect(ana.get_by_test_id("notes").locator(".note")).to_have_count(0)
    ana.get_by_label("Show notes from earlier steps").check()
    expect(ana.get_by_test_id("notes").locator(".note")).to_have_count(1)
    _shot(ana, "event-participant-round-phone")

    # Themes say which step raised them, the running step's first.
    for text in [
        "Safer crossings near schools with a lollipop person",
        "Protected bike lanes on every main road",
        "Safer crossings near schools need lights",
        "Protected bike lanes away from parked cars",
        "Safer crossings near schools and slower cars",
        "Protected bike lanes to the station",
    ]:
        _post(ana, text)
    themes = console.get_by_test_id("themes-panel")
    expect(themes.get_by_test_id("themes-summary")).to_contain_text("in Round 1", timeout=30_000)
    crossings = themes.locator(".theme").filter(has_text="Welcome (1)")
    expect(crossings.locator(".theme-steps")).to_have_text("Written in Round 1 (3), Welcome (1)")
    expect(crossings).to_contain_text("3 in this step")

    # Mixing the tables keeps listed groups together; Ben hosts Table 1, so Ana joins him.
    console.get_by_label("Keep together").fill("ana, Ben")
    console.get_by_label("How to mix the tables").select_option("random")
    console.get_by_role("button", name="Mix now").click()
    expect(table_1.get_by_test_id("person")).to_have_count(2)
    expect(ana.locator("#room-name")).to_have_text("Table 1")

    # The plenary screen shows the step and its timer on the projector.
    console.get_by_role("button", name="Open a plenary screen").click()
    link = console.get_by_test_id("screen-link")
    expect(link).to_have_attribute("href", re.compile(r"/plenary\.html#code=.+&token=.+"))
    screen = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    screen.on("pageerror", lambda exc: errors.append(f"screen: {exc}"))
    screen.goto(link.get_attribute("href"))
    expect(screen.get_by_test_id("step")).to_contain_text("Round 1")
    expect(screen.get_by_test_id("countdown")).to_have_text(CLOCK)
    expect(screen.get_by_test_id("themes-summary")).to_contain_text("in Round 1")
    expect(screen.locator(".theme-steps").filter(has_text="Welcome (1)")).to_have_count(1)
    assert "token=" not in screen.url
    # Beside it, how to join for whoever arrives late: the join page's QR code, the address
    # to type, the code.
    join = screen.get_by_test_id("screen-join")
    expect(join.get_by_test_id("join-code")).to_have_text(code)
    expect(join.get_by_test_id("join-address")).to_have_text(urlsplit(event_url).netloc)
    expect(join.get_by_role("img", name="QR code to join: scan it with your phone")).to_be_visible()
    assert join.locator("img").evaluate("(img) => img.complete && img.naturalWidth >= 150")
    _shot(screen, "event-plenary-screen")
    assert errors == []


def test_a_table_qr_code_lands_a_phone_at_that_table(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    console, _ = _create_event(browser, event_url, "Hall and online", errors)
    table_3 = _card(console, "Table 3")
    table_3.get_by_role("button", name="QR codes").click()
    dialog = console.locator("#qr-dialog")
    expect(dialog.get_by_role("img", name="QR code: Join this table")).to_be_visible()
    host_link = dialog.get_by_role("link").filter(has_text="as=host")
    href = host_link.get_attribute("href")
    assert href and "room=" in href
    _shot(console, "event-console-qr")
    dialog.get_by_role("button", name="Close").click()

    phone = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True).new_page()
    phone.on("pageerror", lambda exc: errors.append(f"host: {exc}"))
    phone.goto(href)
    expect(phone.get_by_test_id("scanned-table")).to_contain_text("Table 3 as its table host")
    phone.get_by_label("Your first name or a pseudonym").fill("Hall table 3")
    phone.get_by_role("button", name="Join the table").click()
    expect(phone.locator("#room-name")).to_have_text("Table 3")
    expect(phone.locator("#role-line")).to_contain_text("table's host")
    _post(phone, "The hall says: more buses at night")
    note = table_3.locator(".note").filter(has_text="more buses")
    expect(note.locator(".note-table")).to_have_text("for the table")
    expect(table_3.get_by_test_id("person").filter(has_text="Hall table 3")).to_contain_text("host")
    _shot(phone, "event-table-host-phone")
    assert errors == []
