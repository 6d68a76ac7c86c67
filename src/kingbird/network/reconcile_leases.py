"""Leases on the networking objects engines reconcile, by kind: ``network``
(global networks, with their ports and VIPs), ``sg_rule`` (cross-region security
group rules) and ``router`` (L3 interconnections). See ``kingbird.network.reconcile_repository``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy.orm import Session

from kingbird.network import reconcile_repository as _reconcile
from kingbird.network.policy_repository import routers_table, rules_table
from kingbird.network.repository import networks_table

KINDS = {"network": networks_table, "sg_rule": rules_table, "router": routers_table}


def due_objects(session: Session, kind: str, now: dt.datetime | None = None,
                limit: int = 100) -> list[str]:
    """Ids of the objects of ``kind`` to reconcile now, requested ones first."""
    return _reconcile.due(session, KINDS[kind], now, limit)


def claim_object(session: Session, kind: str, object_id: str, owner: str,
                 lease_seconds: float, now: dt.datetime | None = None) -> bool:
    """Take the lease on an object; True if ``owner`` now holds it."""
    return _reconcile.claim(session, KINDS[kind], object_id, owner, lease_seconds, now)


def renew_object_leases(session: Session, kind: str, object_ids: Collection[str], owner: str,
                        lease_seconds: float, now: dt.datetime | None = None) -> list[str]:
    """Extend ``owner``'s leases; the ids it still holds (it lost the others)."""
    return _reconcile.renew(session, KINDS[kind], object_ids, owner, lease_seconds, now)


def release_object(session: Session, kind: str, object_id: str, owner: str,
                   started_at: dt.datetime, next_due: dt.datetime) -> None:
    """Release the lease, schedule the next reconcile, clear served requests."""
    _reconcile.release(session, KINDS[kind], object_id, owner, started_at, next_due)
