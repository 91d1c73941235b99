"""a vote budget per agenda step, and the step each like was given in

Revision ID: 0006_step_votes
Revises: 0005_participant_removed
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_step_votes"
down_revision: str | None = "0005_participant_removed"
branch_labels: str | Sequence[str] | None = None
# `agenda_steps` is made on another branch from 0001.
depends_on: str | Sequence[str] | None = "0002_agenda"


def upgrade() -> None:
    # Likes given before this column were given outside any budget: null, as outside a step.
    # SQLite adds plain columns in place, so neither batch copies its table.
    with op.batch_alter_table("likes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_id", sa.String(length=32), nullable=True))
    op.create_index("ix_likes_participant_step", "likes", ["participant_id", "step_id"])
    # The server default gives every stored step no budget: likes stay unlimited, as they were.
    with op.batch_alter_table("agenda_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("votes", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    # In place, not in a batch: a copy of `likes` or `agenda_steps` is needless, and SQLite
    # (3.35 and later) drops a plain column once no index names it.
    op.drop_index("ix_likes_participant_step", table_name="likes")
    op.drop_column("likes", "step_id")
    op.drop_column("agenda_steps", "votes")
