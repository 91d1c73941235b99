"""An event's results to take away: every note with its table, step and theme as CSV, and
the themes as a Markdown report, both from the latest stored themes.

Pure: the store reads the notes, the caller passes the themes payload as the board shows it.
Authors are left out on purpose: a report travels further than the room did.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nlp.theme_diff import membership

from .agenda import Step
from .answers import Tally
from .report_words import Words

NOTE_COLUMNS = (
    "note_id",
    "created_at",
    "table",
    "step",
    "text",
    "likes",
    "theme_id",
    "theme",
    "status",
)
ANSWER_COLUMNS = ("step", "question", "table", "choice_number", "choice", "answered_at")
THEMED, HIDDEN, UNIQUE, NEW = "themed", "hidden theme", "unique idea", "not yet themed"
# Put before a CSV file's text: it tells spreadsheets the file is UTF-8 (accents, any script).
CSV_BOM = "\ufeff"
ENGLISH = Words()
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
# Enough for a plenary to read out; every note's likes are in the CSV.
MOST_SUPPORTED = 20


@dataclass(frozen=True, slots=True)
class ReportNote:
    id: str
    created_at: datetime
    table: str
    step: str | None  # the title of the agenda step it was written in
    text: str
    likes: int


@dataclass(frozen=True, slots=True)
class ReportAnswer:
    step: str  # the question step's title
    question: str  # its prompt
    table: str  # where the answer was given; "" when that table is gone
    choice: int
    choices: tuple[str, ...]
    answered_at: datetime


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="seconds").replace("+00:00", "Z")


def placements(payload: Mapping[str, Any] | None) -> dict[str, tuple[str, str, str]]:
    """note id → (theme id, theme label, status) for every note the themes cover."""
    if payload is None:
        return {}
    themes = {t["id"]: t for t in payload.get("themes", ())}
    out: dict[str, tuple[str, str, str]] = {}
    for note_id, theme_id in membership(payload).items():
        if theme_id is None:
            out[note_id] = ("", "", UNIQUE)
        else:
            theme = themes[theme_id]
            out[note_id] = (theme_id, theme["label"], HIDDEN if theme.get("hidden") else THEMED)
    return out


def notes_csv(notes: Sequence[ReportNote], payload: Mapping[str, Any] | None) -> str:
    """One row per live note, oldest first; a note posted since the latest themes were
    made is "not yet themed"."""
    placed = placements(payload)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(NOTE_COLUMNS)
    for note in notes:
        theme_id, label, status = placed.get(note.id, ("", "", NEW))
        writer.writerow(
            [
                note.id,
                _iso(note.created_at),
                _cell(note.table),
                _cell(note.step or ""),
                _cell(note.text),
                note.likes,
                theme_id,
                _cell(label),
                status,
            ]
        )
    return out.getvalue()


def answers_csv(answers: Sequence[ReportAnswer]) -> str:
    """One row per answer to a question, in agenda order, then as they were given. Who gave
    it is not in the file: answers are secret, as in a ballot."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ANSWER_COLUMNS)
    for a in answers:
        if not 0 <= a.choice < len(a.choices):
            continue  # the choices changed under it (never stored so, never miscounted)
        writer.writerow(
            [
                _cell(a.step),
                _cell(a.question),
                _cell(a.table),
                a.choice + 1,
                _cell(a.choices[a.choice]),
                _iso(a.answered_at),
            ]
        )
    return out.getvalue()


