"""Initial schema.

Global quota limits, quota classes, per-project quota sync state, resource sync
jobs and their entries.

Written by hand to match ``kingbird.db.models`` as of this revision (timestamps
are naive UTC, with microseconds on MySQL).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
        nullable=nullable,
    )


def _timestamps() -> list[sa.Column]:
    return [_timestamp("created_at"), _timestamp("updated_at")]


def upgrade() -> None:
    op.create_table(
        "quotas",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(64), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotas")),
        sa.UniqueConstraint("project_id", "resource", name=op.f("uq_quotas_project_id_resource")),
    )
    op.create_table(
        "quota_classes",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("class_name", sa.String(255), nullable=False),
        sa.Column("resource", sa.String(64), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_classes")),
        sa.UniqueConstraint(
            "class_name", "resource", name=op.f("uq_quota_classes_class_name_resource")
        ),
    )
    op.create_table(
        "project_sync_status",
        sa.Column("project_id", sa.String(64), nullable=False),
        _timestamp("last_sync_at", nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("failed_regions", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _timestamp("requested_at", nullable=True),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _timestamp("lease_expires_at", nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_sync_status")),
        sa.CheckConstraint(
            "outcome IN ('SUCCESS', 'FAILURE', 'IN_PROGRESS')",
            name=op.f("ck_project_sync_status_outcome"),
        ),
    )
    op.create_table(
        "sync_jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_jobs")),
        sa.CheckConstraint(
            "status IN ('IN_PROGRESS', 'SUCCESS', 'FAILURE')", name=op.f("ck_sync_jobs_status")
        ),
    )
    op.create_index(op.f("ix_sync_jobs_project_id"), "sync_jobs", ["project_id"])
    op.create_table(
        "sync_job_entries",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("source_region", sa.String(255), nullable=False),
        sa.Column("target_region", sa.String(255), nullable=False),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _timestamp("lease_expires_at", nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_job_entries")),
        sa.ForeignKeyConstraint(
            ["job_id"], ["sync_jobs.id"],
            name=op.f("fk_sync_job_entries_job_id_sync_jobs"), ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('QUEUED', 'IN_PROGRESS', 'SUCCESS', 'FAILURE')",
            name=op.f("ck_sync_job_entries_status"),
        ),
        sa.CheckConstraint(
            "resource_type IN ('keypair', 'flavor', 'image', 'security_group')",
            name=op.f("ck_sync_job_entries_resource_type"),
        ),
    )
    op.create_index(
        op.f("ix_sync_job_entries_status_lease_expires_at"),
        "sync_job_entries",
        ["status", "lease_expires_at"],
    )
    op.create_index(op.f("ix_sync_job_entries_job_id"), "sync_job_entries", ["job_id"])


def downgrade() -> None:
    op.drop_table("sync_job_entries")
    op.drop_table("sync_jobs")
    op.drop_table("project_sync_status")
    op.drop_table("quota_classes")
    op.drop_table("quotas")
