"""The console's themes code in a real browser: `applyThemesDiff` rebuilds the snapshots the
server's `nlp.theme_diff.apply` does, from diffs the server's code made; and the themes panel
of a large event draws every note on its map, names the one under the pointer, and lists
unique ideas a page at a time."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from nlp import theme_diff
from tests.e2e.test_wall import browser  # noqa: F401
from tests.theme_follower import normalised
from tests.unit.test_theme_diff import Wall

pytestmark = pytest.mark.browser


STEPS = [(8, 0, 0.002, 0.1), (0, 6, 0.05, 0.3), (20, 3, 0.0, 0.0)]


def _cases() -> list[dict[str, Any]]:
    """Consecutive updates of a growing, shrinking, shifting wall, each as (held, diff)."""
    cases = []
    for seed in range(4):
        wall = Wall(seed)
        wall.add(40)
        held = wall.run(0.0, 0.1)
        for added, removed, jitter, noise in [
            (8, 0, 0.002, 0.1),
            (0, 6, 0.05, 0.3),
            (20, 3, 0.0, 0.0),
        ]:
            wall.add(added)
            wall.remove(removed)
            new = wall.run(jitter, noise)
            cases.append({"held": held, "diff": theme_diff.diff(held, new), "want": new})
            held = new
    return json.loads(json.dumps(cases))


def test_the_browser_applies_diffs_as_the_server_does(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    cases = _cases()
    got = _in_page(
        browser,
        event_url,
        """async (cases) => {
            const { applyThemesDiff } = await import("/js/themes-diff.js");
            const out = cases.map((c) => applyThemesDiff(c.held, c.diff));
            const stale = { ...cases[1].held, version: cases[1].held.version - 1 };
            out.push(applyThemesDiff(stale, cases[1].diff));
            return out;
        }""",
        [{"held": c["held"], "diff": c["diff"]} for c in cases],
    )
    assert got[-1] is None, "a diff from another version must not apply"
    for case, result in zip(cases, got[:-1], strict=True):
        assert result is not None
        assert normalised(result) == normalised(case["want"])
        assert result["unthemed"] == case["want"]["unthemed"]  # in the same order


def _in_page(browser: Any, url: str, script: str, arg: Any) -> Any:  # noqa: F811
    """What `script` returns, run with `arg` in a fresh page of the app (its modules import)."""
    page = browser.new_page()
    try:
        page.goto(url + "/")
        return page.evaluate(script, arg)
    finally:
        page.close()


def _large(n: int, themes: int = 12, unthemed: int = 600) -> dict[str, Any]:
    """A themes snapshot of `n` notes: `unthemed` unique ideas, the rest in `themes` themes."""
    ids = [f"00000000-0000-4000-8000-{k:012d}" for k in range(n)]
    per = (n - unthemed) // themes
    cards = []
    for t in range(themes):
        members = ids[unthemed + t * per : unthemed + (t + 1) * per]
        cards.append(
            {
                "id": f"t-{t:08x}",
                "label": f"theme {t}",
                "keywords": ["k"],
                "size": len(members),
                "note_ids": members,
                "representatives": [],
                "rooms": [],
                "growth": [],
            }
        )
    # Theme 0's notes sit in the top-left corner, everything else away from it.
    corner = set(cards[0]["note_ids"])
    points = {i: ([-0.9, 0.9] if i in corner else [0.5, -0.5]) for i in ids}
    return {
        "version": 7,
        "n_notes": n,
        "n_rooms": 3,
        "themes": cards,
        "lineage": [],
        "unthemed": [
            {"id": i, "text": f"unique idea {k}", "room_id": "r", "distinctness": 0.5}
            for k, i in enumerate(ids[:unthemed])
        ],
        "map": points,
    }


def test_a_large_event_s_panel_maps_every_note_and_pages_unique_ideas(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    from playwright.sync_api import expect

    themes = _large(4800)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(event_url + "/")
        page.evaluate(
            """async (themes) => {
                const { renderThemes } = await import("/js/views/themes.js");
                const root = document.createElement("div");
                root.id = "panel";
                document.body.replaceChildren(root);
                window.redraw = (t) => renderThemes(root, t, (r) => r, {});
                window.redraw(themes);
            }""",
            themes,
        )
        canvas = page.get_by_test_id("theme-map")
        expect(canvas).to_have_attribute("data-points", "4800")
        ideas = page.get_by_test_id("unthemed").locator("li")
        expect(ideas).to_have_count(50)
        page.get_by_role("button", name="Show 200 more (550 not shown)").click()
        expect(ideas).to_have_count(250)
        # The next update keeps what the facilitator opened.
        page.evaluate("(t) => window.redraw({...t, version: 8})", themes)
        expect(ideas).to_have_count(250)
        expect(page.get_by_role("button", name="Show 200 more (350 not shown)")).to_be_visible()
        # The pointer over the top-left corner names theme 0.
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        assert box is not None
        scale = box["width"] / 320
        corner = (8 + 0.05 * 304) * scale  # [-0.9, 0.9] on the map, in CSS pixels
        page.mouse.move(box["x"] + corner, box["y"] + corner, steps=2)
        expect(page.get_by_test_id("map-tip")).to_have_text("theme 0")
    finally:
        page.close()


def test_a_console_that_misses_a_diff_asks_again_and_catches_up(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    """One themes.diff is dropped on its way to the facilitator's page: the next diff does not
    fit what the page holds, so it asks for the themes again and shows the latest. Live
    placements are held back throughout, so the page shows only the versions it holds."""
    from playwright.sync_api import expect

    from tests.e2e.test_wall import _create_event, _join, _post

    dropped: list[dict[str, Any]] = []
    watches: list[dict[str, Any]] = []
    armed = False

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["type"] == "themes.assigned":
                return
            if armed and not dropped and frame["type"] == "themes.diff":
                dropped.append(frame)
                return
            ws.send(message)

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["type"] == "themes.watch":
                watches.append(frame)
            server.send(message)

        server.on_message(from_server)
        ws.on_message(from_page)

    errors: list[str] = []
    facilitator, code = _create_event(browser, event_url, "Resync check", errors, route=route)
    ana = _join(browser, event_url, code, "Ana", "Table 1", errors)
    summary = facilitator.get_by_test_id("themes-summary")
    notes = [
        "Protected bike lanes on the road to the station",
        "Bike lanes separated from cars by a kerb",
        "Fresh local vegetables in school meals",
        "Free school meals for every child",
        "Safe bike parking near every school",
        "Children need school meals with less sugar",
    ]
    for text in notes[:4]:
        _post(ana, text)
    expect(summary).to_contain_text("from 4 notes", timeout=30_000)
    assert len(watches) == 1
    armed = True
    _post(ana, notes[4])
    for _ in range(300):
        if dropped:
            break
        facilitator.wait_for_timeout(50)
    assert dropped, "no themes.diff came after the fifth note"
    assert dropped[0]["payload"]["n_notes"] == 5
    expect(summary).to_contain_text("from 4 notes")  # the page never saw version 5
    _post(ana, notes[5])
    expect(summary).to_contain_text("from 6 notes", timeout=30_000)
    assert len(watches) == 2, "the page asks for the themes again once, after the gap"
    assert errors == []


def test_the_console_downloads_the_event_s_notes_and_themes(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    """The console's report buttons save files holding what the tables wrote."""
    from playwright.sync_api import expect

    from tests.e2e.test_wall import _create_event, _join, _post

    errors: list[str] = []
    facilitator, code = _create_event(browser, event_url, "Report check", errors)
    ana = _join(browser, event_url, code, "Ana", "Table 2", errors)
    notes = ["Shade trees along the school road", "=SUM(A1:A9) is not a formula here"]
    for text in notes:
        _post(ana, text)
    expect(facilitator.get_by_test_id("themes-summary")).to_contain_text("from 2 notes")
    with facilitator.expect_download() as download:
        facilitator.get_by_role("button", name="All notes (CSV)").click()
    saved = download.value
    assert saved.suggested_filename == f"tablee-{code}-notes.csv"
    rows = list(csv.DictReader(io.StringIO(Path(saved.path()).read_text("utf-8-sig"))))
    assert [(r["table"], r["text"]) for r in rows] == [
        ("Table 2", notes[0]),
        ("Table 2", "'" + notes[1]),
    ]
    with facilitator.expect_download() as download:
        facilitator.get_by_role("button", name="Themes report").click()
    report = Path(download.value.path()).read_text("utf-8")
    assert report.startswith("# Report check: themes")
    assert "2 notes from 1 table" in report
    assert errors == []


