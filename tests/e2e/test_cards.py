"""Table cards for a hall: the console opens a printable page with one card per table, each
with the QR code that seats a phone there and the address and code for those who cannot scan;
the table hosts' cards come only when asked for, apart.

Runs against the `live_server_fast` fixture, or a server at TABLEE_E2E_URL.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_wall import _create_event, _shot, browser  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_console_prints_a_card_for_every_table(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    console, code = _create_event(browser, event_url, "Hall day", errors)
    tables = console.locator(".room-card")
    count = tables.count()
    assert count >= 2
    with console.context.expect_page() as opened:
        console.get_by_role("link", name="Print table cards").click()
    page = opened.value
    page.on("pageerror", lambda exc: errors.append(f"cards: {exc}"))
    cards = page.get_by_test_id("table-card")
    expect(cards).to_have_count(count)
    expect(cards.first).to_contain_text("Scan to join this table")
    expect(cards.first).to_contain_text(f"/join/{code}")
    expect(cards.first.locator("h2")).to_have_text("Table 1")
    expect(cards.first).to_contain_text("Hall day")
    # Every QR code is a loaded image, each its own table's.
    page.wait_for_function(
        "[...document.querySelectorAll('.table-card-qr')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    sources = cards.locator("img").evaluate_all("imgs => imgs.map(i => i.getAttribute('src'))")
    assert len(set(sources)) == count and not any("as=host" in s for s in sources)

    page.get_by_label("Add a card for each table host's device").check()
    expect(cards).to_have_count(2 * count)
    hosts = page.locator(".table-card.host")
    expect(hosts).to_have_count(count)
    expect(hosts.first).to_contain_text("keep this card with the host")
    assert "as=host" in (hosts.first.locator("img").get_attribute("src") or "")

    # On paper: only the cards.
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(cards.first).to_be_visible()
    _shot(page, "table-cards-print", full_page=True)
    assert not errors, errors
