"""Tables of global quota: the limits set by the admin (per project and per
class), the sync state of each project, and what each region last reported."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kingbird.db.base import Base, TimestampMixin, in_values
from kingbird.db.leases import LeaseMixin

SYNC_OUTCOMES = ("SUCCESS", "FAILURE", "IN_PROGRESS")


class Quota(TimestampMixin, Base):
    """A global limit set by the admin for one project and one quota key."""

    __tablename__ = "quotas"
    __table_args__ = (sa.UniqueConstraint("project_id", "resource"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    resource: Mapped[str] = mapped_column(sa.String(64))
    hard_limit: Mapped[int]


class QuotaClass(TimestampMixin, Base):
    """A limit of a quota class (``default`` is the one Kingbird reads)."""

    __tablename__ = "quota_classes"
    __table_args__ = (sa.UniqueConstraint("class_name", "resource"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_name: Mapped[str] = mapped_column(sa.String(255))
    resource: Mapped[str] = mapped_column(sa.String(64))
    hard_limit: Mapped[int]


class ProjectSyncStatus(LeaseMixin, TimestampMixin, Base):
    """Outcome of a project's last quota sync, a pending request, whether it is due
    again after the contended interval, and the lease of the engine running a sync
    of it now."""

    __tablename__ = "project_sync_status"
    __table_args__ = (
        sa.CheckConstraint(in_values("outcome", SYNC_OUTCOMES), name="outcome"),
    )

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_sync_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    failed_regions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    requested_at: Mapped[dt.datetime | None]
    contended: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class RegionQuotaState(TimestampMixin, Base):
    """What the escrow allocation last saw of one project in one region: usage and
    limits per quota key (the limits stay reserved to the region while it cannot
    be reached) and the demand estimate per key (units per second at
    ``observed_at``)."""

    __tablename__ = "region_quota_state"

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    region: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    observed_at: Mapped[dt.datetime]
    usage: Mapped[dict[str, int]] = mapped_column(sa.JSON)
    limits: Mapped[dict[str, int]] = mapped_column(sa.JSON)
    demand: Mapped[dict[str, float]] = mapped_column(sa.JSON)
