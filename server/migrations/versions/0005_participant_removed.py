"""when a facilitator removed a participant from their event

Revision ID: 0005_participant_removed
Revises: 0004_event_language
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_participant_removed"
down_revision: str | None = "0004_event_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: everyone who joined before this column is still in their event.
    # SQLite adds a plain column in place, so the batch copies nothing.
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # In place, not in a batch: a copy of `participants` would be dropped under every note,
    # like and seat pointing at it. Whoever was removed becomes an unseated participant again,
    # whose token works; that is what the schema before this one can say.
    op.drop_column("participants", "removed_at")
