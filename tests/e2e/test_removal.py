"""A facilitator removes a disruptive participant from the console: their phone says so and
stops reconnecting, their notes go from the other phones' walls when asked, and a reload
does not bring them back.

Runs against the `live_server_fast` fixture, or a server at TABLEE_E2E_URL.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_event_run import _card
from tests.e2e.test_wall import _create_event, _join, _post, _shot, browser  # noqa: F401

pytestmark = pytest.mark.browser


def _remove(
    console: Any, table: str, name: str, *, delete_notes: bool, shot: str | None = None
) -> None:
    menu = _card(console, table).get_by_test_id("person").filter(has_text=name)
    menu = menu.get_by_test_id("person-menu")
    menu.focus()
    menu.select_option(label="Remove from the event…")
    dialog = console.get_by_test_id("remove-dialog")
    if delete_notes:
        dialog.get_by_test_id("remove-notes").check()
    if shot:
        _shot(console, shot)
    dialog.get_by_test_id("remove-confirm").click()


def test_a_facilitator_removes_a_participant_and_their_notes(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    console, code = _create_event(browser, event_url, "Open consultation", errors)
    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    ben = _join(browser, event_url, code, "Ben", "Table 1", errors)
    troll = _join(browser, event_url, code, "Troll", "Table 1", errors)
    _post(ana, "More trees along the river")
    _post(troll, "Nothing here matters, leave")
    _post(troll, "Spam spam spam")
    ben_notes = ben.get_by_test_id("notes").locator(".note")
    expect(ben_notes).to_have_count(3)
    table_1 = _card(console, "Table 1")
    expect(table_1.get_by_test_id("person").filter(has_text="Troll")).to_have_count(1)

    # Thinking better of it changes nothing.
    menu = table_1.get_by_test_id("person").filter(has_text="Troll").get_by_test_id("person-menu")
    menu.focus()
    menu.select_option(label="Remove from the event…")
    console.get_by_test_id("remove-dialog").get_by_role("button", name="Cancel").click()
    expect(console.get_by_test_id("remove-dialog")).to_have_count(0)
    expect(table_1.get_by_test_id("person").filter(has_text="Troll")).to_have_count(1)
    expect(troll.get_by_test_id("removed")).to_be_hidden()

    _remove(console, "Table 1", "Troll", delete_notes=True, shot="removal-console-dialog")
    expect(console.locator("#toast")).to_contain_text(
        "Troll was removed from the event, with 2 notes."
    )
    expect(table_1.get_by_test_id("person").filter(has_text="Troll")).to_have_count(0)

    # The troll's page says so, in place of the wall, and does not try again.
    removed = troll.get_by_test_id("removed")
    expect(removed).to_be_visible()
    expect(removed).to_contain_text("You are no longer in this event")
    expect(troll.locator("#wall-view")).to_be_hidden()
    _shot(troll, "removal-participant-phone")
    troll.wait_for_timeout(1500)  # longer than the socket's first backoff
    expect(troll.locator("#wall-view")).to_be_hidden()

    # The others' walls lose the troll's notes and the troll; Ana's note stays.
    expect(ben_notes).to_have_count(1)
    expect(ben_notes.first).to_contain_text("More trees along the river")
    expect(ben.locator("#members")).not_to_contain_text("Troll")
    expect(ana.get_by_test_id("notes").locator(".note")).to_have_count(1)
    expect(table_1.locator(".note")).to_have_count(1)

    # A reload keeps the door shut: the stored token is refused.
    troll.reload()
    expect(troll.get_by_test_id("removed")).to_be_visible()
    expect(troll.locator("#wall-view")).to_be_hidden()

    # Removing someone without their notes leaves the notes on every wall.
    _remove(console, "Table 1", "Ben", delete_notes=False)
    expect(ben.get_by_test_id("removed")).to_be_visible()
    expect(console.locator("#toast")).to_contain_text("Ben was removed from the event.")
    expect(ana.locator("#members")).not_to_contain_text("Ben")
    expect(ana.get_by_test_id("notes").locator(".note")).to_have_count(1)
    assert not errors, errors
