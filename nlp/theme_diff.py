"""One update of an event's themes as a diff of two snapshots, and its inverse. Pure.

A snapshot of a 20,000-note event is megabytes, nearly all of it per note: which theme
holds it and where it sits on the map. Between two re-clusterings a few notes arrive or
move, so a facilitator's console that holds version `base` is sent only what changed
(`diff`), and rebuilds the new snapshot (`apply`) exactly: `build_themes` holds still the
map points and distinctness scores that barely moved, so what is not sent is what did not
change. Theme cards are small and change at every run (sizes, trends), so all of them are
sent, without their note lists.

    Diff = {"base": 3, "version": 4, "n_notes": …, "n_rooms": …,
            "themes": [Theme without "note_ids"], "moved": {note: theme id | None},
            "gone": [note], "unthemed": [entries added or changed], "map": {note: [x, y]},
            "lineage": [...]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Payload = dict[str, Any]

# Per-note and per-theme keys; every other top-level key (version, counts, timing) is a
# scalar copied from the new snapshot as it is.
_SHAPED = frozenset({"themes", "unthemed", "map", "lineage", "version"})


class DiffMismatch(ValueError):
    """The diff was made against another version than the one held."""


def membership(payload: Mapping[str, Any]) -> dict[str, str | None]:
    """Each note of a snapshot and the theme holding it (None: unthemed)."""
    held: dict[str, str | None] = {}
    for theme in payload.get("themes", ()):
        for note_id in theme["note_ids"]:
            held[note_id] = theme["id"]
    for entry in payload.get("unthemed", ()):
        held[entry["id"]] = None
    return held


def diff(previous: Mapping[str, Any], current: Mapping[str, Any]) -> Payload:
    """What turns snapshot `previous` into snapshot `current` (see `apply`)."""
    before, after = membership(previous), membership(current)
    moved = {n: t for n, t in after.items() if n not in before or before[n] != t}
    gone = [n for n in before if n not in after]
    old_unthemed = {e["id"]: e for e in previous.get("unthemed", ())}
    unthemed = [e for e in current.get("unthemed", ()) if old_unthemed.get(e["id"]) != e]
    old_map = previous.get("map", {})
    points = {n: xy for n, xy in current.get("map", {}).items() if old_map.get(n) != xy}
    out: Payload = {"base": previous["version"], "version": current["version"]}
    out.update((k, v) for k, v in current.items() if k not in _SHAPED)
    out.update(
        themes=[{k: v for k, v in t.items() if k != "note_ids"} for t in current["themes"]],
        moved=moved,
        gone=gone,
        unthemed=unthemed,
        map=points,
        lineage=list(current.get("lineage", ())),
    )
    return out


def apply(previous: Mapping[str, Any], change: Mapping[str, Any]) -> Payload:
    """The snapshot `change` leads to from `previous`; `DiffMismatch` if made on another.

    Within a theme, notes already there keep their order and arrivals follow; the order of
    a theme's `note_ids` carries no meaning.
    """
    if previous.get("version") != change["base"]:
        raise DiffMismatch(f"diff from version {change['base']}, held {previous.get('version')}")
    held = membership(previous)
    for note_id in change["gone"]:
        held.pop(note_id, None)
    held.update(change["moved"])
    old_notes = {t["id"]: t["note_ids"] for t in previous.get("themes", ())}
    by_theme: dict[str, list[str]] = {t["id"]: [] for t in change["themes"]}
    for theme_id, note_ids in old_notes.items():
        if theme_id in by_theme:
            by_theme[theme_id].extend(n for n in note_ids if held.get(n) == theme_id)
    kept = {n for ids in by_theme.values() for n in ids}
    for note_id, theme_id in held.items():
        if theme_id is not None and note_id not in kept:
            if theme_id not in by_theme:
                raise ValueError(f"note {note_id} moved to theme {theme_id}, not in the diff")
            by_theme[theme_id].append(note_id)

    entries = {e["id"]: e for e in previous.get("unthemed", ())}
    entries.update((e["id"], e) for e in change["unthemed"])
    unthemed = [entries[n] for n, t in held.items() if t is None]
    unthemed.sort(key=unthemed_order)

    points = {n: xy for n, xy in previous.get("map", {}).items() if n in held}
    points.update(change["map"])

    out: Payload = {k: v for k, v in change.items() if k not in ("base", "moved", "gone")}
    out.update(
        themes=[{**t, "note_ids": by_theme[t["id"]]} for t in change["themes"]],
        unthemed=unthemed,
        map=points,
    )
    return out


def unthemed_order(entry: Mapping[str, Any]) -> tuple[float, str]:
    """How snapshots list unique ideas: most distinct first, ties by id."""
    return (-float(entry["distinctness"]), str(entry["id"]))
