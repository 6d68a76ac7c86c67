"""Repository of cross-region security group rules and L3 interconnections
(global routers): objects of one project that engines keep converged."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import sql as _sql
from kingbird.network.models import GlobalRouter, GlobalSecurityGroupRule

rules_table: sa.Table = GlobalSecurityGroupRule.__table__  # type: ignore[assignment]
routers_table: sa.Table = GlobalRouter.__table__  # type: ignore[assignment]


def _insert(session: Session, table: sa.Table, values: Mapping[str, Any]) -> dict[str, Any]:
    now = _sql.now_utc(None)
    row = {"id": str(uuid.uuid4()), "status": "BUILD", "error": None, "requested_at": now,
           "due_at": now, "created_at": now, "updated_at": now, **values}
    session.execute(sa.insert(table).values(**row))
    return _get(session, table, row["id"], None)


def _get(session: Session, table: sa.Table, object_id: str,
         project_id: str | None) -> dict[str, Any] | None:
    stmt = sa.select(table).where(table.c.id == object_id)
    if project_id is not None:
        stmt = stmt.where(table.c.project_id == project_id)
    row = session.execute(stmt).one_or_none()
    return None if row is None else dict(row._mapping)


def _list(session: Session, table: sa.Table, project_id: str) -> list[dict[str, Any]]:
    rows = session.execute(sa.select(table).where(table.c.project_id == project_id)
                           .order_by(table.c.created_at, table.c.id))
    return [dict(r._mapping) for r in rows]


def _count(session: Session, table: sa.Table, project_id: str) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(table)
                           .where(table.c.project_id == project_id)).scalar_one()


def _update(session: Session, table: sa.Table, object_id: str, values: Mapping[str, Any]):
    session.execute(sa.update(table).where(table.c.id == object_id)
                    .values(**values, updated_at=_sql.now_utc(None)))


def _mark_deleting(session: Session, table: sa.Table, object_id: str) -> None:
    _update(session, table, object_id, {"status": "DELETING", "error": None,
                                        "requested_at": _sql.now_utc(None)})


# -- security group rules ---------------------------------------------------------

def create_sg_rule(session: Session, values: Mapping[str, Any]) -> dict[str, Any]:
    """A new cross-region rule (BUILD, due at once).

    :param values: ``project_id``, ``region``, ``security_group_id``, ``direction``,
        ``ethertype``, ``protocol``, ``port_range_min``, ``port_range_max``,
        ``remote_region``, ``remote_group_id``.
    """
    return _insert(session, rules_table, {**values, "expanded": []})


def get_sg_rule(session: Session, rule_id: str, project_id: str | None = None):
    return _get(session, rules_table, rule_id, project_id)


def list_sg_rules(session: Session, project_id: str) -> list[dict[str, Any]]:
    return _list(session, rules_table, project_id)


def count_sg_rules(session: Session, project_id: str) -> int:
    """How many cross-region rules the project holds (whatever their status)."""
    return _count(session, rules_table, project_id)


def update_sg_rule(session: Session, rule_id: str, **values: Any) -> None:
    _update(session, rules_table, rule_id, values)


def mark_sg_rule_deleting(session: Session, rule_id: str) -> None:
    _mark_deleting(session, rules_table, rule_id)


def delete_sg_rule(session: Session, rule_id: str) -> None:
    session.execute(sa.delete(rules_table).where(rules_table.c.id == rule_id))


# -- global routers ---------------------------------------------------------------

def create_router(session: Session, values: Mapping[str, Any]) -> dict[str, Any]:
    """A new L3 interconnection (BUILD, due at once).

    :param values: ``project_id``, ``name``, ``transit_network_id`` (or None),
        ``transit_networks`` (region -> Neutron network), ``subnets`` (region ->
        Neutron subnet).
    """
    return _insert(session, routers_table, {**values, "state": {}})


def get_router(session: Session, router_id: str, project_id: str | None = None):
    return _get(session, routers_table, router_id, project_id)


def list_routers(session: Session, project_id: str) -> list[dict[str, Any]]:
    return _list(session, routers_table, project_id)


def count_routers(session: Session, project_id: str) -> int:
    """How many global routers the project holds (whatever their status)."""
    return _count(session, routers_table, project_id)


def update_router(session: Session, router_id: str, **values: Any) -> None:
    _update(session, routers_table, router_id, values)


def mark_router_deleting(session: Session, router_id: str) -> None:
    _mark_deleting(session, routers_table, router_id)


def delete_router(session: Session, router_id: str) -> None:
    session.execute(sa.delete(routers_table).where(routers_table.c.id == router_id))


def routers_through(session: Session, network_id: str) -> list[str]:
    """Ids of the global routers whose transit is the global network ``network_id``."""
    return list(session.execute(sa.select(routers_table.c.id).where(
        routers_table.c.transit_network_id == network_id)).scalars())
