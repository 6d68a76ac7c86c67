"""Checkpoint of a sync job entry.

An engine records in ``sync_job_entries.checkpoint`` what it is about to do (or
did) in the target region before each write, so that an engine taking an entry
over after a crash resumes from there instead of creating a duplicate.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_job_entries") as batch:
        batch.add_column(sa.Column("checkpoint", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_job_entries") as batch:
        batch.drop_column("checkpoint")
