"""Repository of the Fernet key set: keys (material encrypted), nodes, rotations.

Every change of the key set happens under :func:`lock_key_set`, an UPDATE of
the single ``fernet_key_sets`` row taken first in the transaction: on
PostgreSQL and MySQL its row lock makes concurrent writers wait; on SQLite a
write as first statement takes the database's write lock before anything is
read, so no writer works from a stale snapshot.

Functions take the caller's Session and return plain dicts; none commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kingbird.db import sql as _sql
from kingbird.identity.models import FernetKey, FernetKeySet, FernetNode, FernetRotation

_sets: sa.Table = FernetKeySet.__table__  # type: ignore[assignment]
_keys: sa.Table = FernetKey.__table__  # type: ignore[assignment]
_nodes: sa.Table = FernetNode.__table__  # type: ignore[assignment]
_rotations: sa.Table = FernetRotation.__table__  # type: ignore[assignment]

KEY_SET_ID = 1


def _row(row) -> dict[str, Any]:
    return dict(row._mapping)


def lock_key_set(session: Session, now: dt.datetime | None = None) -> dict[str, Any]:
    """Lock the key set for the rest of the transaction and return it.

    The row is created (version 0: no keys) on first use.

    :returns: ``{"version": int, "published_at": datetime | None}``.
    """
    now = _sql.now_utc(now)
    locked = session.execute(
        sa.update(_sets).where(_sets.c.id == KEY_SET_ID).values(updated_at=now)).rowcount
    if not locked:
        _sql.upsert(session, _sets, [{"id": KEY_SET_ID, "version": 0, "created_at": now,
                                      "updated_at": now}], keys=["id"], update=[])
        session.execute(
            sa.update(_sets).where(_sets.c.id == KEY_SET_ID).values(updated_at=now))
    return get_key_set(session)


def get_key_set(session: Session) -> dict[str, Any]:
    """The key set's version (0 when Kingbird holds no keys yet) and publication time."""
    row = session.execute(sa.select(_sets.c.version, _sets.c.published_at)
                          .where(_sets.c.id == KEY_SET_ID)).one_or_none()
    return _row(row) if row else {"version": 0, "published_at": None}


def publish(session: Session, version: int, now: dt.datetime | None = None) -> None:
    """Record that the key set changed: it is now ``version``."""
    now = _sql.now_utc(now)
    session.execute(sa.update(_sets).where(_sets.c.id == KEY_SET_ID)
                    .values(version=version, published_at=now, updated_at=now))


def list_keys(session: Session) -> list[dict[str, Any]]:
    """Every key, material (encrypted) included, in id order."""
    return [_row(r) for r in session.execute(sa.select(_keys).order_by(_keys.c.id))]


def add_key(session: Session, material: str, state: str, staged_version: int,
            number: int | None = None, now: dt.datetime | None = None) -> int:
    """Store a key; ``material`` is already encrypted. Returns its id."""
    now = _sql.now_utc(now)
    promoted = now if state == "primary" else None
    result = session.execute(sa.insert(_keys).values(
        material=material, state=state, staged_version=staged_version, number=number,
        promoted_at=promoted, created_at=now, updated_at=now))
    return result.inserted_primary_key[0]


def update_key(session: Session, key_id: int, now: dt.datetime | None = None,
               **fields: Any) -> None:
    """Change some columns of a key (state, number, retire_after...)."""
    session.execute(sa.update(_keys).where(_keys.c.id == key_id)
                    .values(updated_at=_sql.now_utc(now), **fields))


def delete_keys(session: Session, key_ids: Iterable[int]) -> int:
    """Delete keys (material and all); returns how many."""
    ids = list(key_ids)
    if not ids:
        return 0
    return session.execute(sa.delete(_keys).where(_keys.c.id.in_(ids))).rowcount


