"""A global network may hold no VXLAN id: one that failed in every region before
any region held a part of it gives its id back, and takes one again when it is
next built.

Revision ID: 0010_network_vni_release
Revises: 0009_fernet_node_agents
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_network_vni_release"
down_revision: str | None = "0009_fernet_node_agents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("global_networks") as batch:
        batch.alter_column("segmentation_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    bind = op.get_bind()
    waiting = bind.execute(sa.text(
        "SELECT COUNT(*) FROM global_networks WHERE segmentation_id IS NULL")).scalar_one()
    if waiting:
        raise RuntimeError(f"{waiting} global network(s) hold no VXLAN id (they failed "
                           "everywhere): delete them before downgrading")
    with op.batch_alter_table("global_networks") as batch:
        batch.alter_column("segmentation_id", existing_type=sa.Integer(), nullable=False)
