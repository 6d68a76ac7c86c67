"""Geo-site disaster recovery: protection plans, restore points, recovery operations.

Revision ID: 0006_dr
Revises: 0005_global_networks
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006_dr"
down_revision: str | None = "0005_global_networks"
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


def _workflow() -> list[sa.Column]:
    return [
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _timestamp("lease_expires_at", nullable=True),
    ]


def _plan_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["plan_id"], ["dr_plans.id"],
                                   name=op.f(f"fk_{table}_plan_id_dr_plans"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "dr_plans",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("home_region", sa.String(255), nullable=False),
        sa.Column("recovery_region", sa.String(255), nullable=False),
        sa.Column("current_region", sa.String(255), nullable=False),
        sa.Column("servers", sa.JSON(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("retention", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _timestamp("next_restore_point_at", nullable=True),
        _timestamp("restore_point_requested_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dr_plans")),
        sa.CheckConstraint("method IN ('snapshot-backup', 'replication')",
                           name=op.f("ck_dr_plans_method")),
        sa.CheckConstraint("status IN ('ACTIVE', 'FAILING_OVER', 'FAILED_OVER', "
                           "'FAILING_BACK', 'DELETING')", name=op.f("ck_dr_plans_status")),
    )
    op.create_index(op.f("ix_dr_plans_project_id"), "dr_plans", ["project_id"])
    op.create_table(
        "dr_restore_points",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("plan_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("region", sa.String(255), nullable=False),
        sa.Column("target_region", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("chain_id", sa.String(36), nullable=True),
        _timestamp("taken_at", nullable=True),
        _timestamp("completed_at", nullable=True),
        sa.Column("size_gb", sa.Integer(), nullable=False),
        sa.Column("shape", sa.JSON(), nullable=True),
        sa.Column("volumes", sa.JSON(), nullable=False),
        *_workflow(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dr_restore_points")),
        _plan_fk("dr_restore_points"),
        sa.CheckConstraint("status IN ('CREATING', 'AVAILABLE', 'ERROR', 'DELETING')",
                           name=op.f("ck_dr_restore_points_status")),
        sa.CheckConstraint("purpose IN ('scheduled', 'requested', 'failback')",
                           name=op.f("ck_dr_restore_points_purpose")),
    )
    op.create_index(op.f("ix_dr_restore_points_plan_id_sequence"), "dr_restore_points",
                    ["plan_id", "sequence"])
    op.create_index(op.f("ix_dr_restore_points_status_lease_expires_at"), "dr_restore_points",
                    ["status", "lease_expires_at"])
    op.create_table(
        "dr_operations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("plan_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("restore_point_id", sa.String(36), nullable=True),
        sa.Column("from_region", sa.String(255), nullable=False),
        sa.Column("to_region", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
        *_workflow(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dr_operations")),
        _plan_fk("dr_operations"),
        sa.CheckConstraint("kind IN ('failover', 'failback')",
                           name=op.f("ck_dr_operations_kind")),
        sa.CheckConstraint("status IN ('QUEUED', 'IN_PROGRESS', 'SUCCESS', 'FAILURE')",
                           name=op.f("ck_dr_operations_status")),
    )
    op.create_index(op.f("ix_dr_operations_plan_id"), "dr_operations", ["plan_id"])
    op.create_index(op.f("ix_dr_operations_status_lease_expires_at"), "dr_operations",
                    ["status", "lease_expires_at"])


def downgrade() -> None:
    op.drop_table("dr_operations")
    op.drop_table("dr_restore_points")
    op.drop_table("dr_plans")
