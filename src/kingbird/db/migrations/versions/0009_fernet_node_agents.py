"""Keystone nodes are registered by an admin, each bound to one agent user.

Until now a node was created by its agent's first report, from any caller with
the ``service`` role. Nodes that exist keep their state (a rotation keeps
waiting for them) with no agent user: their agents are refused until an admin
registers them again (``POST os-fernet-keys/nodes``), which binds them.

Revision ID: 0009_fernet_node_agents
Revises: 0008_sync_types_registered
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_fernet_node_agents"
down_revision: str | None = "0008_sync_types_registered"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fernet_nodes") as batch:
        batch.add_column(sa.Column("agent_user_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fernet_nodes") as batch:
        batch.drop_column("agent_user_id")
