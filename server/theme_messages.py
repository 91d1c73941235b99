"""Theme messages: what a watcher asks for and receives after each re-clustering, and the
edits that steer themes, obeyed by every later re-clustering."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import StringConstraints, ValidationInfo, field_validator

from .payload import Id, Payload

THEME_LABEL_MAX_CHARS = 80
ThemeLabel = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=THEME_LABEL_MAX_CHARS)
]


class ThemesWatch(Payload):
    # With `diffs`, each update after the first snapshot comes as a `themes.diff` from the
    # version held; a 20,000-note event's snapshot is megabytes, its diff kilobytes.
    diffs: bool = False


class ThemeRename(Payload):
    theme: Id
    label: ThemeLabel


class ThemeMerge(Payload):
    theme: Id  # absorbed
    into: Id  # kept, with its id and label

    @field_validator("into")
    @classmethod
    def _other_theme(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("theme"):
            raise ValueError("a theme cannot be merged into itself")
        return value


class ThemeRef(Payload):
    theme: Id


class ThemeNote(Payload):
    note: uuid.UUID
    theme: Id | None  # null: out of every theme


class ThemeHide(Payload):
    theme: Id
    hidden: bool = True


ThemePayload = ThemeRename | ThemeMerge | ThemeRef | ThemeNote | ThemeHide

THEME_CLIENT_TYPES: dict[str, type[ThemePayload]] = {
    "themes.rename": ThemeRename,
    "themes.merge": ThemeMerge,
    "themes.split": ThemeRef,
    "themes.move": ThemeNote,
    "themes.pin": ThemeNote,
    "themes.hide": ThemeHide,
}
THEME_SERVER_TYPES = frozenset({"themes.assigned", "themes.diff", "note.similar"})
