"""Sync resource types are the registry's, no longer a CHECK of the database.

``sync_job_entries.resource_type`` is checked against ``kingbird.sync.registry``
when a job is created; a CHECK listing the types would make each new type a
migration as well as a registration.

Revision ID: 0008_sync_types_registered
Revises: 0007_contended_sync
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_sync_types_registered"
down_revision: str | None = "0007_contended_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The types the CHECK of 0001 allowed, restored by a downgrade.
_TYPES_OF_0001 = ("keypair", "flavor", "image", "security_group")


def upgrade() -> None:
    with op.batch_alter_table("sync_job_entries") as batch:
        batch.drop_constraint(op.f("ck_sync_job_entries_resource_type"), type_="check")


def downgrade() -> None:
    listed = ", ".join(f"'{name}'" for name in _TYPES_OF_0001)
    with op.batch_alter_table("sync_job_entries") as batch:
        batch.create_check_constraint(op.f("ck_sync_job_entries_resource_type"),
                                      f"resource_type IN ({listed})")
