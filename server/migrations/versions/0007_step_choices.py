"""a question's choices per agenda step, and each person's answer to it

Revision ID: 0007_step_choices
Revises: 0006_step_votes
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_step_choices"
down_revision: str | None = "0006_step_votes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The server default makes every stored step what it was: a step that asks no question.
    # SQLite adds a plain column in place, so the batch copies nothing.
    with op.batch_alter_table("agenda_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("choices", sa.JSON(), server_default="[]", nullable=False))
    op.create_table(
        "answers",
        sa.Column("step_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=True),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["step_id"], ["agenda_steps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("step_id", "participant_id"),
    )
    op.create_index("ix_answers_step_id", "answers", ["step_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_answers_step_id", table_name="answers")
    op.drop_table("answers")
    # In place, not in a batch: a copy of `agenda_steps` is needless, and SQLite (3.35 and
    # later) drops a plain column once no index names it.
    op.drop_column("agenda_steps", "choices")
