"""Theme benchmarks: quality on the labelled sets, and the live board as a server runs it.

    .venv/bin/python bench/themes.py [--data ../shared/data] [--cache DIR] [--quick]
        [--seeds 0,1,2] [--skip-quality] [--skip-board] [--skip-recluster]

Prints one Markdown section. Quality rows run `tablee themes --json` on each labelled set
(every row, shuffled with each of --seeds: the number of themes found, and so NMI and
churn, move with the order the notes arrive in; embeddings cached as .npy in --cache so reruns take
seconds). The figures below them come from `bench/board.py`: a real `tablee serve` with the
packaged model, driven by `tablee simulate`: each note's time to the facilitator's board in
a 5,000-note event, full re-clustering of 20,000 notes, and room delivery with and without
that re-clustering running. Not a test: figures depend on the machine (and on whatever else
runs on it); the goals are printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import board

ROOT = Path(__file__).resolve().parent.parent
SETS = ("stackoverflow", "biomedical", "searchsnippets")


def quality(data: Path, cache: Path, name: str, limit: int | None, seed: int) -> dict[str, Any]:
    # This checkout's code, not whichever `tablee` is installed.
    command = [
        sys.executable,
        "-m",
        "server.cli",
        "themes",
        str(data / f"{name}.csv"),
        "--label-column",
        "label",
        "--vectors",
        str(cache / f"{name}.npy"),
        "--json",
        "--seed",
        str(seed),
    ]
    if limit:
        command += ["--limit", str(limit)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tablee-bench"))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5,000 rows per set; a 1,000-note event for the board, 5,000 notes re-clustered",
    )
    parser.add_argument(
        "--seeds", default="0", help="shuffle seeds of the quality rows, comma-separated (0)"
    )
    parser.add_argument("--skip-quality", action="store_true", help="no quality rows")
    parser.add_argument("--skip-board", action="store_true", help="no note → board stream")
    parser.add_argument("--skip-recluster", action="store_true", help="no re-clustering streams")
    parser.add_argument("--repeats", type=int, default=2, help="stream pairs, with and without")
    parser.add_argument("--json", type=Path, help="also write the simulate reports here")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    limit = 5000 if args.quick else None

    load = os.getloadavg()[0]
    print(f"## Theme benchmark, {time.strftime('%Y-%m-%d %H:%M')}")
    print()
    print(f"`{shlex.join(['bench/themes.py', *sys.argv[1:]])}`; load average {load:.1f} at start")
    if not args.skip_quality:
        print()
        print(
            "| set | seed | notes | themes | unthemed | NMI | ARI | NMI themed "
            "| k-means NMI (true k) | k-means ARI | k-means NMI, words blended "
            "| churn +10% | seconds |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for name in SETS:
            for seed in [int(s) for s in args.seeds.split(",")]:
                r = quality(args.data, args.cache, name, limit, seed)
                print(
                    f"| {name} | {seed} | {r['n_notes']} | {r['n_themes']} "
                    f"| {r['unthemed_share']:.1%} | {r['nmi']:.3f} | {r['ari']:.3f} "
                    f"| {r['nmi_themed']:.3f} | {r['kmeans_nmi']:.3f} | {r['kmeans_ari']:.3f} "
                    f"| {r['kmeans_words_nmi']:.3f} | {r['churn']:.1%} "
                    f"| {r['stages']['cluster']:.1f} cluster, {r['seconds']:.0f} total |",
                    flush=True,
                )
    if args.skip_board and args.skip_recluster:
        return 0
    with tempfile.TemporaryDirectory(prefix="tablee-board-") as tmp:
        figures = asyncio.run(
            board.measure(
                args.data,
                preload=1000 if args.quick else 5000,
                big=5000 if args.quick else 20000,
                rate=10.0,
                seconds=30.0,
                repeats=1 if args.quick else args.repeats,
                directory=Path(tmp),
                skip_board=args.skip_board,
                skip_recluster=args.skip_recluster,
            )
        )
    print()
    print("| figure | value | goal |")
    print("|---|---|---|")
    for figure, value, goal in board.rows(figures):
        print(f"| {figure} | {value} | {goal} |")
    if args.json is not None:
        args.json.write_text(json.dumps(board.to_json(figures), indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
