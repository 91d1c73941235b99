"""The web client's `applyThemesDiff`, in a real browser, rebuilds the snapshots the
server's `nlp.theme_diff.apply` does, from diffs the server's code made."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from nlp import theme_diff
from tests.e2e.test_wall import browser  # noqa: F401
from tests.theme_follower import normalised
from tests.unit.test_theme_diff import Wall

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(request: pytest.FixtureRequest) -> str:
    url = os.environ.get("TABLEE_E2E_URL")
    if url:
        return url.rstrip("/")
    return str(request.getfixturevalue("live_server_fast").url).rstrip("/")


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
    app_url: str,
) -> None:
    cases = _cases()
    page = browser.new_page()
    try:
        page.goto(app_url + "/")
        got = page.evaluate(
            """async (cases) => {
                const { applyThemesDiff } = await import("/js/themes-diff.js");
                const out = cases.map((c) => applyThemesDiff(c.held, c.diff));
                const stale = { ...cases[1].held, version: cases[1].held.version - 1 };
                out.push(applyThemesDiff(stale, cases[1].diff));
                return out;
            }""",
            [{"held": c["held"], "diff": c["diff"]} for c in cases],
        )
    finally:
        page.close()
    assert got[-1] is None, "a diff from another version must not apply"
    for case, result in zip(cases, got[:-1], strict=True):
        assert result is not None
        assert normalised(result) == normalised(case["want"])
        assert result["unthemed"] == case["want"]["unthemed"]  # in the same order
