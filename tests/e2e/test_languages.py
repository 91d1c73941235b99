"""The participants' pages in the event's language, in a real browser against a real server.

A French event's join page, table wall, plenary screen and facilitator's console speak French;
when the facilitator switches the event to German, every open phone and the projector follow,
except a phone where someone is writing, which waits for its note; a participant may pick a
language of their own. The catalogues are checked against each other (the console's own
language is tested in test_console_language.py).

Runs against `live_server_fast` (the hashing embedder), or a server at TABLEE_E2E_URL.
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest

from tests.e2e.test_wall import DESKTOP, PHONE, _shot, _watch_errors, browser  # noqa: F401

pytestmark = pytest.mark.browser

LANGUAGES = ("en", "fr", "de")
SWITCH_TIMEOUT_MS = 15_000  # each phone waits up to 3 s before reloading, then reconnects


def _catalogues(page: Any) -> dict[str, dict[str, Any]]:
    """Every language's phrases, as the pages import them."""
    found: dict[str, dict[str, Any]] = page.evaluate(
        """async (langs) => {
            const out = {};
            for (const l of langs) out[l] = (await import(`/js/i18n/${l}.js`)).default;
            return out;
        }""",
        list(LANGUAGES),
    )
    return found


def _placeholders(entry: Any) -> set[str]:
    texts = [entry] if isinstance(entry, str) else [entry["one"], entry["other"]]
    return {name for text in texts for name in re.findall(r"\{(\w+)\}", text)}


