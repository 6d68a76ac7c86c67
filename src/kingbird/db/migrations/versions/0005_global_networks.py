"""Cross-region networking: global networks, their regional parts and ports, virtual
IPs, blocked VXLAN ids, cross-region security group rules, L3 interconnections.

Revision ID: 0005_global_networks
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005_global_networks"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OBJECT = "status IN ('BUILD', 'ACTIVE', 'ERROR', 'DELETING')"


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
        nullable=nullable,
    )


def _timestamps() -> list[sa.Column]:
    return [_timestamp("created_at"), _timestamp("updated_at")]


def _reconciled() -> list[sa.Column]:
    return [
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _timestamp("requested_at", nullable=True),
        _timestamp("due_at", nullable=True),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _timestamp("lease_expires_at", nullable=True),
    ]


def _network_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["network_id"], ["global_networks.id"],
        name=op.f(f"fk_{table}_network_id_global_networks"), ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "global_networks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("cidr", sa.String(64), nullable=False),
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.Column("segmentation_id", sa.Integer(), nullable=False),
        sa.Column("gateway_regions", sa.JSON(), nullable=False),
        sa.Column("reserved_addresses", sa.Integer(), nullable=False),
        *_reconciled(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_networks")),
        sa.UniqueConstraint("segmentation_id", name=op.f("uq_global_networks_segmentation_id")),
        sa.CheckConstraint(_OBJECT, name=op.f("ck_global_networks_status")),
    )
    op.create_index(op.f("ix_global_networks_project_id"), "global_networks", ["project_id"])
    op.create_table(
        "global_network_regions",
        sa.Column("network_id", sa.String(36), nullable=False),
        sa.Column("region", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("gateway_ip", sa.String(64), nullable=True),
        sa.Column("allocation_pools", sa.JSON(), nullable=False),
        sa.Column("neutron_network_id", sa.String(64), nullable=True),
        sa.Column("neutron_subnet_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("network_id", "region", name=op.f("pk_global_network_regions")),
        _network_fk("global_network_regions"),
        sa.CheckConstraint("status IN ('BUILD', 'ACTIVE', 'ERROR')",
                           name=op.f("ck_global_network_regions_status")),
    )
    op.create_table(
        "global_network_ports",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("network_id", sa.String(36), nullable=False),
        sa.Column("region", sa.String(255), nullable=False),
        sa.Column("port_id", sa.String(64), nullable=False),
        sa.Column("mac_address", sa.String(32), nullable=True),
        sa.Column("fixed_ips", sa.JSON(), nullable=False),
        sa.Column("allowed_address_pairs", sa.JSON(), nullable=False),
        sa.Column("device_owner", sa.String(255), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("shadows", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_network_ports")),
        _network_fk("global_network_ports"),
        sa.UniqueConstraint("network_id", "region", "port_id",
                            name=op.f("uq_global_network_ports_network_id_region_port_id")),
        sa.CheckConstraint("status IN ('PENDING', 'ACTIVE', 'ERROR')",
                           name=op.f("ck_global_network_ports_status")),
        sa.CheckConstraint("source IN ('polled', 'attached')",
                           name=op.f("ck_global_network_ports_source")),
    )
    op.create_table(
        "global_vips",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("network_id", sa.String(36), nullable=False),
        sa.Column("ip_address", sa.String(64), nullable=False),
        sa.Column("ports", sa.JSON(), nullable=False),
        sa.Column("reservations", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_vips")),
        _network_fk("global_vips"),
        sa.UniqueConstraint("network_id", "ip_address",
                            name=op.f("uq_global_vips_network_id_ip_address")),
        sa.CheckConstraint(_OBJECT, name=op.f("ck_global_vips_status")),
    )
    op.create_table(
        "blocked_segments",
        sa.Column("segmentation_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("region", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("segmentation_id", name=op.f("pk_blocked_segments")),
    )
    op.create_table(
        "global_sg_rules",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(255), nullable=False),
        sa.Column("security_group_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("ethertype", sa.String(8), nullable=False),
        sa.Column("protocol", sa.String(32), nullable=True),
        sa.Column("port_range_min", sa.Integer(), nullable=True),
        sa.Column("port_range_max", sa.Integer(), nullable=True),
        sa.Column("remote_region", sa.String(255), nullable=False),
        sa.Column("remote_group_id", sa.String(64), nullable=False),
        sa.Column("expanded", sa.JSON(), nullable=False),
        *_reconciled(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_sg_rules")),
        sa.CheckConstraint(_OBJECT, name=op.f("ck_global_sg_rules_status")),
    )
    op.create_index(op.f("ix_global_sg_rules_project_id"), "global_sg_rules", ["project_id"])
    op.create_table(
        "global_routers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("transit_network_id", sa.String(36), nullable=True),
        sa.Column("transit_networks", sa.JSON(), nullable=False),
        sa.Column("subnets", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        *_reconciled(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_routers")),
        sa.CheckConstraint(_OBJECT, name=op.f("ck_global_routers_status")),
    )
    op.create_index(op.f("ix_global_routers_project_id"), "global_routers", ["project_id"])


def downgrade() -> None:
    op.drop_table("global_routers")
    op.drop_table("global_sg_rules")
    op.drop_table("blocked_segments")
    op.drop_table("global_vips")
    op.drop_table("global_network_ports")
    op.drop_table("global_network_regions")
    op.drop_table("global_networks")
