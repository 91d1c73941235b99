"""The web client in a real browser against a real server.

A facilitator creates an event, two participants sit at the same table on phone-sized pages,
notes travel live between them and to the facilitator's console, themes appear, and a note
typed while offline arrives exactly once when the network comes back.

Runs against the `live_server` fixture (the real model; with TABLEE_EMBEDDING_MODEL=hashing in
the environment it uses the fast hashing embedder instead), or against a server already running
at TABLEE_E2E_URL (e.g. `TABLEE_E2E_URL=http://127.0.0.1:8765 pytest -m browser`).
Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
THEMES_TIMEOUT_MS = 120_000  # the first theme run may load the embedding model

BIKE_NOTES = [
    "We need protected bike lanes on the main road to the station",
    "Bike lanes should be separated from car traffic with a kerb",
    "More bike parking and safe bike lanes near every school",
    "Painted bike lanes are not enough, cyclists need real protection from traffic",
    "Connect the bike lanes into one network across the town",
    "Fix the potholes in the bike lanes, riding a bike there is dangerous",
]
MEAL_NOTES = [
    "School meals should use fresh local vegetables",
    "Free school meals for every child, not only the poorest families",
    "Children need healthier school meals with less sugar",
    "School canteens should cook meals on site instead of reheating them",
    "Let pupils help choose the school meals menu",
    "School meals should offer a vegetarian option every day",
]


@pytest.fixture(scope="module")
def base_url(request: pytest.FixtureRequest) -> str:
    url = os.environ.get("TABLEE_E2E_URL")
    if url:
        return url.rstrip("/")
    return str(request.getfixturevalue("live_server").url).rstrip("/")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _watch_errors(page: Any, errors: list[str], who: str) -> None:
    page.on("pageerror", lambda exc: errors.append(f"{who}: {exc}"))


def _create_event(
    browser: Any,
    base_url: str,
    title: str,
    errors: list[str],
    shot: str | None = None,
    route: Callable[[Any], None] | None = None,
) -> tuple[Any, str]:
    """The facilitator's page, on the console, and the event's join code; `route` handles
    the page's WebSockets (Playwright's WebSocketRoute) to see or drop frames."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=DESKTOP)
    if route is not None:
        context.route_web_socket(re.compile(r"/ws$"), route)
    page = context.new_page()
    _watch_errors(page, errors, "facilitator")
    page.goto(base_url + "/")
    if shot:
        page.set_viewport_size(PHONE)
        _shot(page, shot, full_page=True)
        page.set_viewport_size(DESKTOP)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Tables").fill("3")
    page.get_by_label("Seats per table").fill("8")
    page.get_by_label("Your name, as facilitator").fill("Fran")
    page.get_by_role("button", name="Create the event").click()
    page.wait_for_url("**/facilitate.html*")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    expect(page.get_by_test_id("room")).to_have_count(3)
    code = page.get_by_test_id("join-code").inner_text().strip()
    assert len(code) >= 4
    expect(page.get_by_test_id("join-link")).to_have_attribute("href", f"{base_url}/join/{code}")
    return page, code


