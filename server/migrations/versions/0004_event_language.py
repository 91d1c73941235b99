"""the language of an event's participant pages

Revision ID: 0004_event_language
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_event_language"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The server default gives every event made before this column English, as they were.
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), server_default="en", nullable=False)
        )


def downgrade() -> None:
    # In place, not in a batch: SQLite (3.35 and later) and PostgreSQL both drop a plain
    # column without copying `events`, the table every other one points at.
    op.drop_column("events", "language")
