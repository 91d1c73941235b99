"""`tablee themes`: the themes of a CSV of notes, and how right and stable they are.

With a label column it also prints, on the same vectors, NMI and ARI against the labels,
the unthemed share, the number of themes, the same for k-means given the true number of
labels, and the churn when the last 10% of rows arrive. Rows are shuffled (seeded) first,
because labelled sets are often sorted by label and real notes do not arrive that way.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "themes",
        help="print the themes of a CSV of notes (and quality figures against labels)",
        description="Cluster the texts of a CSV file into themes as the live board would.",
    )
    parser.add_argument("csv", type=Path, metavar="FILE.csv")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", help="true labels: print NMI, ARI, k-means, churn")
    parser.add_argument("--room-column", help="which room each note came from")
    parser.add_argument("--limit", type=int, help="use at most this many rows (after shuffling)")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed (default 0)")
    parser.add_argument("--keep-order", action="store_true", help="do not shuffle the rows")
    parser.add_argument(
        "--model", default=None, help="embedding model: path or name (TABLEE_EMBEDDING_MODEL)"
    )
    parser.add_argument(
        "--word-weight",
        type=float,
        default=None,
        help="share of shared words in how alike notes are, 0 to 0.99 (TABLEE_THEME_WORD_WEIGHT)",
    )
    parser.add_argument(
        "--vectors", type=Path, help="a .npy cache of the embeddings: read if present, else written"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=main)


def _read(args: argparse.Namespace) -> tuple[list[str], list[str] | None, list[str]]:
    with args.csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for column in (args.text_column, args.label_column, args.room_column):
        if column and rows and column not in rows[0]:
            raise SystemExit(f"tablee themes: no column {column!r} in {args.csv}")
    texts = [r[args.text_column] for r in rows]
    labels = [r[args.label_column] for r in rows] if args.label_column else None
    rooms = [r[args.room_column] for r in rows] if args.room_column else ["csv"] * len(rows)
    return texts, labels, rooms


def _model(args: argparse.Namespace) -> str:
    if args.model is not None:
        return str(args.model)
    from .settings import load_settings

    return load_settings().embedding_model


def _word_weight(args: argparse.Namespace) -> float:
    if args.word_weight is not None:
        if not 0.0 <= args.word_weight < 1.0:
            raise SystemExit("tablee themes: --word-weight must be at least 0 and below 1")
        return float(args.word_weight)
    from .settings import load_settings

    return load_settings().theme_word_weight


def _vectors(args: argparse.Namespace, texts: list[str], order: np.ndarray) -> np.ndarray:
    """Embeddings of the rows in `order`, through the `--vectors` cache when given."""
    from nlp.factory import make_embedder

    cache: Path | None = args.vectors
    if cache is not None and cache.exists():
        every = np.asarray(np.load(cache))
        if every.shape[0] != len(texts):
            raise SystemExit(f"tablee themes: {cache} has {every.shape[0]} rows, not {len(texts)}")
        picked: np.ndarray = every[order]
        return picked
    embedder = make_embedder(_model(args))
    if cache is None:
        return embedder.embed([texts[i] for i in order])
    every = np.asarray(embedder.embed(texts))
    np.save(cache, every)
    result: np.ndarray = every[order]
    return result


def main(args: argparse.Namespace) -> int:
    from nlp.evaluate import agreement, churn, kmeans_baseline, theme_labels
    from nlp.factory import make_pipeline_from
    from nlp.themes import NoteInput

    seconds: dict[str, float] = {}
    texts, truth, rooms = _read(args)
    order = np.arange(len(texts))
    if not args.keep_order:
        order = np.random.default_rng(args.seed).permutation(len(texts))
    if args.limit is not None:
        order = order[: args.limit]

    started = time.perf_counter()
    order_vectors = _vectors(args, texts, order)
    seconds["embed"] = time.perf_counter() - started

    notes = [NoteInput(f"n{i}", texts[i], rooms[i], float(k)) for k, i in enumerate(order)]
    vectors = {note.id: order_vectors[k] for k, note in enumerate(notes)}
    pipeline = make_pipeline_from(None, _word_weight(args))

    themes = pipeline.run(notes, vectors, None)
    seconds["cluster"] = pipeline.timings["cluster"]
    seconds["themes"] = pipeline.timings["themes"]
    by_id = {n.id: n for n in notes}
    payload = themes.to_payload(by_id)
    result: dict[str, Any] = {"n_notes": len(notes), "n_themes": len(themes.themes)}
    result["unthemed_share"] = len(themes.unthemed_ids) / len(notes) if notes else 0.0

    if truth is not None:
        ids = [n.id for n in notes]
        true = [truth[i] for i in order]
        ours = agreement(theme_labels(themes, ids), true)
        t0 = time.perf_counter()
        base = kmeans_baseline(order_vectors, true)
        # The same baseline where themes are found, when shared words are blended in: the
        # fair comparison for the clustering itself, the one above for the whole method.
        worded = base
        if pipeline.lexical_weight:
            from nlp.lexical import blend

            mixed = blend(order_vectors, [n.text for n in notes], pipeline.lexical_weight)
            worded = kmeans_baseline(mixed, true)
        seconds["kmeans"] = time.perf_counter() - t0
        cut = round(len(notes) * 0.9)
        t0 = time.perf_counter()
        first = pipeline.run(notes[:cut], vectors, None)
        then = pipeline.run(notes, vectors, first)
        seconds["churn_runs"] = time.perf_counter() - t0
        result.update(
            nmi=ours.nmi,
            ari=ours.ari,
            nmi_themed=ours.nmi_themed,
            ari_themed=ours.ari_themed,
            kmeans_nmi=base.nmi,
            kmeans_ari=base.ari,
            kmeans_words_nmi=worded.nmi,
            kmeans_words_ari=worded.ari,
            true_labels=len(set(true)),
            churn=churn(first, then),
            # What a facilitator sees once the last 10% arrived: themes carried over from
            # the run before, not drawn afresh.
            nmi_after=agreement(theme_labels(then, ids), true).nmi,
        )
    seconds["total"] = time.perf_counter() - started
    result["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    result["seconds_total"] = result["seconds"]["total"]
    if args.json:
        out = {**result, "seconds": result["seconds"]["total"], "stages": result["seconds"]}
        out["themes"] = payload["themes"]
        out["unique_ideas"] = payload["unthemed"]
        out.pop("seconds_total")
        json.dump(out, sys.stdout, ensure_ascii=False)
        print()
    else:
        print(_markdown(result, payload))
    return 0


def _markdown(result: dict[str, Any], payload: dict[str, Any]) -> str:
    lines = [f"# {result['n_themes']} themes from {result['n_notes']} notes", ""]
    lines += ["| theme | notes | rooms | keywords | most representative |", "|---|---|---|---|---|"]
    for t in payload["themes"]:
        reps = " · ".join(r["text"].replace("|", "/")[:80] for r in t["representatives"])
        lines.append(
            f"| {t['label']} | {t['size']} | {len(t['rooms'])} | {', '.join(t['keywords'])} "
            f"| {reps} |"
        )
    unique = payload["unthemed"][:10]
    if unique:
        lines += ["", f"## Unique ideas ({len(payload['unthemed'])}, most distinct first)", ""]
        lines += [f"- {u['text'][:120]} ({u['distinctness']:.2f})" for u in unique]
    lines += ["", "## Figures", "", "| figure | value |", "|---|---|"]
    for key in (
        "n_notes",
        "n_themes",
        "unthemed_share",
        "nmi",
        "ari",
        "nmi_themed",
        "ari_themed",
        "true_labels",
        "kmeans_nmi",
        "kmeans_ari",
        "kmeans_words_nmi",
        "kmeans_words_ari",
        "churn",
        "nmi_after",
    ):
        if key in result:
            value = result[key]
            lines.append(
                f"| {key} | {value:.3f} |" if isinstance(value, float) else f"| {key} | {value} |"
            )
    lines += ["", "| stage | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in result["seconds"].items()]
    return "\n".join(lines)
