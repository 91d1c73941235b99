"""What a facilitator's console receives per re-clustering: the snapshot, or the diff.

    .venv/bin/python bench/theme_diffs.py [--data ../shared/data] [--set stackoverflow]
        [--vectors CACHE.npy] [--start 18000] [--step 50] [--updates 6] [--no-hold]

Replays a labelled set's notes (shuffled, seed 0; note ids are UUIDs as on the wire) into
the theme pipeline: `--start` notes first, then `--updates` re-clusterings each after `--step`
more notes, as a busy event would get them. Prints, per update, the snapshot's size and the
diff's (`nlp.theme_diff`), what the diff carries, and the time to make it. `--no-hold`
re-runs with map points and distinctness scores never held still, to show what holding them
saves. Not a test: figures depend on the data and the machine.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp import theme_diff, themes  # noqa: E402
from nlp.factory import make_embedder, make_pipeline_from  # noqa: E402
from nlp.refresh import encode_payload  # noqa: E402
from nlp.themes import NoteInput  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--set", default="stackoverflow")
    parser.add_argument(
        "--vectors",
        type=Path,
        help=".npy of every row's embedding (as `tablee themes --vectors` writes)",
    )
    parser.add_argument("--start", type=int, default=18000)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument("--updates", type=int, default=6)
    parser.add_argument("--no-hold", action="store_true")
    args = parser.parse_args()

    with (args.data / f"{args.set}.csv").open(newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    if args.vectors is not None and args.vectors.exists():
        every = np.asarray(np.load(args.vectors))
    else:
        every = np.asarray(make_embedder("").embed(texts))
        if args.vectors is not None:
            np.save(args.vectors, every)
    order = np.random.default_rng(0).permutation(len(texts))
    total = min(len(order), args.start + args.step * args.updates)
    notes = [
        NoteInput(
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"{args.set}/{i}")),
            texts[i],
            f"r{k % 40}",
            1.7e9 + k,
        )
        for k, i in enumerate(order[:total])
    ]
    vectors = {n.id: every[i] for n, i in zip(notes, order[:total], strict=True)}
    if args.no_hold:
        themes.MAP_STILL = 0.0
        themes.DISTINCT_STILL = 0.0

    pipeline = make_pipeline_from(None)  # the vectors are all there
    held = None
    payload = None
    rows = []
    for count in range(args.start, total + 1, args.step):
        wall = notes[:count]
        held = pipeline.run(wall, vectors, held)
        new = held.to_payload({n.id: n for n in wall})
        if payload is not None:
            started = time.perf_counter()
            change = theme_diff.diff(payload, new)
            made = time.perf_counter() - started
            held_before = theme_diff.membership(payload)
            snapshot_bytes = len(encode_payload(new))
            diff_bytes = len(encode_payload(change))
            rows.append(
                (
                    count,
                    snapshot_bytes,
                    diff_bytes,
                    sum(1 for n in change["moved"] if n not in held_before),
                    sum(1 for n in change["moved"] if held_before.get(n) is not None),
                    len(change["map"]),
                    len(change["unthemed"]),
                    made,
                )
            )
        payload = new

    hold = "never" if args.no_hold else f"under {themes.MAP_STILL} / {themes.DISTINCT_STILL}"
    print(f"{args.set}, {args.start} notes, then {args.updates} x {args.step} more")
    print(f"map points and distinctness held still: {hold}")
    print()
    header = (
        "notes",
        "snapshot (KB)",
        "diff (KB)",
        "diff / snapshot",
        "new notes",
        "notes that changed theme",
        "map points",
        "unique ideas",
        "diff made in (ms)",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for count, snap, diff, new_notes, changed, points, unique, made in rows:
        cells = (count, f"{snap / 1024:.0f}", f"{diff / 1024:.1f}", f"{diff / snap:.3f}")
        cells += (new_notes, changed, points, unique, f"{made * 1000:.0f}")
        print("| " + " | ".join(str(c) for c in cells) + " |")
    ratio = statistics.median(d / s for _, s, d, *_ in rows)
    print()
    print(f"median diff / snapshot: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
