"""How long a facilitator's browser takes to redraw the themes panel as an event grows.

    .venv/bin/python bench/console.py [--sizes 1000,5000,20000] [--repeats 5]

Starts `tablee serve` (hashing embedder; no theme work is timed here), opens a page in
Debian's chromium, and renders synthetic themes snapshots of each size with the console's
own `renderThemes`: 16 themes, 18% of notes unique ideas, every note on the map. Prints the
median time per redraw, layout and paint included, and its ratio to the smallest size's in
the same run. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import end_process, free_port  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REDRAW = """async ([themes, repeats]) => {
  const { renderThemes } = await import("/js/views/themes.js");
  const root = document.createElement("div");
  document.body.replaceChildren(root);
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    renderThemes(root, { ...themes, version: themes.version + i }, (r) => r, {});
    document.body.offsetHeight;  // layout now
    await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));  // and paint
    times.push(performance.now() - started);
  }
  return times;
}"""


def snapshot(n: int, themes: int = 16, unique_share: float = 0.18) -> dict[str, Any]:
    rng = random.Random(n)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(n)]
    unique = int(n * unique_share)
    per = (n - unique) // themes
    cards = []
    for t in range(themes):
        members = ids[unique + t * per : unique + (t + 1) * per]
        cards.append(
            {
                "id": f"t-{t:08x}",
                "label": f"theme {t}",
                "keywords": ["bike", "lanes", "traffic"],
                "size": len(members),
                "note_ids": members,
                "representatives": [
                    {"id": m, "text": "A representative note of this theme", "room_id": "r1"}
                    for m in members[:3]
                ],
                "rooms": [{"id": f"r{k}", "count": 1} for k in range(12)],
                "single_room": False,
                "recent": 4,
                "growth": list(range(0, 120, 10)),
            }
        )
    return {
        "version": 1,
        "n_notes": n,
        "n_rooms": 40,
        "themes": cards,
        "unthemed": [
            {"id": i, "text": "An idea nobody else had", "room_id": "r2", "distinctness": 0.5}
            for i in ids[:unique]
        ],
        "map": {i: [rng.uniform(-1, 1), rng.uniform(-1, 1)] for i in ids},
        "lineage": [],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {**os.environ, "TABLEE_EMBEDDING_MODEL": "hashing", "TABLEE_PORT": str(port)}
    with tempfile.TemporaryDirectory() as tmp:
        env["TABLEE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp}/bench.db"
        server = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url + "/")
                medians = {}
                for n in sizes:
                    times = page.evaluate(REDRAW, [snapshot(n), args.repeats])
                    medians[n] = statistics.median(times[1:] or times)  # the first warms up
                browser.close()
        finally:
            end_process(server)

    print("| notes | redraw, median (ms) | × smallest |")
    print("|---|---|---|")
    for n in sizes:
        print(f"| {n} | {medians[n]:.0f} | {medians[n] / medians[sizes[0]]:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
