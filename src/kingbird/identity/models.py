"""Tables of multisite identity: Fernet key sets, their keys, the Keystone nodes
they are distributed to, and rotations in progress."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kingbird.db.base import Base, TimestampMixin, in_values

FERNET_KEY_STATES = ("staged", "primary", "secondary")
FERNET_ROTATION_STATUSES = ("distributing", "promoted")


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
        sa.CheckConstraint(in_values("state", FERNET_KEY_STATES), name="state"),
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
    """A Keystone node registered by an admin, as its ``kingbird-keystone-agent`` last
    reported it.

    ``agent_user_id`` is the Keystone user whose agent alone may report and fetch
    keys for the node; None only for a node its agent created before nodes were
    registered (migration 0009), which must be registered again to be served.
    """

    __tablename__ = "fernet_nodes"

    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    region: Mapped[str] = mapped_column(sa.String(255))
    agent_user_id: Mapped[str | None] = mapped_column(sa.String(64))
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
        sa.CheckConstraint(in_values("status", FERNET_ROTATION_STATUSES), name="status"),
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
