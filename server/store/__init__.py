"""Persistence: SQLAlchemy models, migrations and the async repository."""

from .repo import Committed, RoomSnapshot, Store
from .themes import NoteForThemes, ThemeRecords

__all__ = ["Committed", "NoteForThemes", "RoomSnapshot", "Store", "ThemeRecords"]
