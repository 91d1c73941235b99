"""theme snapshots record when their notes were read

Revision ID: 0002_theme_coverage
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_theme_coverage"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("theme_snapshots") as batch:
        batch.add_column(sa.Column("notes_read_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("theme_snapshots") as batch:
        batch.drop_column("notes_read_at")
