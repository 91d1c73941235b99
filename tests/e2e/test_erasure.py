"""Deleting an event from the console: the code typed again, then every page of the event,
the participants', the plenary screen's and the console itself, says the event is gone and
stops reconnecting, and nothing of it is left in the browsers' storage.

Runs against the `live_server_fast` fixture, or a server at TABLEE_E2E_URL.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.test_wall import _create_event, _join, _open_screen, _post, browser  # noqa: F401

pytestmark = pytest.mark.browser


def _stored(page: Any) -> list[str]:
    return list(page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('tablee.'))"))


def test_a_facilitator_deletes_the_event_and_every_page_of_it_closes(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    console, code = _create_event(browser, event_url, "Assembly to erase", errors)
    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    _post(ana, "A note that must not outlive the event")
    screen = _open_screen(browser, console, errors)
    sockets: list[Any] = []
    ana.on("websocket", lambda ws: sockets.append(ws))
    assert any(code in key for key in _stored(ana))

    console.get_by_text("Delete this event…").click()
    confirm = console.get_by_label("Type the event's code to confirm")
    confirm.fill("WRONG1")
    console.get_by_role("button", name="Delete the event for good").click()
    expect(console.locator("#toast")).to_contain_text("nothing was deleted")
    expect(ana.get_by_test_id("connection")).to_have_attribute("data-state", "open")

    confirm.fill(code.lower())  # typed as people type it
    console.get_by_role("button", name="Delete the event for good").click()
    deleted = console.get_by_test_id("deleted")
    expect(deleted).to_be_visible()
    expect(deleted).to_contain_text("1 note")
    expect(console.locator("#console-view")).to_be_hidden()

    expect(ana.get_by_test_id("deleted")).to_be_visible()
    expect(ana.get_by_test_id("deleted")).to_contain_text("This event is over")
    expect(screen.locator("#screen-error")).to_contain_text("deleted this event")
    time.sleep(3)  # long enough for a reconnection attempt, were there one
    assert sockets == [], "the page tried to reconnect to a deleted event"
    for page in (ana, console, screen):
        assert not [k for k in _stored(page) if code in k or "outbox" in k], _stored(page)

    # The event's link now says there is no such event.
    ana.goto(f"{event_url}/join/{code}")
    expect(ana.locator("#join-error")).to_contain_text(code)
    assert not errors, errors