def _join(
    browser: Any,
    base_url: str,
    code: str,
    name: str,
    table: str,
    errors: list[str],
    shot: str | None = None,
) -> Any:
    """A participant on a phone-sized page, seated at `table`, with the wall live."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    _watch_errors(page, errors, name)
    page.goto(f"{base_url}/join/{code}")
    page.get_by_label("Your first name or a pseudonym").fill(name)
    page.get_by_label(table, exact=False).first.check()
    if shot:
        _shot(page, shot, full_page=True)
    page.get_by_role("button", name="Join the table").click()
    expect(page.locator("#room-name")).to_have_text(table)
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    return page


def _post(page: Any, text: str) -> None:
    from playwright.sync_api import expect

    page.get_by_label("Your note").fill(text)
    page.get_by_role("button", name="Post note").click()
    expect(page.get_by_test_id("waiting")).to_be_hidden()


def _open_screen(browser: Any, console: Any, errors: list[str]) -> Any:
    """The plenary screen, opened from a new context with the link the console makes (the
    console's own window for it closed), once the link holds its token."""
    from playwright.sync_api import expect

    with console.context.expect_page() as opened:
        console.get_by_role("button", name="Open a plenary screen").click()
    opened.value.close()
    link = console.get_by_test_id("screen-link")
    expect(link).to_have_attribute("href", re.compile(r"/plenary\.html#code=.+&token=.+"))
    screen = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    screen.on("pageerror", lambda exc: errors.append(f"screen: {exc}"))
    screen.goto(link.get_attribute("href"))
    expect(screen.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    return screen


def _shot(page: Any, name: str, full_page: bool = False) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=full_page, animations="disabled")


def _note(scope: Any, text: str) -> Any:
    """The note cards showing `text` in a page or in part of one."""
    return scope.locator(".note").filter(has_text=text)


def test_notes_travel_live_and_themes_emerge(browser: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    facilitator, code = _create_event(
        browser, base_url, "Town futures jury", errors, shot="landing-phone"
    )
    ana = _join(browser, base_url, code, "Ana", "Table 1", errors, shot="join-phone")
    ben = _join(browser, base_url, code, "Ben", "Table 1", errors)
    expect(ana.locator("#members")).to_contain_text("Ben")

    first = BIKE_NOTES[0]
    _post(ana, first)
    expect(_note(ben, first)).to_have_count(1)
    table_1 = facilitator.get_by_test_id("room").filter(has_text="Table 1")
    expect(_note(table_1, first)).to_have_count(1)
    table_2 = facilitator.get_by_test_id("room").filter(has_text="Table 2")
    expect(_note(table_2, first)).to_have_count(0)

    # Ben likes Ana's note; both see one like, and Ana's own note shows as hers.
    _note(ben, first).get_by_test_id("like").click()
    expect(_note(ana, first).locator(".like-count")).to_have_text("1")
    expect(_note(ben, first).get_by_test_id("like")).to_have_attribute("aria-pressed", "true")
    expect(_note(ana, first).locator(".note-author")).to_have_text("Ana (you)")

    # A dozen notes on two clear topics, from both phones.
    for i, (bike, meal) in enumerate(zip(BIKE_NOTES[1:], MEAL_NOTES, strict=False)):
        _post(ana if i % 2 else ben, bike)
        _post(ben if i % 2 else ana, meal)
    _post(ben, MEAL_NOTES[-1])
    total = len(BIKE_NOTES) + len(MEAL_NOTES)
    expect(ana.locator(".note")).to_have_count(total)
    expect(table_1.locator(".note")).to_have_count(total)

    themes = facilitator.get_by_test_id("themes").locator(".theme")
    expect(themes.first).to_be_visible(timeout=THEMES_TIMEOUT_MS)
    expect(facilitator.get_by_test_id("themes-summary")).to_contain_text(
        f"from {total} notes", timeout=THEMES_TIMEOUT_MS
    )
    expect(themes.first.locator(".quote").first).to_be_visible()
    expect(themes.first.locator(".theme-rooms")).to_contain_text("Table 1")
    # Each table's card says what it is talking about.
    expect(table_1.get_by_test_id("room-themes")).to_contain_text("Themes here: ")
    expect(table_2.get_by_test_id("room-themes")).to_be_hidden()

    _shot(facilitator, "facilitator-desktop", full_page=True)
    facilitator.set_viewport_size(PHONE)
    _shot(facilitator, "facilitator-phone", full_page=True)
    _shot(ana, "participant-phone")
    assert errors == []


def test_note_typed_offline_arrives_once(browser: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    facilitator, code = _create_event(browser, base_url, "Offline check", errors)
    ana = _join(browser, base_url, code, "Ana", "Table 2", errors)
    ben = _join(browser, base_url, code, "Ben", "Table 2", errors)
    _post(ana, "Before the network drops")
    expect(_note(ben, "Before the network drops")).to_have_count(1)

    text = "Typed in the hall while the Wi-Fi was down"
    ben.context.set_offline(True)
    status = ben.get_by_test_id("connection")
    expect(status).to_have_attribute("data-state", "offline")
    expect(status).to_contain_text("Offline")
    ben.get_by_label("Your note").fill(text)
    ben.get_by_role("button", name="Post note").click()
    expect(ben.get_by_test_id("waiting")).to_have_text("1 note waiting to be sent")
    expect(_note(ben, text)).to_contain_text("waiting to send")
    _shot(ben, "participant-offline-phone")
    expect(_note(ana, text)).to_have_count(0)

    ben.context.set_offline(False)
    expect(status).to_have_attribute("data-state", "open", timeout=20_000)
    expect(ben.get_by_test_id("waiting")).to_be_hidden()
    expect(_note(ana, text)).to_have_count(1)
    table_2 = facilitator.get_by_test_id("room").filter(has_text="Table 2")
    expect(_note(table_2, text)).to_have_count(1)
    # Still once after any late retry or replay had time to land, on every page.
    ana.wait_for_timeout(1500)
    expect(_note(ana, text)).to_have_count(1)
    expect(_note(ben, text)).to_have_count(1)
    expect(_note(ben, text)).not_to_contain_text("waiting to send")
    _shot(ben, "participant-back-online-phone")

    # Its author edits it, then deletes it: both changes reach the other phone.
    edited = "Typed offline, then made clearer"
    _note(ben, text).get_by_role("button", name="Edit").click()
    ben.get_by_label("Edit your note").fill(edited)
    ben.get_by_role("button", name="Save").click()
    expect(_note(ana, edited)).to_contain_text("edited")
    expect(_note(ana, text)).to_have_count(0)
    ben.once("dialog", lambda dialog: dialog.accept())
    _note(ben, edited).get_by_role("button", name="Delete").click()
    expect(_note(ana, edited)).to_have_count(0)
    expect(_note(ben, edited)).to_have_count(0)
    expect(ana.locator(".note")).to_have_count(1)
    assert errors == []
