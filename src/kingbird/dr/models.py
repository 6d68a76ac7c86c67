"""Tables of geo-site disaster recovery: protection plans, restore points, and
failover/failback operations.

Imported by ``kingbird.models`` so that ``Base.metadata`` (and the
migration check) always includes them. Restore points and operations are
workflows engines run step by step (``WorkflowMixin``): what each step did is
kept in ``state`` before and after it acts, so an engine taking one over
resumes where the previous one stopped instead of doing work twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kingbird.db.base import Base, TimestampMixin, in_values
from kingbird.db.leases import LeaseMixin

DR_METHODS = ("snapshot-backup", "replication")
PLAN_STATUSES = ("ACTIVE", "FAILING_OVER", "FAILED_OVER", "FAILING_BACK", "DELETING")
RESTORE_POINT_STATUSES = ("CREATING", "AVAILABLE", "ERROR", "DELETING")
RESTORE_POINT_PURPOSES = ("scheduled", "requested", "failback")
OPERATION_KINDS = ("failover", "failback")
OPERATION_STATUSES = ("QUEUED", "IN_PROGRESS", "SUCCESS", "FAILURE")


class WorkflowMixin(LeaseMixin):
    """Progress of a workflow and the lease of the engine running it."""

    steps: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    state: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)


class ProtectionPlan(TimestampMixin, Base):
    """The servers of a VNF, where they run, where they recover, how and how often."""

    __tablename__ = "dr_plans"
    __table_args__ = (
        sa.CheckConstraint(in_values("method", DR_METHODS), name="method"),
        sa.CheckConstraint(in_values("status", PLAN_STATUSES), name="status"),
        sa.Index(None, "project_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    method: Mapped[str] = mapped_column(sa.String(32))
    home_region: Mapped[str] = mapped_column(sa.String(255))
    recovery_region: Mapped[str] = mapped_column(sa.String(255))
    current_region: Mapped[str] = mapped_column(sa.String(255))
    servers: Mapped[list[str]] = mapped_column(sa.JSON)  # in current_region, boot order
    interval: Mapped[int]  # seconds between scheduled restore points
    retention: Mapped[int]  # restore points kept
    trust_id: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))
    next_restore_point_at: Mapped[dt.datetime | None]
    restore_point_requested_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text)


class RestorePoint(WorkflowMixin, TimestampMixin, Base):
    """A VNF captured at one moment in the region it runs in, restorable elsewhere."""

    __tablename__ = "dr_restore_points"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", RESTORE_POINT_STATUSES), name="status"),
        sa.CheckConstraint(in_values("purpose", RESTORE_POINT_PURPOSES), name="purpose"),
        sa.Index(None, "plan_id", "sequence"),
        sa.Index(None, "status", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("dr_plans.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(sa.String(64))
    sequence: Mapped[int]  # per plan, counting up
    method: Mapped[str] = mapped_column(sa.String(32))
    region: Mapped[str] = mapped_column(sa.String(255))  # where the VNF was captured
    target_region: Mapped[str] = mapped_column(sa.String(255))  # where it restores
    purpose: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    chain_id: Mapped[str | None] = mapped_column(sa.String(36))  # full backup it builds on
    taken_at: Mapped[dt.datetime | None]  # the consistency point (snapshot time)
    completed_at: Mapped[dt.datetime | None]
    size_gb: Mapped[int] = mapped_column(default=0)
    shape: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    volumes: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)


class RecoveryOperation(WorkflowMixin, TimestampMixin, Base):
    """A failover or failback of a plan's VNF, step by step."""

    __tablename__ = "dr_operations"
    __table_args__ = (
        sa.CheckConstraint(in_values("kind", OPERATION_KINDS), name="kind"),
        sa.CheckConstraint(in_values("status", OPERATION_STATUSES), name="status"),
        sa.Index(None, "plan_id"),
        sa.Index(None, "status", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("dr_plans.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    restore_point_id: Mapped[str | None] = mapped_column(sa.String(36))
    from_region: Mapped[str] = mapped_column(sa.String(255))
    to_region: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(16))
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
