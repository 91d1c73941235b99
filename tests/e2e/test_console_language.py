"""The facilitator's console in the event's language, in a real browser against a real server.

A French event's console speaks French on every panel. Its facilitator may pick German at the
foot of the page: the console says it in place (what was typed and opened stays), keeps it
across a reload, and a participant page in the same browser still speaks the event's French.
With a format loaded, a question running and a table holding notes and themes, none of the
console's English phrases is left on the French console.

Runs against `live_server_fast` (the hashing embedder), or a server at TABLEE_E2E_URL.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_languages import _catalogues, _create
from tests.e2e.test_wall import DESKTOP, PHONE, _shot, _watch_errors, browser  # noqa: F401

pytestmark = pytest.mark.browser

THEMES_TIMEOUT_MS = 60_000


def _open_console(browser: Any, created: dict[str, Any], errors: list[str]) -> Any:  # noqa: F811
    """The console of a new event, signed in from its co-facilitator link on a new browser."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport=DESKTOP).new_page()
    _watch_errors(page, errors, "console")
    page.goto(created["links"]["facilitator"] + f"#secret={created['facilitator_secret']}")
    page.locator("#signin-pseudonym").fill("Fran")
    page.locator("#signin-form button[type=submit]").click()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    return page


def _join(browser: Any, event_url: str, code: str, name: str, errors: list[str]) -> Any:  # noqa: F811
    """A participant's phone at the event's first table, whatever language it speaks."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True).new_page()
    _watch_errors(page, errors, name)
    page.goto(f"{event_url}/join/{code}")
    page.locator("#pseudonym").fill(name)
    page.locator("#room-picker input[type=radio]").nth(1).check()
    page.locator("#join-form button[type=submit]").click()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    return page


def _post(page: Any, text: str) -> None:
    page.locator("#note-text").fill(text)
    page.locator("#composer-slot button[type=submit]").click()


def _english_phrases(en: dict[str, Any], fr: dict[str, Any]) -> list[str]:
    """The console's English words that a French console must not show: each run of two words
    or more between the blanks of a `console.*` phrase, unless French says it the same way."""
    phrases: set[str] = set()
    for key, entry in en.items():
        if not key.startswith("console."):
            continue
        theirs = fr[key] if isinstance(fr[key], str) else " ".join(fr[key].values())
        for text in [entry] if isinstance(entry, str) else entry.values():
            for part in re.split(r"\{\w+\}", text):
                part = part.strip()
                if len(re.findall(r"[A-Za-z]+", part)) >= 2 and part not in theirs:
                    phrases.add(part)
    return sorted(phrases)


def _said(page: Any) -> str:
    """Everything the console shows or names: its visible text, the options of its menus,
    and the placeholders, labels, titles and alternative texts of its elements (a format's
    description, the server's, excepted)."""
    said: str = page.evaluate(
        """() => {
            const out = [document.title, document.body.innerText];
            for (const o of document.querySelectorAll('option')) out.push(o.textContent);
            for (const el of document.querySelectorAll(
                '[placeholder], [aria-label], [title], [alt]')) {
              for (const name of ['placeholder', 'aria-label', 'title', 'alt']) {
                if (name === 'title' && el.tagName === 'OPTION') continue;
                if (el.hasAttribute(name)) out.push(el.getAttribute(name));
              }
            }
            return out.join('\\n');
        }"""
    )
    return said


def test_a_french_event_has_a_french_console(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    created = _create(event_url, "fr")
    console = _open_console(browser, created, errors)
    fr = _catalogues(console)["fr"]
    expect(console.locator("html")).to_have_attribute("lang", "fr")
    expect(console).to_have_title(
        fr["console.pageTitle"].replace("{title}", "Convention citoyenne").replace("\u00a0", " ")
    )
    expect(console.locator(".event-head")).to_contain_text(fr["console.subtitle"])
    expect(console.locator("#copy-link")).to_have_text(fr["console.copyLink"])
    expect(console.get_by_test_id("event-language")).to_have_value("fr")

    # The agenda: the running step, the timer's buttons, the format and the step form.
    agenda = console.get_by_test_id("agenda")
    expect(agenda.get_by_test_id("step")).to_contain_text(fr["console.agenda.idle"])
    expect(console.get_by_test_id("start-next")).to_have_text(fr["console.agenda.startNext"])
    expect(console.get_by_test_id("pause")).to_have_text(fr["console.agenda.pause"])
    expect(console.get_by_test_id("recall")).to_have_text(fr["console.agenda.recall"])
    expect(agenda.locator(".agenda-steps .empty")).to_have_text(fr["console.agenda.empty"])
    agenda.get_by_text(fr["console.agenda.tools"]).click()
    expect(console.get_by_label(fr["console.agenda.template"], exact=True)).to_be_visible()
    load = console.get_by_role("button", name=fr["console.agenda.load"], exact=True)
    expect(load).to_be_visible()
    # The formats are named in French too ("World café (5 étapes)" was half English).
    formats = console.get_by_label(fr["console.agenda.template"], exact=True).locator("option")
    expect(formats.filter(has_text="Atelier de l’avenir")).to_have_count(1)
    expect(formats.filter(has_text="Forum ouvert")).to_have_count(1)
    expect(formats.filter(has_text="Future workshop")).to_have_count(0)
    form = console.get_by_role("form", name=fr["console.stepForm.label"])
    expect(form.get_by_label(fr["console.stepForm.heading"])).to_have_attribute(
        "placeholder", fr["console.stepForm.titlePlaceholder"]
    )
    expect(form.locator("#step-mode option").first).to_have_text(fr["step.atTables"])
    expect(form.locator("#step-assign option").first).to_have_text(fr["console.assign.keep"])
    expect(form.locator("button[type=submit]")).to_have_text(fr["console.stepForm.add"])
    expect(console.get_by_role("button", name=fr["console.mix.now"])).to_be_visible()
    expect(console.get_by_label(fr["console.mix.together"])).to_be_visible()

    # The tables: each card's people, notes and tools.
    expect(console.locator("#rooms-heading")).to_have_text(fr["console.tables.heading"])
    expect(console.locator("#room-form button")).to_have_text(fr["console.tables.addButton"])
    table = console.get_by_test_id("room").first
    expect(table.get_by_test_id("activity")).to_have_text(fr["console.table.noNotes"])
    expect(table.get_by_test_id("people")).to_have_text(fr["console.table.nobody"])
    expect(table.get_by_test_id("room-notes")).to_have_text(fr["note.none"])
    expect(table.get_by_role("button", name=fr["console.table.qr"])).to_be_visible()
    expect(table.get_by_test_id("enter")).to_have_text(fr["console.table.enter"])

    # The themes panel and its reports.
    expect(console.locator("#themes-heading")).to_have_text(fr["console.themes.heading"])
    expect(console.get_by_role("button", name=fr["console.reports.themes"])).to_be_visible()
    expect(console.get_by_role("button", name=fr["console.reports.notes"])).to_be_visible()

    # Broadcasts, help calls, the plenary screen and the connection.
    broadcast = console.get_by_role("textbox", name=fr["console.broadcast.label"])
    expect(broadcast).to_have_attribute("placeholder", fr["console.broadcast.placeholder"])
    expect(console.locator("#broadcast-room option").first).to_have_text(
        fr["console.broadcast.toAll"]
    )
    send = console.get_by_role("button", name=fr["console.broadcast.send"], exact=True)
    expect(send).to_be_visible()
    expect(console.get_by_test_id("help-calls")).to_have_text(fr["console.help.none"])
    expect(console.get_by_role("button", name=fr["console.screen.open"])).to_be_visible()
    expect(console.get_by_test_id("connection-label")).to_have_text(fr["status.open"])

    # The console's own choice of language, at the foot of the page, follows the event.
    expect(console.locator(".language-picker")).to_contain_text(fr["console.language"])
    expect(console.get_by_test_id("language")).to_have_value("")
    _shot(console, "console-fr", full_page=True)
    assert errors == []


def test_the_facilitator_picks_german_for_the_console_alone(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    created = _create(event_url, "fr")
    code = created["event"]["join_code"]
    console = _open_console(browser, created, errors)
    catalogues = _catalogues(console)
    fr, de = catalogues["fr"], catalogues["de"]
    expect(console.locator("html")).to_have_attribute("lang", "fr")

    # Words typed and a panel opened before the switch are still there after it.
    console.get_by_role("textbox", name=fr["console.broadcast.label"]).fill("Encore cinq minutes")
    console.get_by_text(fr["console.agenda.tools"]).click()
    console.locator("#step-title").fill("Tour 4")
    console.get_by_test_id("language").select_option("de")
    expect(console.locator("html")).to_have_attribute("lang", "de")
    expect(console.locator(".event-head")).to_contain_text(de["console.subtitle"])
    expect(console.get_by_test_id("agenda").get_by_test_id("step")).to_contain_text(
        de["console.agenda.idle"]
    )
    expect(console.get_by_test_id("start-next")).to_have_text(de["console.agenda.startNext"])
    expect(console.locator(".agenda-tools summary")).to_have_text(de["console.agenda.tools"])
    expect(console.locator(".step-form button[type=submit]")).to_have_text(
        de["console.stepForm.add"]
    )
    expect(console.locator("#step-title")).to_have_attribute(
        "placeholder", de["console.stepForm.titlePlaceholder"]
    )
    formats = console.locator("#template option")
    expect(formats.filter(has_text="Zukunftswerkstatt")).to_have_count(1)
    expect(formats.filter(has_text="Atelier de l’avenir")).to_have_count(0)
    expect(console.locator("#rooms-heading")).to_have_text(de["console.tables.heading"])
    table = console.get_by_test_id("room").first
    expect(table.get_by_test_id("activity")).to_have_text(de["console.table.noNotes"])
    expect(table.get_by_test_id("people")).to_have_text(de["console.table.nobody"])
    expect(table.get_by_test_id("room-notes")).to_have_text(de["note.none"])
    expect(console.locator("#themes-heading")).to_have_text(de["console.themes.heading"])
    expect(console.get_by_role("textbox", name=de["console.broadcast.label"])).to_have_value(
        "Encore cinq minutes"
    )
    send = console.get_by_role("button", name=de["console.broadcast.send"], exact=True)
    expect(send).to_be_visible()
    expect(console.get_by_test_id("help-calls")).to_have_text(de["console.help.none"])
    expect(console.get_by_role("button", name=de["console.screen.open"])).to_be_visible()
    expect(console.get_by_test_id("connection-label")).to_have_text(de["status.open"])
    expect(console.locator(".language-picker")).to_contain_text(de["console.language"])
    expect(console.locator("details.agenda-tools")).to_have_attribute("open", "")
    expect(console.locator("#step-title")).to_have_value("Tour 4")
    # The participants' language is the event's, untouched.
    expect(console.get_by_test_id("event-language")).to_have_value("fr")
    _shot(console, "console-de", full_page=True)

    # The pick survives a reload.
    console.reload()
    expect(console.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    expect(console.locator("html")).to_have_attribute("lang", "de")
    expect(console.get_by_test_id("start-next")).to_have_text(de["console.agenda.startNext"])
    expect(console.get_by_test_id("language")).to_have_value("de")

    # A participant's page in the same browser speaks the event's French.
    phone = console.context.new_page()
    _watch_errors(phone, errors, "phone")
    phone.goto(f"{event_url}/join/{code}")
    expect(phone.locator("html")).to_have_attribute("lang", "fr")
    expect(phone.locator("#join-heading")).to_have_text(fr["join.heading"])
    expect(phone.get_by_test_id("language")).to_have_value("")

    # Following the event again: the console speaks French, then German with the event.
    console.get_by_test_id("language").select_option("")
    expect(console.locator("html")).to_have_attribute("lang", "fr")
    expect(console.get_by_test_id("start-next")).to_have_text(fr["console.agenda.startNext"])
    console.get_by_test_id("event-language").select_option("de")
    expect(console.locator("html")).to_have_attribute("lang", "de")
    expect(console.get_by_test_id("start-next")).to_have_text(de["console.agenda.startNext"])
    assert errors == []


def test_no_english_is_left_on_a_french_console(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    created = _create(event_url, "fr")
    code = created["event"]["join_code"]
    console = _open_console(browser, created, errors)
    catalogues = _catalogues(console)
    en, fr = catalogues["en"], catalogues["fr"]
    phrases = _english_phrases(en, fr)
    assert len(phrases) > 100

    # A format, and a step of our own that asks a question and counts votes.
    console.get_by_text(fr["console.agenda.tools"]).click()
    console.get_by_label(fr["console.agenda.template"], exact=True).select_option("world_cafe")
    console.get_by_role("button", name=fr["console.agenda.load"], exact=True).click()
    steps = console.get_by_test_id("agenda-steps").locator("li")
    expect(steps).to_have_count(5)
    expect(steps.first).to_contain_text("Accueil")
    form = console.get_by_role("form", name=fr["console.stepForm.label"])
    form.locator("#step-title").fill("Choisir")
    form.locator("#step-votes").fill("2")
    form.locator("#step-choices").fill("Oui\nNon")
    form.locator("button[type=submit]").click()
    expect(steps).to_have_count(6)

    # A table holding notes, enough for themes.
    ana = _join(browser, event_url, code, "Ana", errors)
    console.get_by_test_id("start-step").nth(1).click()
    expect(ana.get_by_test_id("step")).to_contain_text("Tour 1")
    for text in [
        "Des passages piétons sûrs près des écoles",
        "Des pistes cyclables protégées sur les grands axes",
        "Des passages piétons sûrs près des écoles avec des feux",
        "Des pistes cyclables protégées loin des voitures garées",
        "Des passages piétons sûrs près des écoles et des voitures plus lentes",
        "Des pistes cyclables protégées jusqu'à la gare",
    ]:
        _post(ana, text)
    table = console.get_by_test_id("room").first
    expect(table.get_by_test_id("room-notes").locator(".note")).to_have_count(6)
    themes = console.get_by_test_id("themes-panel")
    expect(themes.locator(".theme").first).to_be_visible(timeout=THEMES_TIMEOUT_MS)

    # The question with votes runs: Ana answers, votes and calls for help; a broadcast goes out.
    console.get_by_test_id("start-step").nth(5).click()
    ana.get_by_test_id("choice").first.click()
    expect(console.get_by_test_id("console-question")).to_be_visible()
    ana.get_by_test_id("like").first.click()
    expect(console.get_by_test_id("supported-list").locator("li")).to_have_count(1)
    ana.get_by_test_id("help").click()
    expect(table.get_by_test_id("help-flag")).to_be_visible()
    console.get_by_role("textbox", name=fr["console.broadcast.label"]).fill("Encore cinq minutes")
    console.get_by_role("button", name=fr["console.broadcast.send"], exact=True).click()
    expect(console.locator(".sent li")).to_have_count(1)
    with console.context.expect_page() as opened:
        console.get_by_role("button", name=fr["console.screen.open"]).click()
    opened.value.close()
    expect(console.get_by_test_id("screen-link")).to_have_text(fr["console.screen.link"])
    table.get_by_test_id("enter").click()
    console.locator("details.by-table summary").click()
    table.get_by_test_id("person-menu").first.focus()  # its choices are made on focus
    _shot(console, "console-fr-running", full_page=True)

    said = _said(console)
    left = [phrase for phrase in phrases if phrase in said]
    assert left == [], f"English left on the French console: {left}"
    assert errors == []
