"""Leases on any leased row (``kingbird.db.leases``), on SQLite with the migrated
schema: claims are exclusive until the lease expires, renewals and releases name
the owner, a release can hold a row back, and racing claims have one winner."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from kingbird.db import leases
from kingbird.db.session import transaction
from kingbird.quota import schedule_repository as schedule_db
from kingbird.quota.models import ProjectSyncStatus

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
TABLE: sa.Table = ProjectSyncStatus.__table__  # type: ignore[assignment]


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def tx(tx):
    """The shared migrated database, with three projects scheduled."""
    with tx() as session:
        schedule_db.schedule_projects(session, ["p1", "p2", "p3"], now=T0)
    return tx


def lease_of(tx, key: str) -> tuple[str | None, dt.datetime | None]:
    with tx() as s:
        row = s.execute(sa.select(TABLE.c.lease_owner, TABLE.c.lease_expires_at)
                        .where(TABLE.c.project_id == key)).one()
    return row.lease_owner, row.lease_expires_at


def test_a_claim_is_exclusive_until_the_lease_expires(tx):
    with tx() as s:
        assert leases.claim(s, TABLE, "p1", "e1", 30, now=T0)
        assert not leases.claim(s, TABLE, "p1", "e2", 30, now=at(29))
        assert not leases.claim(s, TABLE, "p1", "e1", 30, now=at(29))
        assert leases.claim(s, TABLE, "p1", "e2", 30, now=at(30))
    assert lease_of(tx, "p1") == ("e2", at(60))


def test_a_claim_takes_a_row_only_where_its_condition_holds(tx):
    with tx() as s:
        assert not leases.claim(s, TABLE, "p1", "e1", 30, where=TABLE.c.contended.is_(True),
                                now=T0)
        assert leases.claim(s, TABLE, "p1", "e1", 30, values={"reason": "claimed"}, now=T0)
        assert s.execute(sa.select(TABLE.c.reason).where(TABLE.c.project_id == "p1")
                         ).scalar_one() == "claimed"


def test_renewal_extends_only_the_owners_leases(tx):
    with tx() as s:
        assert leases.claim(s, TABLE, "p1", "e1", 30, now=T0)
        assert leases.claim(s, TABLE, "p2", "e1", 30, now=T0)
        assert leases.claim(s, TABLE, "p3", "e2", 30, now=T0)
        assert leases.renew(s, TABLE, ["p1", "p2", "p3"], "e1", 30, now=at(20)) == ["p1", "p2"]
        assert leases.renew(s, TABLE, ["p3"], "e1", 30, now=at(20)) == []
        assert leases.renew(s, TABLE, [], "e1", 30) == []
        assert not leases.claim(s, TABLE, "p1", "e2", 30, now=at(45))
    assert lease_of(tx, "p1") == ("e1", at(50))
    assert lease_of(tx, "p3") == ("e2", at(30))


def test_a_release_by_another_engine_changes_nothing(tx):
    with tx() as s:
        assert leases.claim(s, TABLE, "p1", "e1", 30, now=T0)
        assert not leases.release(s, TABLE, "p1", "e2", values={"reason": "late"})
    assert lease_of(tx, "p1") == ("e1", at(30))
    with tx() as s:
        assert leases.release(s, TABLE, "p1", "e1")
        assert leases.claim(s, TABLE, "p1", "e2", 30, now=at(1))
        assert leases.release(s, TABLE, "p1", None)  # whoever holds it
    assert lease_of(tx, "p1") == (None, None)


def test_a_row_released_until_later_is_nobodys_until_then(tx):
    with tx() as s:
        assert leases.claim(s, TABLE, "p1", "e1", 30, now=T0)
        assert leases.release(s, TABLE, "p1", "e1", until=at(10))
        assert not leases.claim(s, TABLE, "p1", "e1", 30, now=at(9))
        assert leases.renew(s, TABLE, ["p1"], "e1", 30, now=at(9)) == []
        free = s.execute(sa.select(TABLE.c.project_id).where(leases.is_free(TABLE, at(10)))
                         .order_by(TABLE.c.project_id)).scalars().all()
        assert free == ["p1", "p2", "p3"]
        assert leases.claim(s, TABLE, "p1", "e2", 30, now=at(10))


def test_a_release_can_keep_the_name_of_the_last_owner(tx):
    with tx() as s:
        assert leases.claim(s, TABLE, "p1", "e1", 30, now=T0)
        assert leases.release(s, TABLE, "p1", "e1", keep_owner=True)
    assert lease_of(tx, "p1") == ("e1", None)
    with tx() as s:
        assert leases.claim(s, TABLE, "p1", "e2", 30, now=at(1))


def test_claim_first_takes_free_rows_in_order_up_to_the_limit(tx):
    with tx() as s:
        assert leases.claim(s, TABLE, "p1", "e9", 30, now=T0)
        first = leases.claim_first(s, TABLE, "e1", 30, limit=1, where=sa.true(),
                                   order_by=[TABLE.c.project_id.desc()], now=at(1))
        rest = leases.claim_first(s, TABLE, "e2", 30, limit=5, where=sa.true(),
                                  order_by=[TABLE.c.project_id], now=at(1))
        assert leases.claim_first(s, TABLE, "e3", 30, limit=5, where=sa.true(),
                                  order_by=[TABLE.c.project_id], now=at(2)) == []
        expired = leases.claim_first(s, TABLE, "e3", 30, limit=5, where=sa.true(),
                                     order_by=[TABLE.c.project_id], now=at(30))
        assert leases.claim_first(s, TABLE, "e3", 30, limit=0, where=sa.true(),
                                  order_by=[]) == []
    assert first == [leases.Claimed("p3", None)]
    assert rest == [leases.Claimed("p2", None)]
    assert expired == [leases.Claimed("p1", "e9")]


def test_of_engines_claiming_one_row_at_once_exactly_one_wins(factory):
    projects = [f"q{i}" for i in range(30)]
    with transaction(factory) as s:
        schedule_db.schedule_projects(s, projects)
    won: dict[str, list[str]] = {f"e{i}": [] for i in range(4)}
    start = threading.Barrier(len(won))

    def engine_loop(owner):
        start.wait()
        for project in projects:
            with transaction(factory) as s:
                if leases.claim(s, TABLE, project, owner, 30):
                    won[owner].append(project)

    threads = [threading.Thread(target=engine_loop, args=(o,)) for o in won]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    claimed = [p for owned in won.values() for p in owned]
    assert sorted(claimed) == sorted(projects)
