"""Leases on database rows: how engines share work without working on one row twice.

A leased row (a project's quota sync state, a sync job entry, a networking object,
a DR workflow) carries the columns of ``LeaseMixin``: ``lease_owner`` names the
engine that holds it, ``lease_expires_at`` says until when. The lease is *free*
when it has no expiry or the expiry has passed (``is_free``); a row with an expiry
in the future and no owner is held back, nobody's, until then (a retry's backoff).

An engine takes a lease with a compare-and-set UPDATE (``... WHERE the lease is
free``): of two engines claiming one row at once exactly one matches it, on SQLite
(writers are serialised by the database lock) as on PostgreSQL and MySQL/MariaDB
(the second UPDATE waits for the first one's row lock, then re-checks the
condition against the committed row). ``claim_first`` takes several rows at once:
on the server databases the candidates are locked with ``SELECT ... FOR UPDATE
SKIP LOCKED`` so that engines never wait for each other. The owner renews its
lease while it works (``renew``) and gives it back with its outcome
(``release``); every write names the owner, so an engine whose lease expired and
was taken over changes nothing.

Timestamps are compared in SQL as naive UTC (``kingbird.db.base.UtcDateTime``),
so the comparisons mean the same on every database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from kingbird.db import sql as _sql

_SKIP_LOCKED_DIALECTS = ("postgresql", "mysql", "mariadb")


class LeaseMixin:
    """The lease columns of a row engines claim."""

    lease_owner: Mapped[str | None] = mapped_column(sa.String(255))
    lease_expires_at: Mapped[dt.datetime | None]


class Claimed(NamedTuple):
    """A row taken by ``claim_first``."""

    key: Any  # its primary key
    #: the engine whose lease it was (expired), or None if nobody held it
    previous_owner: str | None


def is_free(table: sa.Table, now: dt.datetime) -> sa.ColumnElement[bool]:
    """The condition that a row's lease may be taken at ``now``."""
    now = _sql.now_utc(now)
    return sa.or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at <= now)


def held_by(table: sa.Table, owner: str) -> sa.ColumnElement[bool]:
    """The condition that ``owner`` holds a row's lease: writes made under a lease
    carry it, so that an engine whose lease was taken over changes nothing."""
    return table.c.lease_owner == owner


def _key(table: sa.Table) -> sa.Column:
    (column,) = table.primary_key.columns
    return column


def _taken(owner: str, lease_seconds: float, now: dt.datetime) -> dict[str, Any]:
    return {"lease_owner": owner, "lease_expires_at": now + dt.timedelta(seconds=lease_seconds)}


def claim(session: Session, table: sa.Table, key: Any, owner: str, lease_seconds: float, *,
          where: sa.ColumnElement[bool] | None = None,
          values: Mapping[str, Any] | None = None, now: dt.datetime | None = None) -> bool:
    """Take the lease on one row if it is free (and ``where`` holds): a
    compare-and-set, so of engines claiming at once exactly one gets True.

    Commit soon after, so that the row lock (server databases) or the write lock
    (SQLite) is not held while the work runs.

    :param key: the row's primary key.
    :param values: more columns written by the claim (e.g. an attempts counter).
    :returns: True if ``owner`` now holds the lease, until ``now + lease_seconds``.
    """
    now = _sql.now_utc(now)
    condition = sa.and_(_key(table) == key, is_free(table, now))
    if where is not None:
        condition = sa.and_(condition, where)
    taken = session.execute(sa.update(table).where(condition).values(
        **dict(values or {}), **_taken(owner, lease_seconds, now))).rowcount
    return taken == 1


def claim_first(session: Session, table: sa.Table, owner: str, lease_seconds: float, *,
                limit: int, where: sa.ColumnElement[bool], order_by: Sequence[Any],
                values: Mapping[str, Any] | None = None,
                now: dt.datetime | None = None) -> list[Claimed]:
    """Take the leases of up to ``limit`` rows where ``where`` holds and the lease
    is free, first in ``order_by`` order. No row is ever given to two engines
    whose leases are both live. Commit right after.

    :returns: the rows taken, in ``order_by`` order.
    """
    if limit <= 0:
        return []
    now = _sql.now_utc(now)
    key = _key(table)
    claimable = sa.and_(where, is_free(table, now))
    candidates = sa.select(key, table.c.lease_owner).where(claimable).order_by(*order_by)
    if _sql.dialect_name(session) in _SKIP_LOCKED_DIALECTS:
        rows = session.execute(candidates.limit(limit).with_for_update(skip_locked=True)).all()
        if rows:
            session.execute(sa.update(table).where(key.in_([row[0] for row in rows]))
                            .values(**dict(values or {}), **_taken(owner, lease_seconds, now)))
        return [Claimed(row[0], row[1]) for row in rows]
    won: list[Claimed] = []
    # SQLite: the candidates are read before this transaction holds the write lock,
    # so another engine may take some of them first; the first UPDATE takes the
    # lock, after which a second look sees the truth.
    for _ in range(2):
        lost = False
        taken_keys = [claimed.key for claimed in won]
        for row in session.execute(candidates.where(key.not_in(taken_keys))
                                   .limit(limit - len(won))).all():
            if claim(session, table, row[0], owner, lease_seconds, where=where, values=values,
                     now=now):
                won.append(Claimed(row[0], row[1]))
            else:
                lost = True
        if not lost or len(won) >= limit:
            break
    return won


def renew(session: Session, table: sa.Table, keys: Collection[Any], owner: str,
          lease_seconds: float, *, where: sa.ColumnElement[bool] | None = None,
          values: Mapping[str, Any] | None = None, now: dt.datetime | None = None) -> list[Any]:
    """Extend ``owner``'s lease on the rows of ``keys`` (where ``where`` holds) to
    ``now + lease_seconds``.

    :returns: the keys still held, sorted; a key missing from it was taken over by
        another engine (or is gone), and its work should stop.
    """
    if not keys:
        return []
    now = _sql.now_utc(now)
    owned = sa.and_(_key(table).in_(list(keys)), held_by(table, owner))
    if where is not None:
        owned = sa.and_(owned, where)
    renewed = session.execute(sa.update(table).where(owned).values(
        **dict(values or {}), lease_expires_at=now + dt.timedelta(seconds=lease_seconds)))
    if len(keys) == 1:
        return list(keys) if renewed.rowcount == 1 else []
    return sorted(session.execute(sa.select(_key(table)).where(owned)).scalars())


def release(session: Session, table: sa.Table, key: Any, owner: str | None, *,
            until: dt.datetime | None = None, keep_owner: bool = False,
            where: sa.ColumnElement[bool] | None = None,
            values: Mapping[str, Any] | None = None) -> bool:
    """Give back ``owner``'s lease on a row, writing ``values`` with it.

    :param owner: the engine giving it back; None: whoever holds it (for callers
        acting for every engine).
    :param until: nobody may claim the row before then (a retry's backoff).
    :param keep_owner: leave ``lease_owner`` naming the engine that last held the
        row, as a record of who finished it.
    :returns: False (and nothing changes) if ``owner`` no longer held the lease.
    """
    condition = _key(table) == key
    if owner is not None:
        condition = sa.and_(condition, held_by(table, owner))
    if where is not None:
        condition = sa.and_(condition, where)
    lease: dict[str, Any] = {"lease_expires_at": None if until is None else _sql.now_utc(until)}
    if not keep_owner:
        lease["lease_owner"] = None
    return bool(session.execute(sa.update(table).where(condition)
                                .values(**dict(values or {}), **lease)).rowcount)
