"""Dot voting: a facilitator adds a step where each person has two votes; a phone shows the
votes left, votes on the notes written in the step before, cannot give a third, takes one
back, and still knows what is left after a reload.

Runs against the `live_server_fast` fixture, or a server at TABLEE_E2E_URL.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_wall import _create_event, _join, _post, _shot, browser  # noqa: F401

pytestmark = pytest.mark.browser


def _add_step(console: Any, title: str, votes: int) -> None:
    form = console.get_by_role("form", name="Add a step")
    form.get_by_label("New step").fill(title)
    form.get_by_label("Mode").select_option("breakouts")
    form.get_by_label("Minutes").fill("10")
    form.get_by_label("Votes each").fill(str(votes))
    form.get_by_role("button", name="Add step").click()


def test_each_person_gives_at_most_their_votes(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    console, code = _create_event(browser, event_url, "Priorities", errors)
    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    ben = _join(browser, event_url, code, "Ben", "Table 1", errors)

    console.get_by_text("Format, steps and seating").click()
    _add_step(console, "Ideas", 0)
    _add_step(console, "Choose", 2)
    steps = console.get_by_test_id("agenda-steps").locator("li")
    expect(steps).to_have_count(2)
    expect(steps.nth(1)).to_contain_text("2 votes each")
    expect(steps.nth(0)).not_to_contain_text("votes each")

    console.get_by_role("button", name="Start Ideas").click()
    expect(ana.get_by_test_id("step")).to_contain_text("Ideas")
    expect(console.get_by_test_id("supported")).to_be_hidden()
    expect(ana.get_by_test_id("votes")).to_be_hidden()
    for text in ["Free buses for under-18s", "A tram to the hospital", "Safer bike lanes"]:
        _post(ana, text)
    ben_notes = ben.get_by_test_id("notes").locator(".note")
    expect(ben_notes).to_have_count(3)
    # Outside a voting step likes are not counted.
    ben_notes.filter(has_text="Safer bike lanes").get_by_test_id("like").click()
    expect(ben_notes.filter(has_text="Safer bike lanes").locator(".like-count")).to_have_text("1")

    console.get_by_role("button", name="Start Choose").click()
    expect(ben.get_by_test_id("step")).to_contain_text("Choose")
    votes = ben.get_by_test_id("votes-left")
    expect(votes).to_have_text("You have 2 of 2 votes left")
    # The voting step's wall shows the notes written before it.
    expect(ben_notes).to_have_count(3)

    buses = ben_notes.filter(has_text="Free buses")
    tram = ben_notes.filter(has_text="A tram")
    bikes = ben_notes.filter(has_text="Safer bike lanes")
    buses.get_by_test_id("like").click()
    expect(votes).to_have_text("You have 1 of 2 votes left")
    tram.get_by_test_id("like").click()
    expect(votes).to_have_text("You have 0 of 2 votes left")
    expect(ben.get_by_test_id("votes")).to_contain_text("All your votes are given")
    # The like given before the step is not a vote and stays; no third vote can be given.
    expect(bikes.get_by_test_id("like")).to_have_attribute("aria-pressed", "true")
    expect(buses.get_by_test_id("like")).to_be_enabled()
    expect(ben.get_by_label("Show notes from earlier steps")).to_be_hidden()
    ben.evaluate("window.scrollTo(0, 0)")
    _shot(ben, "votes-spent-phone")

    # The console tallies the notes across tables while the step runs, most supported first.
    supported = console.get_by_test_id("supported")
    expect(supported).to_contain_text("Most supported notes (2 votes each)")
    tally = supported.locator("li")
    expect(tally).to_have_count(3)
    expect(tally.first).to_contain_text("Free buses")  # ties: in the order written
    expect(tally.nth(1)).to_contain_text("♥ 1")
    _shot(console, "votes-console", full_page=True)

    # Ana's wall counts Ben's votes as likes.
    ana_notes = ana.get_by_test_id("notes").locator(".note")
    expect(ana_notes.filter(has_text="A tram").locator(".like-count")).to_have_text("1")
    expect(ana.get_by_test_id("votes-left")).to_have_text("You have 2 of 2 votes left")

    # Taking one back frees it for another note.
    tram.get_by_test_id("like").click()
    expect(votes).to_have_text("You have 1 of 2 votes left")
    expect(ana_notes.filter(has_text="A tram").locator(".like-count")).to_have_text("0")

    # A reload asks the server: still one left.
    ben.reload()
    expect(ben.get_by_test_id("votes-left")).to_have_text("You have 1 of 2 votes left")
    assert not errors, errors


def test_a_spent_phone_cannot_vote_again(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    """The buttons of unvoted notes are off once the votes are spent."""
    from playwright.sync_api import expect

    errors: list[str] = []
    console, code = _create_event(browser, event_url, "One vote", errors)
    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    _post(ana, "Plant more trees")
    _post(ana, "Open the library on Sundays")
    console.get_by_text("Format, steps and seating").click()
    _add_step(console, "Pick one", 1)
    console.get_by_role("button", name="Start Pick one").click()
    notes = ana.get_by_test_id("notes").locator(".note")
    expect(ana.get_by_test_id("votes-left")).to_have_text("You have 1 of 1 votes left")
    notes.filter(has_text="Plant more trees").get_by_test_id("like").click()
    expect(ana.get_by_test_id("votes-left")).to_have_text("You have 0 of 1 votes left")
    library = notes.filter(has_text="Open the library").get_by_test_id("like")
    expect(library).to_be_disabled()
    expect(library).to_have_attribute("title", "No votes left")
    assert not errors, errors
