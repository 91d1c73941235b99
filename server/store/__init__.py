"""Persistence: SQLAlchemy models, migrations and the async repository."""

from .repo import Committed, NoteForThemes, RoomSnapshot, Store

__all__ = ["Committed", "NoteForThemes", "RoomSnapshot", "Store"]
