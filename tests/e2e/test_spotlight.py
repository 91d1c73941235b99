"""On the screen: the console brings one table's notes, one note or one theme before the
plenary. The projector shows it large and every phone shows it too, at every table, so the
tables taking part online see what the hall sees; the console's bar goes from one table to the
next; a reload keeps it; a note deleted leaves the screen with it; "Clear the screen" empties
it everywhere; a French event says it in French.

Runs against the `live_server_fast` fixture, or a server at TABLEE_E2E_URL.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_console_language import _join as _join_first_table
from tests.e2e.test_console_language import _open_console
from tests.e2e.test_languages import _catalogues, _create
from tests.e2e.test_themes_console import _in_page
from tests.e2e.test_wall import (  # noqa: F401
    BIKE_NOTES,
    MEAL_NOTES,
    _create_event,
    _join,
    _note,
    _open_screen,
    _post,
    _shot,
    browser,
)

pytestmark = pytest.mark.browser

THEMES_TIMEOUT_MS = 60_000


def test_what_the_console_puts_on_the_screen_reaches_the_hall_and_every_table(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    console, code = _create_event(browser, event_url, "Spotlight assembly", errors)
    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    ben = _join(browser, event_url, code, "Ben", "Table 2", errors)
    screen = _open_screen(browser, console, errors)
    phones = (ana, ben)
    everyone = (screen, ana, ben)

    for text in (BIKE_NOTES[0], MEAL_NOTES[0], BIKE_NOTES[1]):
        _post(ana, text)
    for text in (BIKE_NOTES[2], MEAL_NOTES[1], MEAL_NOTES[2]):
        _post(ben, text)
    # Ana likes her oldest note: it comes first when her table reports back.
    _note(ana, BIKE_NOTES[0]).get_by_test_id("like").click()
    table_1 = console.get_by_test_id("room").filter(has_text="Table 1")
    table_2 = console.get_by_test_id("room").filter(has_text="Table 2")
    expect(_note(table_1, BIKE_NOTES[0]).locator(".like-count")).to_have_text("1")
    expect(table_2.locator(".note")).to_have_count(3)
    for page in everyone:
        expect(page.get_by_test_id("spotlight")).to_have_count(0)
    bar = console.get_by_test_id("spotlight-now")
    expect(bar).to_have_count(0)

    # Table 1 reports back: the hall and both tables see its notes, most liked first.
    table_1.locator(".room-tools").get_by_test_id("show-on-screen").click()
    reported = [BIKE_NOTES[0], BIKE_NOTES[1], MEAL_NOTES[0]]
    spot = screen.get_by_test_id("spotlight")
    expect(spot.get_by_test_id("spotlight-title")).to_have_text("Table 1")
    expect(spot.locator(".spotlight-kind")).to_have_text("A table reports back")
    expect(spot.get_by_test_id("spotlight-meta")).to_have_text("3 notes")
    expect(spot.locator(".spotlight-text")).to_have_text(reported)
    expect(spot.get_by_test_id("spotlight-note").first).to_contain_text("1 like")
    for page in phones:
        on_phone = page.get_by_test_id("spotlight")
        expect(on_phone.get_by_test_id("spotlight-title")).to_have_text(
            "On the plenary screen now: Table 1"
        )
        expect(on_phone.get_by_test_id("spotlight-meta")).to_have_text(
            "A table reports back · 3 notes"
        )
        expect(on_phone.locator(".spotlight-text")).to_have_text(reported)
    expect(bar).to_have_text("On the screen: the notes of Table 1")
    expect(console.get_by_test_id("spotlight-bar")).to_contain_text("shown by Fran")
    # Large on the projector, compact on a phone.
    big = spot.get_by_test_id("spotlight-title").evaluate("(el) => getComputedStyle(el).fontSize")
    small = ana.get_by_test_id("spotlight-title").evaluate("(el) => getComputedStyle(el).fontSize")
    assert float(big.removesuffix("px")) >= 2.5 * float(small.removesuffix("px"))
    _shot(screen, "spotlight-table-screen")
    _shot(ana, "spotlight-table-phone", full_page=True)
    _shot(console, "spotlight-table-console")

    # The bar goes on to the next table, round the report-back, and stops at the last.
    console.get_by_test_id("spotlight-next").click()
    expect(spot.get_by_test_id("spotlight-title")).to_have_text("Table 2")
    expect(spot.locator(".spotlight-text")).to_have_count(3)
    expect(bar).to_have_text("On the screen: the notes of Table 2")
    expect(console.get_by_test_id("spotlight-next")).to_have_text("Next table: Table 3")
    console.get_by_test_id("spotlight-next").click()
    expect(spot.get_by_test_id("spotlight-meta")).to_have_text("No notes yet")
    expect(ana.get_by_test_id("spotlight-title")).to_have_text("On the plenary screen now: Table 3")
    expect(console.get_by_test_id("spotlight-next")).to_have_count(0)

    # One note, from Ben's table.
    _note(table_2, MEAL_NOTES[1]).get_by_test_id("show-on-screen").click()
    expect(spot.get_by_test_id("spotlight-title")).to_have_text("Table 2")
    expect(spot.locator(".spotlight-kind")).to_have_text("One note")
    expect(spot.locator(".spotlight-text")).to_have_text([MEAL_NOTES[1]])
    for page in phones:
        expect(page.get_by_test_id("spotlight").locator(".spotlight-text")).to_have_text(
            [MEAL_NOTES[1]]
        )
    expect(bar).to_have_text("On the screen: a note from Table 2")
    expect(console.get_by_test_id("spotlight-bar")).to_have_text(
        "On the screen: a note from Table 2shown by FranClear the screen"
    )

    # Ben folds it away on his phone; his note edited, the screen shows its new words and his
    # phone keeps it folded.
    ben.get_by_test_id("spotlight").locator("summary").click()
    expect(ben.get_by_test_id("spotlight").locator(".spotlight-text")).to_be_hidden()
    edited = MEAL_NOTES[1] + ", breakfast too"
    _note(ben, MEAL_NOTES[1]).get_by_role("button", name="Edit").click()
    ben.get_by_label("Edit your note").fill(edited)
    ben.get_by_role("button", name="Save").click()
    for page in everyone:
        expect(page.get_by_test_id("spotlight").locator(".spotlight-text")).to_have_text([edited])
    expect(ben.get_by_test_id("spotlight").locator(".spotlight-text")).to_be_hidden()
    expect(ben.get_by_test_id("spotlight-title")).to_be_visible()

    # A reload of the screen and of a phone shows what is on the screen now.
    screen.reload()
    ana.reload()
    for page in (screen, ana):
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "open")
        expect(page.get_by_test_id("spotlight").locator(".spotlight-text")).to_have_text([edited])
        expect(page.get_by_test_id("spotlight").locator(".spotlight-text")).to_be_visible()

    # Its author deletes it: it leaves the screen, and every page, with it.
    ben.once("dialog", lambda dialog: dialog.accept())
    _note(ben, edited).get_by_role("button", name="Delete").click()
    for page in everyone:
        expect(page.get_by_test_id("spotlight")).to_have_count(0)
    expect(bar).to_have_count(0)

    # A theme, from the console's themes panel.
    theme = console.get_by_test_id("themes").locator(".theme").first
    expect(theme).to_be_visible(timeout=THEMES_TIMEOUT_MS)
    label = theme.locator(".theme-label").inner_text()
    size = theme.locator(".badge").first.inner_text()  # "3 notes"
    assert re.fullmatch(r"\d+ notes?", size), size
    theme.get_by_test_id("show-on-screen").click()
    expect(spot.get_by_test_id("spotlight-title")).to_have_text(label)
    expect(spot.locator(".spotlight-kind")).to_have_text("Theme")
    expect(spot.get_by_test_id("spotlight-meta")).to_have_text(
        re.compile(rf"^{size} · from (every table|\d+( of \d+)? tables?)$")
    )
    notes = spot.get_by_test_id("spotlight-note")
    expect(notes.first).to_be_visible()
    assert 1 <= notes.count() <= 3
    for k in range(notes.count()):
        expect(notes.nth(k).locator(".spotlight-from")).to_contain_text(re.compile("Table [12]"))
    expect(ben.get_by_test_id("spotlight-title")).to_have_text(
        f"On the plenary screen now: {label}"
    )
    expect(ben.get_by_test_id("spotlight-note").first).to_be_visible()  # unfolded: a new one
    expect(bar).to_have_text(f"On the screen: the theme “{label}”")
    _shot(screen, "spotlight-theme-screen")

    # One of the notes the board quotes, on its own.
    quoted = theme.locator(".quote q").first.inner_text()
    board = console.get_by_test_id("themes")
    board.locator(".quote", has_text=quoted).first.get_by_test_id("show-note-on-screen").click()
    expect(spot.locator(".spotlight-kind")).to_have_text("One note")
    expect(spot.locator(".spotlight-text")).to_have_text([quoted])
    expect(bar).to_have_text(re.compile(r"^On the screen: a note from Table [12]$"))
    _shot(console, "spotlight-board-console", full_page=True)

    # "Clear the screen" empties it everywhere.
    console.get_by_test_id("spotlight-clear").click()
    for page in everyone:
        expect(page.get_by_test_id("spotlight")).to_have_count(0)
    expect(bar).to_have_count(0)

    # A note the console deletes leaves the screen too.
    _note(table_1, MEAL_NOTES[0]).get_by_test_id("show-on-screen").click()
    for page in everyone:
        expect(page.get_by_test_id("spotlight").locator(".spotlight-text")).to_have_text(
            [MEAL_NOTES[0]]
        )
    console.once("dialog", lambda dialog: dialog.accept())
    _note(table_1, MEAL_NOTES[0]).get_by_role("button", name="Delete").click()
    for page in everyone:
        expect(page.get_by_test_id("spotlight")).to_have_count(0)
    expect(bar).to_have_count(0)
    assert errors == []


def test_a_french_event_says_what_is_on_the_screen_in_french(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    created = _create(event_url, "fr")
    console = _open_console(browser, created, errors)
    ana = _join_first_table(browser, event_url, created["event"]["join_code"], "Ana", errors)
    fr = _catalogues(ana)["fr"]
    ana.locator("#note-text").fill("Des pistes cyclables protégées jusqu'à la gare")
    ana.locator("#composer-slot button[type=submit]").click()
    table = console.get_by_test_id("room").first
    expect(table.locator(".note")).to_have_count(1)
    table.locator(".room-tools").get_by_test_id("show-on-screen").click()
    one_note = fr["spotlight.notes"]["one"].replace("{n}", "1")
    expect(ana.get_by_test_id("spotlight-meta")).to_have_text(
        f"{fr['spotlight.kind.room']} · {one_note}"
    )
    name = table.locator("h3").inner_text()
    expect(console.get_by_test_id("spotlight-now")).to_have_text(
        fr["console.spotlight.on.room"].replace("{title}", name)
    )
    expect(console.get_by_test_id("spotlight-clear")).to_have_text(fr["console.spotlight.clear"])
    assert errors == []


def test_the_meta_line_counts_in_each_language_and_notes_stay_text(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    said = _in_page(
        browser,
        event_url,
        """async () => {
            const i18n = await import("/js/i18n.js");
            const { latestOnly, metaLine, renderSpotlight } =
                await import("/js/views/spotlight.js");
            const note = (k, likes) => ({ id: `n${k}`, text: `note ${k}`, room_id: "r",
                room: "Table 3", likes });
            const base = { id: "x", by: "Fran", set_at: "2026-12-07T08:00:00+00:00" };
            const theme = (size, rooms, of) => ({ ...base, kind: "theme", title: "bike lanes",
                notes: [note(1, 0)], size, rooms, of_rooms: of });
            const room = (size, shown) => ({ ...base, kind: "room", title: "Table 3",
                notes: Array.from({ length: shown }, (_, k) => note(k, 0)), size,
                rooms: null, of_rooms: null });
            const cases = [theme(14, 5, 12), theme(1, 1, 12), theme(6, 3, 3), theme(4, 2, null),
                room(23, 6), room(1, 1), room(0, 0)];
            const lines = {};
            for (const lang of ["en", "fr", "de"]) {
                i18n.useLanguage(lang);
                lines[lang] = cases.map(metaLine);
            }
            i18n.useLanguage("en");
            const root = document.createElement("div");
            const markup = '<img src=x onerror="window.pwned = 1">';
            renderSpotlight(root, { ...room(1, 1), notes: [{ ...note(1, 2), text: markup }] });
            const drawn = [];
            const feed = latestOnly((s) => drawn.push(s ? s.title : null));
            feed(theme(1, 1, 1), 3);
            feed(null, 2);  // an older change, delivered late
            feed(room(1, 1), 4);
            feed(null, undefined);
            return { lines, drawn, images: root.querySelectorAll("img").length,
                text: root.querySelector(".spotlight-text").textContent,
                from: root.querySelector(".spotlight-from").textContent };
        }""",
        None,
    )
    assert said["lines"]["en"] == [
        "14 notes · from 5 of 12 tables",
        "1 note · from 1 of 12 tables",
        "6 notes · from every table",
        "4 notes · from 2 tables",
        "6 of 23 notes, most liked first",
        "1 note",
        "No notes yet",
    ]
    assert said["lines"]["fr"] == [
        "14 contributions · de 5 tables sur 12",
        "1 contribution · de 1 table sur 12",
        "6 contributions · de toutes les tables",
        "4 contributions · de 2 tables",
        "6 contributions sur 23, les plus appréciées d’abord",
        "1 contribution",
        "Pas encore de contribution",
    ]
    assert said["lines"]["de"] == [
        "14 Beiträge · an 5 von 12 Tischen",
        "1 Beitrag · an 1 von 12 Tischen",
        "6 Beiträge · an allen Tischen",
        "4 Beiträge · an 2 Tischen",
        "6 von 23 Beiträgen, die beliebtesten zuerst",
        "1 Beitrag",
        "Noch keine Beiträge",
    ]
    # A note is shown as the words typed, never as markup.
    assert said["images"] == 0
    assert said["text"] == '<img src=x onerror="window.pwned = 1">'
    assert said["from"] == "2 likes"  # a table's own notes do not repeat its name
    assert said["drawn"] == ["bike lanes", "Table 3", None]