def list_nodes(session: Session, registered_only: bool = False) -> list[dict[str, Any]]:
    """Every Keystone node, by name; with ``registered_only``, only those bound to an
    agent user (not the ones agents created before nodes were registered)."""
    query = sa.select(_nodes).order_by(_nodes.c.name)
    if registered_only:
        query = query.where(_nodes.c.agent_user_id.is_not(None))
    return [_row(r) for r in session.execute(query)]


def get_node(session: Session, name: str) -> dict[str, Any] | None:
    row = session.execute(sa.select(_nodes).where(_nodes.c.name == name)).one_or_none()
    return _row(row) if row else None


def register_node(session: Session, name: str, *, region: str, agent_user_id: str,
                  now: dt.datetime | None = None) -> None:
    """Register a node that has never reported, bound to ``agent_user_id``.

    Call under :func:`lock_key_set`, after :func:`get_node` found no such node.
    """
    now = _sql.now_utc(now)
    session.execute(sa.insert(_nodes).values(
        name=name, region=region, agent_user_id=agent_user_id, created_at=now,
        updated_at=now))


def bind_node(session: Session, name: str, *, region: str, agent_user_id: str,
              now: dt.datetime | None = None) -> None:
    """Bind an existing node (one its agent created before registration) to its agent
    user, keeping what it reported."""
    session.execute(sa.update(_nodes).where(_nodes.c.name == name).values(
        region=region, agent_user_id=agent_user_id, updated_at=_sql.now_utc(now)))


def record_node_report(session: Session, name: str, *, region: str,
                       keystone_url: str | None, version: int | None, error: str | None,
                       agent: str | None, probe: dict | None,
                       now: dt.datetime | None = None) -> dict[str, Any]:
    """Record a registered node's report.

    ``version_confirmed_at`` moves only when the reported version changes.
    Call under :func:`lock_key_set`, once :func:`get_node` found the node.

    :returns: the node as stored.
    """
    now = _sql.now_utc(now)
    fields = {"region": region, "keystone_url": keystone_url, "version": version,
              "error": error, "agent": agent, "probe": probe, "last_contact_at": now,
              "updated_at": now}
    existing = get_node(session, name)
    if existing["version"] != version:
        fields["version_confirmed_at"] = now
    session.execute(sa.update(_nodes).where(_nodes.c.name == name).values(**fields))
    return get_node(session, name)


def delete_node(session: Session, name: str) -> bool:
    """Forget a node; returns whether it was registered."""
    return bool(session.execute(sa.delete(_nodes).where(_nodes.c.name == name)).rowcount)


def create_rotation(session: Session, key_id: int, staged_version: int,
                    requested_by: str | None, request_id: str | None,
                    now: dt.datetime | None = None) -> int:
    """Record a requested rotation waiting to promote key ``key_id``; returns its id."""
    now = _sql.now_utc(now)
    result = session.execute(sa.insert(_rotations).values(
        status="distributing", key_id=key_id, staged_version=staged_version,
        requested_by=requested_by, request_id=request_id, created_at=now, updated_at=now))
    return result.inserted_primary_key[0]


def pending_rotation(session: Session) -> dict[str, Any] | None:
    """The rotation waiting for its promotion, if any."""
    row = session.execute(sa.select(_rotations).where(_rotations.c.status == "distributing")
                          .order_by(_rotations.c.id.desc()).limit(1)).one_or_none()
    return _row(row) if row else None


def mark_promoted(session: Session, rotation_id: int, version: int, number: int,
                  now: dt.datetime | None = None) -> None:
    now = _sql.now_utc(now)
    session.execute(sa.update(_rotations).where(_rotations.c.id == rotation_id).values(
        status="promoted", promoted_version=version, number=number, promoted_at=now,
        updated_at=now))


def list_rotations(session: Session, limit: int = 10) -> list[dict[str, Any]]:
    """The latest rotations, newest first."""
    return [_row(r) for r in session.execute(
        sa.select(_rotations).order_by(_rotations.c.id.desc()).limit(limit))]
