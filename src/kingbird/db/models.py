"""SQLAlchemy models of Kingbird's tables.

These classes describe the schema; they never leave the ``kingbird.db`` package:
repository functions turn rows into plain dicts. The schema itself is created by
the Alembic migrations in ``kingbird/db/migrations`` (written by hand to match
these classes; a unit test compares the two).

Timestamps are stored as naive UTC (``UtcDateTime``) so that comparisons in SQL
(``lease_expires_at <= :now``) mean the same on SQLite, PostgreSQL and MySQL,
and come back as timezone-aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names are spelled out so that migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SYNC_OUTCOMES = ("SUCCESS", "FAILURE", "IN_PROGRESS")
JOB_STATUSES = ("IN_PROGRESS", "SUCCESS", "FAILURE")
ENTRY_STATUSES = ("QUEUED", "IN_PROGRESS", "SUCCESS", "FAILURE")
RESOURCE_TYPES = ("keypair", "flavor", "image", "security_group")
FERNET_KEY_STATES = ("staged", "primary", "secondary")
FERNET_ROTATION_STATUSES = ("distributing", "promoted")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC, returned as aware UTC.

    Naive datetimes given as parameters are taken to be UTC already. On MySQL
    the column keeps microseconds (``DATETIME(6)``), which lease comparisons need.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: Any, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UtcDateTime()}


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


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


class ProjectSyncStatus(TimestampMixin, Base):
    """Outcome of a project's last quota sync, a pending request, whether it is due
    again after the contended interval, and the lease of the engine running a sync
    of it now."""

    __tablename__ = "project_sync_status"
    __table_args__ = (
        sa.CheckConstraint(_in("outcome", SYNC_OUTCOMES), name="outcome"),
    )

    project_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_sync_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    failed_regions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    requested_at: Mapped[dt.datetime | None]
    contended: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    lease_owner: Mapped[str | None] = mapped_column(sa.String(255))
    lease_expires_at: Mapped[dt.datetime | None]


class SyncJob(TimestampMixin, Base):
    """A resource synchronisation job as the user created it."""

    __tablename__ = "sync_jobs"
    __table_args__ = (
        sa.CheckConstraint(_in("status", JOB_STATUSES), name="status"),
        sa.Index(None, "project_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))


class SyncJobEntry(TimestampMixin, Base):
    """One resource to copy from one region to another: the unit engines claim."""

    __tablename__ = "sync_job_entries"
    __table_args__ = (
        sa.CheckConstraint(_in("status", ENTRY_STATUSES), name="status"),
        sa.CheckConstraint(_in("resource_type", RESOURCE_TYPES), name="resource_type"),
        sa.Index(None, "status", "lease_expires_at"),
        sa.Index(None, "job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("sync_jobs.id", ondelete="CASCADE")
    )
    resource: Mapped[str] = mapped_column(sa.String(255))
    resource_type: Mapped[str] = mapped_column(sa.String(32))
    source_region: Mapped[str] = mapped_column(sa.String(255))
    target_region: Mapped[str] = mapped_column(sa.String(255))
    force: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(255))
    lease_expires_at: Mapped[dt.datetime | None]
    # What the engine already did in the target region (e.g. the id of an image it
    # created there), written before each write, so that an engine taking the
    # entry over resumes instead of doing the work twice.
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


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


class FernetKeySet(TimestampMixin, Base):
    """The one Fernet key set Kingbird distributes (a single row, ``id`` 1).

    ``version`` grows with every change of the repository contents; agents
    report the version they hold. Updating this row first also serialises
    every change of the key set (it is the lock of ``kingbird.identity.store``).
    """

    __tablename__ = "fernet_key_sets"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int]
    published_at: Mapped[dt.datetime | None]


class FernetKey(TimestampMixin, Base):
    """One Fernet key, its material encrypted with the master key."""

    __tablename__ = "fernet_keys"
    __table_args__ = (
        sa.CheckConstraint(_in("state", FERNET_KEY_STATES), name="state"),
        sa.UniqueConstraint("number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int | None]  # file name in the repository; None while staged
    state: Mapped[str] = mapped_column(sa.String(16))
    material: Mapped[str] = mapped_column(sa.Text)
    staged_version: Mapped[int]
    demoted_version: Mapped[int | None]
    promoted_at: Mapped[dt.datetime | None]
    demoted_at: Mapped[dt.datetime | None]
    retire_after: Mapped[dt.datetime | None]


class FernetNode(TimestampMixin, Base):
    """A Keystone node as its ``kingbird-keystone-agent`` last reported it."""

    __tablename__ = "fernet_nodes"

    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    region: Mapped[str] = mapped_column(sa.String(255))
    keystone_url: Mapped[str | None] = mapped_column(sa.String(1024))
    version: Mapped[int | None]
    version_confirmed_at: Mapped[dt.datetime | None]
    last_contact_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    agent: Mapped[str | None] = mapped_column(sa.String(255))
    probe: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class FernetRotation(TimestampMixin, Base):
    """A requested rotation: its staged key, and when it was promoted."""

    __tablename__ = "fernet_rotations"
    __table_args__ = (
        sa.CheckConstraint(_in("status", FERNET_ROTATION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    key_id: Mapped[int]
    staged_version: Mapped[int]
    promoted_version: Mapped[int | None]
    number: Mapped[int | None]
    requested_by: Mapped[str | None] = mapped_column(sa.String(64))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    promoted_at: Mapped[dt.datetime | None]


# The cross-region networking and the disaster recovery tables live in modules of
# their own; importing them here puts them in ``Base.metadata`` wherever the models
# are loaded.
from kingbird.dr import models as dr_models  # noqa: E402,F401
from kingbird.network import models as network_models  # noqa: E402,F401
