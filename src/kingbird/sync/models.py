"""Tables of resource synchronisation: sync jobs and one entry per resource and
target region."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kingbird.db.base import Base, TimestampMixin, in_values
from kingbird.db.leases import LeaseMixin
from kingbird.sync import registry

JOB_STATUSES = ("IN_PROGRESS", "SUCCESS", "FAILURE")
ENTRY_STATUSES = ("QUEUED", "IN_PROGRESS", "SUCCESS", "FAILURE")
RESOURCE_TYPES = registry.RESOURCE_TYPES  # derived: types are registered there only


class SyncJob(TimestampMixin, Base):
    """A resource synchronisation job as the user created it."""

    __tablename__ = "sync_jobs"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", JOB_STATUSES), name="status"),
        sa.Index(None, "project_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))


class SyncJobEntry(LeaseMixin, TimestampMixin, Base):
    """One resource to copy from one region to another: the unit engines claim."""

    __tablename__ = "sync_job_entries"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", ENTRY_STATUSES), name="status"),
        sa.Index(None, "status", "lease_expires_at"),
        sa.Index(None, "job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("sync_jobs.id", ondelete="CASCADE")
    )
    resource: Mapped[str] = mapped_column(sa.String(255))
    # One of the registry's types, checked when the job is created (no CHECK: a
    # new type is a registration, not a migration).
    resource_type: Mapped[str] = mapped_column(sa.String(32))
    source_region: Mapped[str] = mapped_column(sa.String(255))
    target_region: Mapped[str] = mapped_column(sa.String(255))
    force: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    # What the engine already did in the target region (e.g. the id of an image it
    # created there), written before each write, so that an engine taking the
    # entry over resumes instead of doing the work twice.
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