def test_a_theme_card_names_the_steps_its_notes_were_written_in(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    themes = _large(40, themes=2, unthemed=0)
    first, second = themes["themes"]
    first["steps"] = [{"id": "s2", "count": 12}, {"id": "s1", "count": 8}]
    second["steps"] = [{"id": "s1", "count": 20}]
    shown = _in_page(
        browser,
        event_url,
        """async (themes) => {
            const { renderThemes } = await import("/js/views/themes.js");
            const titles = { s1: "Round 1", s2: "Round 2" };
            const lines = (options) => {
                const root = document.createElement("div");
                renderThemes(root, themes, () => "a table", options);
                return [...root.querySelectorAll(".theme")].map(
                    (card) => card.querySelector(".theme-steps")?.textContent ?? null);
            };
            const one = structuredClone(themes);
            for (const t of one.themes) t.steps = [{ id: "s1", count: t.size }];
            const focused = document.createElement("div");
            renderThemes(focused, themes, () => "a table",
                { stepName: (id) => titles[id], focusStep: "s2" });
            const labelsIn = (sel) => [...focused.querySelectorAll(sel)].map(
                (el) => el.textContent);
            return {
                focus: {
                    summary: focused.querySelector("[data-testid=themes-summary]").textContent,
                    first: labelsIn("[data-testid=themes] > .theme .theme-label"),
                    folded: labelsIn("[data-testid=other-step-themes] .theme-label"),
                    badges: labelsIn("[data-testid=themes] .badge"),
                },
                named: lines({ stepName: (id) => titles[id] }),
                unnamed: lines({}),
                oneStep: (() => {
                    const root = document.createElement("div");
                    renderThemes(root, one, () => "a table", { stepName: (id) => titles[id] });
                    return root.querySelectorAll(".theme-steps").length;
                })(),
            };
        }""",
        themes,
    )
    assert shown["named"] == ["Written in Round 2 (12), Round 1 (8)", "Written in Round 1 (20)"]
    assert shown["unnamed"] == [None, None]
    assert shown["oneStep"] == 0, "one step for every note: nothing to tell apart"
    # The step in focus: its themes first, the others folded away.
    focus = shown["focus"]
    assert focus["summary"].endswith(" · 1 theme in Round 2")
    assert focus["first"] == ["theme 0"]
    assert focus["folded"] == ["theme 1"]
    assert "12 in this step" in focus["badges"]


def test_each_table_s_card_names_its_largest_themes_and_unique_ideas(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    themes = _large(80, themes=5, unthemed=5)
    for k, card in enumerate(themes["themes"]):
        card["rooms"] = [{"id": "r1", "count": 2 + k}, {"id": "r2", "count": 1}]
    themes["themes"][4]["hidden"] = True
    themes["unthemed"][0]["room_id"] = "r2"
    lines = _in_page(
        browser,
        event_url,
        """async (themes) => {
            const { roomThemesLine, themesByRoom } = await import("/js/views/themes.js");
            const byRoom = themesByRoom(themes);
            return ["r", "r1", "r2", "r3"].map((id) => roomThemesLine(byRoom.get(id)));
        }""",
        themes,
    )
    # Most notes first; the hidden theme (6 notes at r1) is left out.
    assert lines[1] == "Themes here: theme 3 (5) · theme 2 (4) · theme 1 (3) · 1 more"
    assert lines[2] == (
        "Themes here: theme 0 (1) · theme 1 (1) · theme 2 (1) · 1 more · 1 unique idea"
    )
    assert lines[0] == "Themes here: 4 unique ideas"
    assert lines[3] == ""


def test_a_live_placement_counts_the_note_at_its_table_and_in_its_step(
    browser: Any,  # noqa: F811
    event_url: str,
) -> None:
    themes = _large(20, themes=2, unthemed=2)
    first, second = themes["themes"]
    first["rooms"] = [{"id": "r1", "count": len(first["note_ids"])}]
    first["steps"] = [{"id": "s1", "count": len(first["note_ids"])}]
    first["single_room"] = True
    second["rooms"] = [{"id": "r1", "count": len(second["note_ids"])}]
    after = _in_page(
        browser,
        event_url,
        """async (themes) => {
            const { withPlacement, themesByRoom, roomThemesLine } =
                await import("/js/views/themes.js");
            const placed = (note, theme, room, step) => ({ note, theme, room_id: room,
                step_id: step, text: "a new note", xy: [0.5, 0.5], score: 0.5 });
            let now = withPlacement(themes, placed("n-a", themes.themes[0].id, "r2", "s2"));
            now = withPlacement(now, placed("n-b", themes.themes[0].id, "r2", "s2"));
            now = withPlacement(now, placed("n-c", themes.themes[1].id, "r1", null));
            now = withPlacement(now, placed("n-d", null, "r3", "s2"));
            const again = withPlacement(now, placed("n-a", themes.themes[0].id, "r2", "s2"));
            return { first: now.themes[0], second: now.themes[1], notes: now.n_notes,
                unthemed: now.unthemed.map((n) => n.id), same: again === now,
                r2: roomThemesLine(themesByRoom(now).get("r2")),
                r3: roomThemesLine(themesByRoom(now).get("r3")) };
        }""",
        themes,
    )
    size = len(first["note_ids"])
    assert after["first"]["size"] == first["size"] + 2
    assert after["first"]["rooms"] == [{"id": "r1", "count": size}, {"id": "r2", "count": 2}]
    assert after["first"]["steps"] == [{"id": "s1", "count": size}, {"id": "s2", "count": 2}]
    assert after["first"]["single_room"] is False, "raised at a second table now"
    # Without a step, the step counts stay as they were.
    assert after["second"]["rooms"] == [{"id": "r1", "count": len(second["note_ids"]) + 1}]
    assert "steps" not in after["second"] or after["second"]["steps"] == second.get("steps")
    assert after["notes"] == themes["n_notes"] + 4
    assert after["unthemed"][0] == "n-d"
    assert after["same"], "a note placed twice counts once"
    assert after["r2"] == f"Themes here: {first['label']} (2)"
    assert after["r3"] == "Themes here: 1 unique idea"
