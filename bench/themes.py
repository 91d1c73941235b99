"""Theme benchmarks: quality on the labelled sets, re-clustering time, placement latency.

    .venv/bin/python bench/themes.py [--data ../shared/data] [--cache DIR] [--quick]

Prints one Markdown table. Quality rows run `tablee themes --json` on each labelled set
(every row, shuffled with seed 0; embeddings cached as .npy in --cache so reruns take
seconds). The latency row places notes one by one into an event of 5,000 notes while a
full re-clustering of 20,000 notes runs on the other thread, as in the server's runner.
Not a test: figures depend on the machine; the goals are printed beside them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SETS = ("stackoverflow", "biomedical", "searchsnippets")


def quality(data: Path, cache: Path, name: str, limit: int | None) -> dict[str, float]:
    command = [
        str(ROOT / ".venv/bin/tablee"),
        "themes",
        str(data / f"{name}.csv"),
        "--label-column",
        "label",
        "--vectors",
        str(cache / f"{name}.npy"),
        "--json",
    ]
    if limit:
        command += ["--limit", str(limit)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


def placement(cache: Path, data: Path) -> dict[str, float]:
    """Seconds to place one note (embed + nearest theme + twins) during a 20k re-clustering."""
    sys.path.insert(0, str(ROOT))
    import csv

    from nlp.factory import make_pipeline
    from nlp.runner import PipelineHost
    from nlp.themes import NoteInput

    with (data / "stackoverflow.csv").open(newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    vectors = np.load(cache / "stackoverflow.npy")
    host = PipelineHost(make_pipeline(""))
    small = [NoteInput(f"s{i}", texts[i], f"r{i % 12}") for i in range(5000)]
    large = [NoteInput(f"l{i}", texts[i], f"r{i % 12}") for i in range(20000)]
    for event, notes in (("small", small), ("large", large)):
        cache_ = host._cache(event)
        for note, row in zip(notes, vectors, strict=False):
            cache_.vectors[note.id] = row
            cache_.texts[note.id] = note.text
    started = time.perf_counter()
    host.run("small", small, None)
    small_run = time.perf_counter() - started

    run_seconds: list[float] = []

    def recluster() -> None:
        t0 = time.perf_counter()
        host.run("large", large, None)
        run_seconds.append(time.perf_counter() - t0)

    quiet = []
    for k in range(30):
        t0 = time.perf_counter()
        host.place("small", [NoteInput(f"quiet{k}", texts[14000 + k], "r1")])
        quiet.append(time.perf_counter() - t0)

    thread = threading.Thread(target=recluster)
    thread.start()
    latencies = []
    k = 0
    while thread.is_alive() or k < 50:
        text = texts[15000 + k]
        t0 = time.perf_counter()
        host.place("small", [NoteInput(f"new{k}", text, "r1")])
        latencies.append(time.perf_counter() - t0)
        k += 1
        time.sleep(0.05)
    thread.join()
    return {
        "quiet_p50": float(np.percentile(quiet, 50)),
        "quiet_p95": float(np.percentile(quiet, 95)),
        "place_p50": float(np.percentile(latencies, 50)),
        "place_p95": float(np.percentile(latencies, 95)),
        "placed": float(len(latencies)),
        "run_5k": small_run,
        "run_20k": run_seconds[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tablee-bench"))
    parser.add_argument("--quick", action="store_true", help="5,000 rows per set")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    limit = 5000 if args.quick else None

    print(
        "| set | notes | themes | unthemed | NMI | ARI | NMI themed | k-means NMI (true k) "
        "| k-means ARI | churn +10% | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in SETS:
        r = quality(args.data, args.cache, name, limit)
        print(
            f"| {name} | {r['n_notes']} | {r['n_themes']} | {r['unthemed_share']:.1%} "
            f"| {r['nmi']:.3f} | {r['ari']:.3f} | {r['nmi_themed']:.3f} | {r['kmeans_nmi']:.3f} "
            f"| {r['kmeans_ari']:.3f} | {r['churn']:.1%} | {r['stages']['cluster']:.1f} cluster, "
            f"{r['seconds']:.0f} total |",
            flush=True,
        )
    p = placement(args.cache, args.data)
    print()
    print("| figure | value | goal |")
    print("|---|---|---|")
    print(f"| full re-clustering, 20,000 notes (s) | {p['run_20k']:.1f} | ≤ 15 |")
    print(f"| full re-clustering, 5,000 notes (s) | {p['run_5k']:.1f} | |")
    print(
        f"| note placed in a theme, 5,000-note event, nothing else running: p50 / p95 (s) "
        f"| {p['quiet_p50']:.3f} / {p['quiet_p95']:.3f} | |"
    )
    print(
        f"| note placed in a theme, 5,000-note event, during a 20k re-clustering: "
        f"p50 / p95 (s, {p['placed']:.0f} notes) | {p['place_p50']:.3f} / {p['place_p95']:.3f} "
        f"| p95 ≤ 2 |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