def _create(event_url: str, language: str) -> dict[str, Any]:
    body = json.dumps(
        {"title": "Convention citoyenne", "rooms": 2, "pseudonym": "Fran", "language": language}
    ).encode()
    request = urllib.request.Request(
        event_url + "/api/events",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        created: dict[str, Any] = json.load(response)
    return created


def _static_words(page: Any) -> dict[str, str]:
    """What each element marked for translation says now, by its phrase's key."""
    words: dict[str, str] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-i18n]')]
            .filter((el) => el.tagName !== 'TITLE')
            .map((el) => [el.dataset.i18n, el.textContent.trim()]))"""
    )
    return words


def test_every_language_has_every_phrase_with_the_same_blanks(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    page = browser.new_context().new_page()
    page.goto(event_url + "/join/NOCODE")
    catalogues = _catalogues(page)
    en = catalogues["en"]
    assert len(en) > 100
    for lang in LANGUAGES[1:]:
        other = catalogues[lang]
        assert list(other) == list(en), f"{lang} has other keys than en"
        for key, entry in en.items():
            assert isinstance(other[key], str) == isinstance(entry, str), (lang, key)
            if not isinstance(entry, str):
                assert set(other[key]) == {"one", "other"}, (lang, key)
            assert _placeholders(other[key]) == _placeholders(entry), (lang, key)
            if entry and key != "language.auto":
                assert other[key], (lang, key)
    # The server speaks English: elsewhere its error codes have the page's own words.
    said = page.evaluate(
        """async () => {
            const i18n = await import('/js/i18n.js');
            const out = [];
            for (const lang of ['en', 'fr', 'de']) {
                i18n.useLanguage(lang);
                out.push([lang, i18n.errorText({code: 'room_full', message: 'room is full'}),
                  i18n.errorText({code: 'timeout', message: 'no answer within 10000 ms'}),
                  i18n.errorText({code: 'made_up', message: 'as the server said'}),
                  i18n.t('composer.left', {n: 1}), i18n.t('composer.left', {n: 2})]);
            }
            return out;
        }"""
    )
    for lang, full, timeout, unknown, one_left, two_left in said:
        cat = catalogues[lang]
        assert full == ("room is full" if lang == "en" else cat["error.room_full"])
        assert timeout == cat["error.timeout"]
        assert unknown == "as the server said"
        assert one_left == cat["composer.left"]["one"].replace("{n}", "1")
        assert two_left == cat["composer.left"]["other"].replace("{n}", "2")


def test_a_french_event_speaks_french_and_follows_the_facilitator_to_german(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    created = _create(event_url, "fr")
    code = created["event"]["join_code"]
    assert created["event"]["language"] == "fr"

    # The console speaks the event's French too, and shows it as the participants' language.
    console = browser.new_context(viewport=DESKTOP).new_page()
    _watch_errors(console, errors, "console")
    console.goto(created["links"]["facilitator"] + f"#secret={created['facilitator_secret']}")
    fr = _catalogues(console)["fr"]
    console.get_by_label(fr["console.signin.name"]).fill("Fran")
    console.get_by_role("button", name=fr["console.signin.open"]).click()
    expect(console.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    open_screen = console.get_by_role("button", name=fr["console.screen.open"])
    expect(open_screen).to_be_visible()
    expect(console.get_by_test_id("event-language")).to_have_value("fr")

    phones: dict[str, Any] = {}
    for name in ("Ana", "Ben"):
        page = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True).new_page()
        _watch_errors(page, errors, name)
        page.goto(f"{event_url}/join/{code}")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        fr = _catalogues(page)["fr"]
        expect(page.locator("#join-heading")).to_have_text(fr["join.heading"])
        expect(page.locator("#room-picker legend")).to_have_text(fr["join.chooseTable"])
        page.locator("#pseudonym").fill(name)
        page.locator("#room-picker input[type=radio]").nth(1).check()
        page.locator("#join-form button[type=submit]").click()
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "open")
        phones[name] = page
    ana, ben = phones["Ana"], phones["Ben"]
    cat = _catalogues(ana)
    fr, de = cat["fr"], cat["de"]
    words = _static_words(ana)
    assert words == {k: fr[k] for k in words}, "an element of the wall is not in French"
    expect(ana.get_by_test_id("connection-label")).to_have_text(fr["status.open"])
    expect(ana.locator("#composer-slot button[type=submit]")).to_have_text(fr["composer.post"])
    ana.locator("#note-text").fill("Des pistes cyclables protégées jusqu'à la gare")
    ana.locator("#composer-slot button[type=submit]").click()
    expect(ben.locator(".note")).to_have_count(1)
    you = fr["note.you"].replace("{name}", "Ana")
    expect(ana.locator(".note-author")).to_have_text(you)
    _shot(ana, "language-fr-wall", full_page=True)

    # The plenary screen speaks French too.
    open_screen.click()
    screen_link = console.get_by_test_id("screen-link")
    expect(screen_link).to_have_attribute("href", re.compile(r"/plenary\.html#code=.+&token=.+"))
    link = screen_link.get_attribute("href")
    screen = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    _watch_errors(screen, errors, "screen")
    screen.goto(link)
    expect(screen.locator("html")).to_have_attribute("lang", "fr")
    expect(screen.locator("#themes-heading")).to_have_text(fr["plenary.themesHeading"])

    # Ben is writing when the facilitator switches the event to German: his page waits.
    ben.locator("#note-text").fill("Une idée pas encore envoyée")
    console.get_by_test_id("event-language").select_option("de")
    expect(ana.locator("html")).to_have_attribute("lang", "de", timeout=SWITCH_TIMEOUT_MS)
    expect(screen.locator("html")).to_have_attribute("lang", "de", timeout=SWITCH_TIMEOUT_MS)
    expect(ana.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    expect(ana.locator("#composer-slot button[type=submit]")).to_have_text(de["composer.post"])
    expect(ana.locator(".note")).to_have_count(1)
    expect(screen.locator("#themes-heading")).to_have_text(de["plenary.themesHeading"])
    ben.wait_for_timeout(4000)  # longer than any phone's wait before its reload
    expect(ben.locator("html")).to_have_attribute("lang", "fr")
    expect(ben.locator("#note-text")).to_have_value("Une idée pas encore envoyée")
    ben.locator("#composer-slot button[type=submit]").click()
    expect(ben.locator("html")).to_have_attribute("lang", "de", timeout=SWITCH_TIMEOUT_MS)
    expect(ben.locator(".note")).to_have_count(2)

    # Ana picks French for herself; "the event's language" brings German back.
    ana.get_by_test_id("language").select_option("fr")
    expect(ana.locator("html")).to_have_attribute("lang", "fr")
    expect(ana.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    expect(ana.locator(".note")).to_have_count(2)
    expect(ben.locator("html")).to_have_attribute("lang", "de")
    ana.get_by_test_id("language").select_option("")
    expect(ana.locator("html")).to_have_attribute("lang", "de")
    expect(ana.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    _shot(ana, "language-de-wall", full_page=True)
    assert errors == []
