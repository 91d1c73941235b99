"""Every page, checked by axe-core against WCAG 2.2 A and AA as people use it: an assembly
seats older citizens, people with low vision and people on a screen reader, and the
facilitator who runs it may be one of them.

axe-core comes from the `axe-playwright-python` package; its script is loaded into each page.
Pages are audited in the state people see them in: a wall with notes, votes and a question
open; a console with an agenda, tables and themes; a plenary screen; the printable table cards;
the wall, the console and the screen with a table's notes on the screen.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import pytest

from tests.e2e.test_wall import _create_event, _join, _open_screen, _post, browser  # noqa: F401

pytestmark = pytest.mark.browser

AXE = files("axe_playwright_python") / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _violations(page: Any) -> list[str]:
    """What axe finds wrong on the page as it is now, one line per rule and element."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async (tags) => (await axe.run(document, {
             runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})).violations
           .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.map((n) => n.target.join(" ") + ": "
                           + (n.failureSummary || "").replace(/\\s+/g, " "))}))""",
        RULES,
    )
    return [f"{v['id']} ({v['impact']}): {v['help']} at {n}" for v in found for n in v["nodes"]]


def test_every_page_meets_wcag_aa_as_people_use_it(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    landing = browser.new_context().new_page()
    landing.goto(event_url + "/")
    found = {"landing": _violations(landing)}

    console, code = _create_event(browser, event_url, "Accessible assembly", errors)
    joining = browser.new_context().new_page()
    joining.goto(f"{event_url}/join/{code}")
    expect(joining.get_by_label("Your first name or a pseudonym")).to_be_visible()
    found["join"] = _violations(joining)

    console.get_by_text("Format, steps and seating").click()
    form = console.get_by_role("form", name="Add a step")
    form.get_by_label("New step").fill("Ideas")
    form.get_by_label("Prompt", exact=True).fill("What should the town do first?")
    form.get_by_label("Minutes").fill("10")
    form.get_by_role("button", name="Add step").click()
    form.get_by_label("New step").fill("Vote")
    form.get_by_label("Prompt", exact=True).fill("How concerned are you?")
    form.get_by_label("Minutes").fill("10")
    form.get_by_test_id("step-choices").fill("Very\nA little\nNot at all\n")
    form.get_by_role("button", name="Add step").click()
    expect(console.get_by_test_id("agenda-steps").locator("li")).to_have_count(2)

    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    ben = _join(browser, event_url, code, "Ben", "Table 1", errors)
    console.get_by_role("button", name="Start Ideas").click()
    expect(ana.get_by_test_id("step")).to_contain_text("What should the town do first?")
    for text in ("Safe bike lanes to school", "More trees on the main street"):
        _post(ana, text)
    _post(ben, "Bike lanes on every main road")
    expect(ana.locator(".note")).to_have_count(3)
    table = console.get_by_test_id("room").filter(has_text="Table 1")
    table.locator(".room-tools").get_by_test_id("show-on-screen").click()
    expect(ana.get_by_test_id("spotlight").locator(".spotlight-note")).to_have_count(3)
    found["wall"] = _violations(ana)

    screen = _open_screen(browser, console, errors)
    expect(screen.get_by_test_id("step")).to_contain_text("Ideas")
    expect(screen.get_by_test_id("spotlight-title")).to_have_text("Table 1")
    found["plenary screen"] = _violations(screen)

    console.get_by_role("button", name="Start Vote").click()
    expect(ana.get_by_test_id("question")).to_be_visible()
    ana.get_by_test_id("question").get_by_test_id("choice").nth(1).click()
    expect(console.get_by_test_id("question-answered")).to_contain_text("1 of 2")
    expect(console.get_by_test_id("spotlight-now")).to_be_visible()
    found["wall with a question"] = _violations(ana)
    found["console"] = _violations(console)

    with console.expect_popup() as opened:
        console.get_by_role("link", name="Print table cards").click()
    cards = opened.value
    expect(cards.get_by_test_id("table-card").first).to_be_visible()
    found["table cards"] = _violations(cards)

    report = "\n".join(f"{page}: {line}" for page, lines in found.items() for line in lines)
    assert not report, report
    assert not errors, errors


def _focused(locator: Any) -> bool:
    return bool(locator.evaluate("(el) => el === document.activeElement"))


def _tab_to(page: Any, locator: Any, limit: int = 60) -> None:
    """Press Tab until `locator` has the focus, as someone without a mouse would."""
    for _ in range(limit):
        if _focused(locator):
            break
        page.keyboard.press("Tab")
    assert _focused(locator), f"Tab never reached {locator}"
    ring = locator.evaluate(
        "(el) => { const s = getComputedStyle(el);"
        " return s.outlineStyle !== 'none' && s.outlineWidth !== '0px' || s.boxShadow !== 'none'; }"
    )
    assert ring, f"{locator} has the focus but shows no focus ring"


def test_a_participant_takes_part_with_the_keyboard_alone_on_a_narrow_screen(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    """Joining, writing, liking and answering without a mouse; the focus stays where the
    person is after each action; at 320 CSS pixels (400% zoom) nothing scrolls sideways."""
    from playwright.sync_api import expect

    errors: list[str] = []
    console, code = _create_event(browser, event_url, "Keyboard assembly", errors)
    console.get_by_text("Format, steps and seating").click()
    form = console.get_by_role("form", name="Add a step")
    for title, choices in (("Ideas", ""), ("Vote", "Very\nA little\nNot at all\n")):
        form.get_by_label("New step").fill(title)
        form.get_by_label("Prompt", exact=True).fill(f"{title}, please")
        form.get_by_label("Minutes").fill("10")
        form.get_by_test_id("step-choices").fill(choices)
        form.get_by_role("button", name="Add step").click()
    expect(console.get_by_test_id("agenda-steps").locator("li")).to_have_count(2)
    ben = _join(browser, event_url, code, "Ben", "Table 1", errors)
    console.get_by_role("button", name="Start Ideas").click()
    _post(ben, "Bike lanes on every main road")

    page = browser.new_context(viewport={"width": 320, "height": 640}).new_page()
    page.on("pageerror", lambda exc: errors.append(f"keyboard: {exc}"))
    page.goto(f"{event_url}/join/{code}")
    name = page.get_by_label("Your first name or a pseudonym")
    _tab_to(page, name)
    page.keyboard.type("Kim")
    # Tab enters the list of tables on its chosen radio; the arrows move between them.
    chosen = page.locator("input[type=radio]:checked")
    _tab_to(page, chosen)
    table = page.get_by_label("Table 1", exact=False).first
    for _ in range(5):
        if table.is_checked():
            break
        page.keyboard.press("ArrowDown")
    expect(table).to_be_checked()
    _tab_to(page, page.get_by_role("button", name="Join the table"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "open")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, "scrolls sideways"

    box = page.get_by_label("Your note")
    _tab_to(page, box)
    page.keyboard.type("Trees on the main street")
    _tab_to(page, page.get_by_role("button", name="Post note"))
    page.keyboard.press("Enter")
    expect(page.locator(".note").filter(has_text="Trees on the main street")).to_have_count(1)

    like = page.locator(".note").filter(has_text="Bike lanes").get_by_test_id("like")
    _tab_to(page, like)
    page.keyboard.press("Enter")
    expect(like).to_have_attribute("aria-pressed", "true")
    assert _focused(like), "the focus left the like button after liking"

    console.get_by_role("button", name="Start Vote").click()
    # The choices are a radio group: Tab enters it on its first choice (none chosen yet), Space
    # chooses it, the arrows choose another, and the focus follows the choice made.
    choices = page.get_by_role("radiogroup", name="Vote, please").get_by_role("radio")
    expect(choices).to_have_count(3)
    _tab_to(page, choices.nth(0))
    page.keyboard.press("Space")
    expect(choices.nth(0)).to_have_attribute("aria-checked", "true")
    page.keyboard.press("ArrowDown")
    expect(choices.nth(1)).to_have_attribute("aria-checked", "true")
    expect(choices.nth(0)).to_have_attribute("aria-checked", "false")
    expect(page.get_by_test_id("question-status")).to_contain_text("A little")
    expect(choices.nth(1)).to_be_enabled()
    assert _focused(choices.nth(1)), "the focus left the chosen answer"
    _tab_to(page, page.get_by_role("button", name="Withdraw my answer"), limit=1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, "scrolls sideways"
    assert not errors, errors
