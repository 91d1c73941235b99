"""Theme edits to and from their stored row: the JSON `detail` column holds the notes."""

from __future__ import annotations

from nlp.steering import Edit


def edit_detail(edit: Edit) -> object:
    if edit.kind == "split":
        return [[part_id, list(note_ids)] for part_id, note_ids in edit.parts]
    return list(edit.note_ids)


def edit_from_row(kind: str, theme_id: str, other_id: str, label: str, detail: object) -> Edit:
    if kind == "split":
        parts = tuple(
            (str(part[0]), tuple(str(n) for n in part[1]))
            for part in (detail if isinstance(detail, list) else [])
        )
        return Edit(kind, theme_id=theme_id, parts=parts)
    note_ids = tuple(str(n) for n in detail) if isinstance(detail, list) else ()
    return Edit(kind, theme_id=theme_id, other_id=other_id, label=label, note_ids=note_ids)
