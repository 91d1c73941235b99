"""The duplicate hint in a real browser: a participant who posts what their table already said
is offered, under their new note, to +1 the note already there instead; another table's twin
is only shown, and one's own repeat may be removed.

The server's theme worker uses the hashing embedder (`live_server_fast`), for which two notes
with the same content words are the same idea (cosine 1.0, over the 0.85 of `note.similar`).
Runs against that fixture, or a server at TABLEE_E2E_URL. Screenshots go to
tests/e2e/artifacts/.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_wall import PHONE, _create_event, _join, _post, _shot, browser  # noqa: F401

pytestmark = pytest.mark.browser

FIRST = "We need safer bike lanes on the road to the school"
TWIN = "Safer bike lanes on the road to school are needed"
OTHER = "School meals should use fresh local vegetables"
TREES = "Plant more trees along the river"
TREES_AGAIN = "Please plant more trees along the river"
HINT_TIMEOUT_MS = 30_000  # the hint follows the post's ack once the note is embedded


def _card(page: Any, text: str) -> Any:
    return page.locator("li.note").filter(has=page.get_by_text(text, exact=True))


def _likes(page: Any, text: str) -> Any:
    return _card(page, text).locator(".like-count")


def _table(
    browser: Any,  # noqa: F811
    event_url: str,
    title: str,
    errors: list[str],
) -> tuple[Any, Any, Any]:
    """A fresh event; Ana and Ben at Table 1, Ana's note on both walls; the console."""
    from playwright.sync_api import expect

    console, code = _create_event(browser, event_url, title, errors)
    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    ben = _join(browser, event_url, code, "Ben", "Table 1", errors)
    _post(ana, FIRST)
    expect(_card(ben, FIRST)).to_be_visible()
    return console, ana, ben


def test_plus_one_instead_likes_the_first_note_and_withdraws_the_twin(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    console, ana, ben = _table(browser, event_url, "Hint: +1", errors)
    _post(ben, TWIN)

    hint = _card(ben, TWIN).get_by_test_id("similar-hint")
    expect(hint).to_be_visible(timeout=HINT_TIMEOUT_MS)
    expect(hint.get_by_role("status")).to_have_text(
        f"Someone at your table already said something close: «{FIRST}» — +1 it instead?"
    )
    expect(hint.get_by_role("button")).to_have_count(2)
    expect(ben.get_by_test_id("similar-hint")).to_have_count(1)
    # Only the author is asked: the first note's author and the console see nothing.
    expect(ana.get_by_test_id("similar-hint")).to_have_count(0)
    expect(console.get_by_test_id("similar-hint")).to_have_count(0)
    # Posting goes on: the composer keeps the focus and is ready for the next note.
    expect(ben.get_by_label("Your note")).to_be_focused()
    _shot(ben, "similar-hint-phone", full_page=True)
    assert ben.viewport_size == PHONE
    width = ben.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the hint makes the page scroll sideways ({width}px)"

    # Reachable from the keyboard: Tab from the note's own buttons lands on the hint's.
    take = hint.get_by_role("button", name="+1 it instead")
    _card(ben, TWIN).get_by_role("button", name="Delete").focus()
    ben.keyboard.press("Tab")
    expect(take).to_be_focused()
    ben.keyboard.press("Enter")

    expect(_likes(ana, FIRST)).to_have_text("1")
    expect(_likes(ben, FIRST)).to_have_text("1")
    expect(_card(ben, FIRST).get_by_test_id("like")).to_have_attribute("aria-pressed", "true")
    expect(_card(ben, TWIN)).to_have_count(0)
    expect(_card(ana, TWIN)).to_have_count(0)
    expect(ben.get_by_test_id("similar-hint")).to_have_count(0)
    expect(ben.get_by_label("Your note")).to_be_focused()
    # After a reload, the wall as stored says the same.
    ben.reload()
    expect(_likes(ben, FIRST)).to_have_text("1")
    expect(_card(ben, TWIN)).to_have_count(0)
    assert errors == []


def test_keep_mine_keeps_both_notes(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    _, ana, ben = _table(browser, event_url, "Hint: keep", errors)
    _post(ben, TWIN)

    hint = ben.get_by_test_id("similar-hint")
    expect(hint).to_be_visible(timeout=HINT_TIMEOUT_MS)
    hint.get_by_role("button", name="Keep mine").click()

    expect(hint).to_have_count(0)
    for page in (ana, ben):
        expect(_card(page, FIRST)).to_be_visible()
        expect(_card(page, TWIN)).to_be_visible()
        expect(_likes(page, FIRST)).to_have_text("0")

    # A note unlike anything on the wall gets no hint.
    _post(ben, OTHER)
    expect(_card(ana, OTHER)).to_be_visible()
    ben.wait_for_timeout(1500)
    expect(ben.get_by_test_id("similar-hint")).to_have_count(0)
    assert errors == []


def test_another_tables_note_is_shown_without_a_plus_one_and_the_hint_goes_away(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    console, ana, _ = _table(browser, event_url, "Hint: other table", errors)
    code = console.get_by_test_id("join-code").inner_text().strip()
    chloe = _join(browser, event_url, code, "Chloé", "Table 2", errors)
    _post(chloe, TWIN)

    hint = _card(chloe, TWIN).get_by_test_id("similar-hint")
    expect(hint).to_be_visible(timeout=HINT_TIMEOUT_MS)
    # Likes are given at one's own table: the idea is shown, only "Keep mine" is offered.
    expect(hint.get_by_role("status")).to_have_text(
        f"Another table already said something close: «{FIRST}»"
    )
    expect(hint.get_by_role("button")).to_have_count(1)
    expect(hint.get_by_role("button", name="Keep mine")).to_be_visible()
    _shot(chloe, "similar-hint-other-table-phone", full_page=True)

    # Nobody answers: it goes away by itself after about 20 s, the note stays.
    chloe.mouse.move(0, 0)
    expect(hint).to_have_count(0, timeout=30_000)
    expect(_card(chloe, TWIN)).to_be_visible()
    expect(_likes(ana, FIRST)).to_have_text("0")

    # Saying one's own idea twice: the hint offers to remove the repeat.
    _post(chloe, TREES)
    expect(_card(chloe, TREES)).to_be_visible()
    _post(chloe, TREES_AGAIN)
    hint = _card(chloe, TREES_AGAIN).get_by_test_id("similar-hint")
    expect(hint).to_be_visible(timeout=HINT_TIMEOUT_MS)
    expect(hint.get_by_role("status")).to_contain_text("You already posted something close")
    hint.get_by_role("button", name="Remove this one").click()
    expect(_card(chloe, TREES_AGAIN)).to_have_count(0)
    expect(_card(chloe, TREES)).to_be_visible()
    expect(_likes(chloe, TREES)).to_have_text("0")
    assert errors == []