def _md(text: str) -> str:
    """User text on one line, with Markdown's syntax characters taken literally."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def themes_markdown(
    title: str,
    notes: Sequence[ReportNote],
    payload: Mapping[str, Any] | None,
    room_names: Mapping[str, str],
    made_at: datetime,
    questions: Sequence[tuple[Step, Tally]] = (),
    open_counts: bool = True,
    words: Words = ENGLISH,
) -> str:
    """The themes as a facilitator reports them, in `words`' language: each visible theme
    with its size, the tables that raised it, its keywords and most representative notes; the
    most supported notes and the questions' results (an open question's counts only with
    `open_counts`); then every unique idea, most distinct first; then the hidden themes."""
    lines = [f"# {words('heading', title=_md(title))}", ""]
    tables = len({n.table for n in notes})
    lines.append(
        words(
            "made",
            notes=words("notes", len(notes)),
            tables=words("from_tables", tables),
            at=_iso(made_at),
        )
    )
    if payload is None:
        lines += ["", words("no_themes")]
        lines += _most_supported(notes, {}, words)
        lines += _questions(questions, room_names, open_counts, words)
        lines.append("")
        return "\n".join(lines)
    placed = membership(payload)
    waiting = sum(1 for n in notes if n.id not in placed)
    themes = [t for t in payload.get("themes", []) if not t.get("hidden")]
    hidden = [t for t in payload.get("themes", []) if t.get("hidden")]
    unique = payload.get("unthemed", [])
    lines.append(
        words(
            "as_of",
            version=payload.get("version"),
            themes=words("themes", len(themes)),
            unique=words("unique", len(unique)),
        )
        + (" " + words("waiting", waiting) if waiting else "")
    )
    raised_in = payload.get("n_rooms") or tables
    step_of = {n.id: n.step for n in notes if n.step is not None}
    several_steps = len(set(step_of.values())) > 1
    for rank, theme in enumerate(themes, 1):
        rooms = theme.get("rooms", [])
        lines += [
            "",
            f"## {rank}. {_md(theme['label'])}",
            "",
            words(
                "raised",
                len(rooms),
                notes=words("notes", theme["size"]),
                total=words.number(raised_in),
            )
            + (words("one_table") if theme.get("single_room") else "")
            + ": "
            + ", ".join(f"{_md(room_names.get(r['id'], r['id']))} ({r['count']})" for r in rooms)
            + ".",
        ]
        if several_steps:
            written = Counter(step_of[n] for n in theme.get("note_ids", []) if n in step_of)
            if written:
                steps = (f"{_md(step)} ({count})" for step, count in written.most_common())
                lines.append(words("written_in", steps=", ".join(steps)))
        if theme.get("keywords"):
            lines.append(words("keywords", words=", ".join(_md(k) for k in theme["keywords"])))
        if theme.get("split_from"):
            lines.append(words("split"))
        representatives = theme.get("representatives", [])
        if representatives:
            lines.append("")
            for note in representatives:
                table = room_names.get(note.get("room_id", ""), "")
                lines.append(f"> {_md(note['text'])}" + (f" ({_md(table)})" if table else ""))
                lines.append(">")
            lines.pop()
    lines += _most_supported(notes, placements(payload), words)
    lines += _questions(questions, room_names, open_counts, words)
    if unique:
        lines += ["", f"## {words('unique_heading', len(unique))}", ""]
        for note in unique:
            table = room_names.get(note.get("room_id", ""), "")
            lines.append(f"- {_md(note['text'])}" + (f" ({_md(table)})" if table else ""))
    lines += _by_table(themes, unique, room_names, words)
    if hidden:
        lines += ["", f"## {words('hidden_heading')}", ""]
        for theme in hidden:
            lines.append(f"- {_md(theme['label'])} ({words('notes', theme['size'])})")
    lines.append("")
    return "\n".join(lines)


def _most_supported(
    notes: Sequence[ReportNote], placed: Mapping[str, tuple[str, str, str]], words: Words
) -> list[str]:
    """The notes people liked (or voted for) most, with their table and theme: what the
    room would take forward. Ties keep the order they were written in."""
    liked = sorted((n for n in notes if n.likes), key=lambda n: (-n.likes, n.created_at))
    if not liked:
        return []
    shown = min(len(liked), MOST_SUPPORTED)
    heading = "supported_top_heading" if shown < len(liked) else "supported_heading"
    lines = ["", f"## {words(heading, shown)}", ""]
    for note in liked[:MOST_SUPPORTED]:
        where = [_md(note.table)]
        theme = placed.get(note.id)
        if theme is not None and theme[2] == THEMED:
            where.append(words("in_theme", label=_md(theme[1])))
        lines.append(f"- {words('likes', note.likes)}: {_md(note.text)} ({'; '.join(where)})")
    return lines


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _questions(
    questions: Sequence[tuple[Step, Tally]],
    room_names: Mapping[str, str],
    open_counts: bool,
    words: Words,
) -> list[str]:
    """Each question's answers, overall and by table: what the tables are compared on. An
    open question's counts only with `open_counts`, as `answers.tally` shows them."""
    if not questions:
        return []
    lines = ["", f"## {words('questions_heading')}"]
    for step, counted in questions:
        lines += ["", f"### {_md(step.title)}", ""]
        if step.prompt:
            lines += [_md(step.prompt), ""]
        if counted.open and not open_counts:
            lines.append(words("open_so_far", answers=words("answers", counted.answered)))
            continue
        header = (words("col_choice"), words("col_answers"), words("col_share"))
        lines += [_row(header), _row(("---", "---:", "---:"))]
        total = counted.answered
        for choice, count in zip(counted.choices, counted.counts, strict=True):
            share = words.percent(100 * count / total) if total else "–"
            lines.append(_row((_md(choice), words.number(count), share)))
        still = words("still_open") if counted.open else ""
        lines += ["", f"{words('answers', total)}{still}."]
        if counted.rooms:
            lines += ["", words("by_table"), ""]
            lines.append(_row((words("col_table"), *(_md(c) for c in counted.choices))))
            lines.append(_row(("---", *("---:" for _ in counted.choices))))
            for room, counts in counted.rooms:
                lines.append(_row((_md(room_names.get(room, room)), *counts)))
    return lines


def _by_table(
    themes: Sequence[Mapping[str, Any]],
    unique: Sequence[Mapping[str, Any]],
    room_names: Mapping[str, str],
    words: Words,
) -> list[str]:
    """Each table with the themes it raised (its notes in each, most first) and its unique
    ideas: what a table's rapporteur reads back in plenary."""
    raised: dict[str, list[tuple[int, str]]] = {}
    for theme in themes:
        for room in theme.get("rooms", []):
            raised.setdefault(room["id"], []).append((room["count"], theme["label"]))
    alone = Counter(str(note.get("room_id", "")) for note in unique)
    rooms = [r for r in room_names if r in raised or alone.get(r)]
    if not rooms:
        return []
    lines = ["", f"## {words('by_table_heading')}", ""]
    for room in rooms:
        parts = [
            f"{_md(label)} ({count})"
            for count, label in sorted(raised.get(room, []), key=lambda item: -item[0])
        ]
        if alone.get(room):
            parts.append(words("unique", alone[room]))
        lines.append(f"- {_md(room_names[room])}: {', '.join(parts)}")
    return lines
