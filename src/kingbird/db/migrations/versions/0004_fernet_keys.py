"""Fernet key management: the key set, its keys, the Keystone nodes, rotations.

Key material is stored encrypted with the ``[fernet] master_key``; pruned keys
are deleted, not flagged.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004"
down_revision: str | None = "0003"
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
        "fernet_key_sets",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _timestamp("published_at", nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fernet_key_sets")),
    )
    op.create_table(
        "fernet_keys",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("material", sa.Text(), nullable=False),
        sa.Column("staged_version", sa.Integer(), nullable=False),
        sa.Column("demoted_version", sa.Integer(), nullable=True),
        _timestamp("promoted_at", nullable=True),
        _timestamp("demoted_at", nullable=True),
        _timestamp("retire_after", nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fernet_keys")),
        sa.UniqueConstraint("number", name=op.f("uq_fernet_keys_number")),
        sa.CheckConstraint(
            "state IN ('staged', 'primary', 'secondary')", name=op.f("ck_fernet_keys_state")
        ),
    )
    op.create_table(
        "fernet_nodes",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("region", sa.String(255), nullable=False),
        sa.Column("keystone_url", sa.String(1024), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        _timestamp("version_confirmed_at", nullable=True),
        _timestamp("last_contact_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("agent", sa.String(255), nullable=True),
        sa.Column("probe", sa.JSON(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_fernet_nodes")),
    )
    op.create_table(
        "fernet_rotations",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("staged_version", sa.Integer(), nullable=False),
        sa.Column("promoted_version", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        _timestamp("promoted_at", nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fernet_rotations")),
        sa.CheckConstraint(
            "status IN ('distributing', 'promoted')", name=op.f("ck_fernet_rotations_status")
        ),
    )


def downgrade() -> None:
    op.drop_table("fernet_rotations")
    op.drop_table("fernet_nodes")
    op.drop_table("fernet_keys")
    op.drop_table("fernet_key_sets")
