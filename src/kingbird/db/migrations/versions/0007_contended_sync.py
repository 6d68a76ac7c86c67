"""Projects under contention: synced again after the shorter contended interval.

Revision ID: 0007_contended_sync
Revises: 0006_dr
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_contended_sync"
down_revision: str | None = "0006_dr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("project_sync_status",
                  sa.Column("contended", sa.Boolean(), nullable=False,
                            server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("project_sync_status") as batch:
        batch.drop_column("contended")
