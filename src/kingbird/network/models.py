"""Tables of cross-region networking: global networks and their regional parts,
the ports Kingbird shadows, virtual IPs, blocked VXLAN ids, cross-region security
group rules and L3 interconnections.

Imported by ``kingbird.models`` so that ``Base.metadata`` (and the
migration check) always includes them. Objects an engine reconciles carry the
same bookkeeping (``ReconciledMixin``): when they are next due, an on-demand
request, and the lease of the engine working on them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kingbird.db.base import Base, TimestampMixin, in_values
from kingbird.db.leases import LeaseMixin

OBJECT_STATUSES = ("BUILD", "ACTIVE", "ERROR", "DELETING")
PART_STATUSES = ("BUILD", "ACTIVE", "ERROR")
PORT_STATUSES = ("PENDING", "ACTIVE", "ERROR")
PORT_SOURCES = ("polled", "attached")


class ReconciledMixin(LeaseMixin):
    """Status of an object the engines keep converged, and their bookkeeping."""

    status: Mapped[str] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.Text)
    requested_at: Mapped[dt.datetime | None]  # reconcile as soon as possible
    due_at: Mapped[dt.datetime | None]  # next periodic reconcile


class GlobalNetwork(ReconciledMixin, TimestampMixin, Base):
    """One L2 network stretched over several regions on one VXLAN segment."""

    __tablename__ = "global_networks"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", OBJECT_STATUSES), name="status"),
        sa.UniqueConstraint("segmentation_id"),
        sa.Index(None, "project_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(255))
    cidr: Mapped[str] = mapped_column(sa.String(64))
    ip_version: Mapped[int]
    # NULL while the network holds no VXLAN id (it failed before any region held it).
    segmentation_id: Mapped[int | None]
    gateway_regions: Mapped[list[str]] = mapped_column(sa.JSON)
    reserved_addresses: Mapped[int]


class GlobalNetworkRegion(TimestampMixin, Base):
    """The part of a global network in one region: its Neutron network and subnet."""

    __tablename__ = "global_network_regions"
    __table_args__ = (sa.CheckConstraint(in_values("status", PART_STATUSES), name="status"),)

    network_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("global_networks.id", ondelete="CASCADE"),
        primary_key=True)
    region: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    position: Mapped[int]
    gateway_ip: Mapped[str | None] = mapped_column(sa.String(64))
    allocation_pools: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    neutron_network_id: Mapped[str | None] = mapped_column(sa.String(64))
    neutron_subnet_id: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.Text)


class GlobalNetworkPort(TimestampMixin, Base):
    """A port of a global network, as last seen, and its shadows in other regions."""

    __tablename__ = "global_network_ports"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", PORT_STATUSES), name="status"),
        sa.CheckConstraint(in_values("source", PORT_SOURCES), name="source"),
        sa.UniqueConstraint("network_id", "region", "port_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("global_networks.id", ondelete="CASCADE"))
    region: Mapped[str] = mapped_column(sa.String(255))
    port_id: Mapped[str] = mapped_column(sa.String(64))
    mac_address: Mapped[str | None] = mapped_column(sa.String(32))
    fixed_ips: Mapped[list[str]] = mapped_column(sa.JSON)
    allowed_address_pairs: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    device_owner: Mapped[str | None] = mapped_column(sa.String(255))
    source: Mapped[str] = mapped_column(sa.String(16))
    shadows: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.Text)


class GlobalVip(TimestampMixin, Base):
    """A virtual IP of a global network and the ports allowed to answer for it."""

    __tablename__ = "global_vips"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", OBJECT_STATUSES), name="status"),
        sa.UniqueConstraint("network_id", "ip_address"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("global_networks.id", ondelete="CASCADE"))
    ip_address: Mapped[str] = mapped_column(sa.String(64))
    ports: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    reservations: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.Text)


class BlockedSegment(TimestampMixin, Base):
    """A VXLAN id a region refused (already used there): never allocated again."""

    __tablename__ = "blocked_segments"

    segmentation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    region: Mapped[str] = mapped_column(sa.String(255))
    reason: Mapped[str | None] = mapped_column(sa.Text)


class GlobalSecurityGroupRule(ReconciledMixin, TimestampMixin, Base):
    """A rule of a group in one region whose remote group lives in another region."""

    __tablename__ = "global_sg_rules"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", OBJECT_STATUSES), name="status"),
        sa.Index(None, "project_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    region: Mapped[str] = mapped_column(sa.String(255))
    security_group_id: Mapped[str] = mapped_column(sa.String(64))
    direction: Mapped[str] = mapped_column(sa.String(16))
    ethertype: Mapped[str] = mapped_column(sa.String(8))
    protocol: Mapped[str | None] = mapped_column(sa.String(32))
    port_range_min: Mapped[int | None]
    port_range_max: Mapped[int | None]
    remote_region: Mapped[str] = mapped_column(sa.String(255))
    remote_group_id: Mapped[str] = mapped_column(sa.String(64))
    expanded: Mapped[list[str]] = mapped_column(sa.JSON)


class GlobalRouter(ReconciledMixin, TimestampMixin, Base):
    """The L3 option: a router per region and routes through a transit network."""

    __tablename__ = "global_routers"
    __table_args__ = (
        sa.CheckConstraint(in_values("status", OBJECT_STATUSES), name="status"),
        sa.Index(None, "project_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(255))
    transit_network_id: Mapped[str | None] = mapped_column(sa.String(36))  # a global network
    transit_networks: Mapped[dict[str, str]] = mapped_column(sa.JSON)  # region -> Neutron net
    subnets: Mapped[dict[str, str]] = mapped_column(sa.JSON)  # region -> Neutron subnet
    state: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # region -> what exists there
