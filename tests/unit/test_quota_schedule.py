"""The schedule of periodic quota syncs (db.quota_schedule) and the scheduler that
spreads it over engines (engine.quota_scheduler), on a real SQLite database with
a fake syncer: no sockets."""

from __future__ import annotations

import datetime as dt
import threading
import time
from functools import partial

from kingbird.core.exceptions import RegionError
from kingbird.db import leases
from kingbird.engine.coordination import SCHEDULER, LocalCoordinator
from kingbird.quota import schedule_repository as schedule_db
from kingbird.quota import status_repository as status_db
from kingbird.quota.models import ProjectSyncStatus
from kingbird.quota.scheduler import QuotaScheduler
from kingbird.quota.syncer import SyncOutcome

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def claim(tx, owner="e1", limit=10, synced_before=T0, now=T0, lease=30,
          contended_before=None):
    with tx() as s:
        return schedule_db.claim_due_projects(s, owner, lease, synced_before, limit, now=now,
                                              contended_before=contended_before)


def test_scheduled_projects_are_due_at_once_and_scheduling_again_changes_nothing(tx):
    with tx() as s:
        schedule_db.schedule_projects(s, ["p1", "p2", "p1"], now=T0)
        status_db.record_sync_result(s, "p1", "SUCCESS", [], None, now=at(1))
        schedule_db.schedule_projects(s, ["p1", "p2", "p3"], now=at(2))
    claimed = claim(tx, synced_before=at(0), now=at(3))
    assert [c.project_id for c in claimed] == ["p2", "p3"]
    with tx() as s:
        assert status_db.get_sync_status(s, "p1")["last_sync_at"] == at(1)


def test_requests_come_first_then_never_synced_then_oldest(tx):
    with tx() as s:
        schedule_db.schedule_projects(s, ["old", "older", "never", "asked"], now=T0)
        status_db.record_sync_result(s, "old", "SUCCESS", [], None, now=at(5))
        status_db.record_sync_result(s, "older", "SUCCESS", [], None, now=at(2))
        status_db.record_sync_result(s, "asked", "SUCCESS", [], None, now=at(9))
        status_db.request_project_sync(s, "asked", now=at(10))
    claimed = claim(tx, synced_before=at(20), now=at(20))
    assert [c.project_id for c in claimed] == ["asked", "never", "older", "old"]


def test_a_project_synced_recently_is_not_due(tx):
    with tx() as s:
        schedule_db.schedule_projects(s, ["p"], now=T0)
        status_db.record_sync_result(s, "p", "SUCCESS", [], None, now=at(10))
    assert claim(tx, synced_before=at(5), now=at(15)) == []
    assert [c.project_id for c in claim(tx, synced_before=at(11), now=at(71))] == ["p"]


def test_a_claimed_project_is_nobody_elses_until_its_lease_expires(tx):
    with tx() as s:
        schedule_db.schedule_projects(s, ["p"], now=T0)
    (first,) = claim(tx, "e1", now=T0, lease=30)
    assert not first.reclaimed
    assert claim(tx, "e2", now=at(10)) == []
    (taken,) = claim(tx, "e2", now=at(31))
    assert taken.project_id == "p" and taken.reclaimed
    with tx() as s:
        assert status_db.get_sync_status(s, "p")["lease_owner"] == "e2"


def test_claims_are_bounded_and_released_projects_are_claimable(tx):
    with tx() as s:
        schedule_db.schedule_projects(s, [f"p{i}" for i in range(5)], now=T0)
    assert len(claim(tx, "e1", limit=2)) == 2
    assert len(claim(tx, "e2", limit=10)) == 3
    with tx() as s:
        assert leases.release(s, ProjectSyncStatus.__table__, "p0", "e1")
        assert not leases.release(s, ProjectSyncStatus.__table__, "p3", "e1")  # e2's: untouched
    assert [c.project_id for c in claim(tx, "e3")] == ["p0"]


class FakeSyncer:
    """Records which engine synced which project, and when; fails on request."""

    def __init__(self, tx, delay=0.0, failing=()):
        self.tx = tx
        self.delay = delay
        self.failing = set(failing)
        self.calls: list[tuple[str, str]] = []
        self.active: set[str] = set()
        self.overlaps = 0
        self.lock = threading.Lock()

    def sync(self, project_id, owner=None, started_at=None):
        with self.lock:
            if project_id in self.active:
                self.overlaps += 1
            self.active.add(project_id)
            self.calls.append((project_id, owner))
        try:
            time.sleep(self.delay)
            if project_id in self.failing:
                raise RegionError("R2", "read quota: connection refused", transient=True)
            with self.tx() as s:
                status_db.record_sync_result(s, project_id, "SUCCESS", [], None, owner=owner,
                                             started_at=started_at)
            return SyncOutcome(project_id, "SUCCESS")
        finally:
            with self.lock:
                self.active.discard(project_id)


class OneLeader(LocalCoordinator):
    """In-process locks, but only the named engine leads."""

    def __init__(self, leader: str, me: str, locks: LocalCoordinator):
        super().__init__()
        self.leader, self.me, self.shared = leader, me, locks
        self.asked = 0

    def is_leader(self, role):
        self.asked += 1
        return role == SCHEDULER and self.me == self.leader

    def exclusive(self, name):
        return self.shared.exclusive(name)


def run_round(*schedulers, timeout=10.0):
    deadline = time.monotonic() + timeout
    for scheduler in schedulers:
        scheduler.tick()
    while not all(s.idle() for s in schedulers):
        assert time.monotonic() < deadline, "syncs still running"
        time.sleep(0.01)


def test_one_scheduler_schedules_and_every_engine_syncs_each_project_once(tx):
    projects = [f"p{i:02d}" for i in range(40)]
    syncer = FakeSyncer(tx, delay=0.01)
    locks = LocalCoordinator()
    listed = []

    def list_projects():
        listed.append(1)
        return projects

    engines = [QuotaScheduler(syncer, tx, list_projects, name, sync_interval=60,
                              lease_seconds=30, workers=3,
                              coordinator=OneLeader("e1", name, locks))
               for name in ("e1", "e2", "e3")]
    try:
        run_round(*engines)
        assert len(listed) == 1, "only the leader lists the projects"
        assert sorted(p for p, _ in syncer.calls) == projects
        assert len({owner for _, owner in syncer.calls}) >= 2, "not spread over engines"
        assert syncer.overlaps == 0
        assert engines[0].cycles == 1 and engines[1].cycles == 0
    finally:
        for engine in engines:
            engine.shutdown()


def test_a_failing_sync_is_counted_and_retried_in_a_later_round(tx):
    syncer = FakeSyncer(tx, failing={"bad"})
    scheduler = QuotaScheduler(syncer, tx, lambda: ["good", "bad"], "e1", sync_interval=0,
                               lease_seconds=0.2, workers=2)
    try:
        run_round(scheduler)
        assert sorted(p for p, _ in syncer.calls) == ["bad", "good"]
        time.sleep(0.25)  # the failed sync's lease expires: it is due again
        syncer.failing.clear()
        run_round(scheduler)
        with tx() as s:
            assert status_db.get_sync_status(s, "bad")["outcome"] == "SUCCESS"
    finally:
        scheduler.shutdown()


def test_a_project_locked_by_another_engine_is_skipped(tx):
    syncer = FakeSyncer(tx)
    locks = LocalCoordinator()
    scheduler = QuotaScheduler(syncer, tx, lambda: ["busy", "free"], "e1", sync_interval=0,
                               lease_seconds=30, workers=2,
                               coordinator=OneLeader("e1", "e1", locks))
    try:
        with locks.exclusive("quota-busy") as held:
            assert held
            run_round(scheduler)
        assert [p for p, _ in syncer.calls] == ["free"]
    finally:
        scheduler.shutdown()


def test_a_contended_project_is_due_again_after_the_contended_interval_only(tx):
    with tx() as s:
        schedule_db.schedule_projects(s, ["calm", "hot"], now=T0)
        status_db.record_sync_result(s, "calm", "SUCCESS", [], None, now=at(10))
        status_db.record_sync_result(s, "hot", "SUCCESS", [], None, now=at(10), contended=True)
    due = partial(claim, tx, synced_before=at(-50))  # periodic interval of 60 s
    assert due(now=at(12), contended_before=at(9)) == []
    assert [c.project_id for c in due(now=at(15), contended_before=at(11))] == ["hot"]
    with tx() as s:
        status_db.record_sync_result(s, "hot", "SUCCESS", [], None, now=at(16))  # calm again
    assert due(now=at(30), contended_before=at(26)) == []


def test_projects_due_periodically_come_before_contended_ones(tx):
    with tx() as s:
        schedule_db.schedule_projects(s, ["late", "hot"], now=T0)
        status_db.record_sync_result(s, "late", "SUCCESS", [], None, now=at(1))
        status_db.record_sync_result(s, "hot", "SUCCESS", [], None, now=at(50), contended=True)
    claimed = claim(tx, synced_before=at(2), now=at(62), contended_before=at(57))
    assert [c.project_id for c in claimed] == ["late", "hot"]


def test_the_scheduler_syncs_a_contended_project_again_sooner(tx):
    class ContendedSyncer(FakeSyncer):
        def sync(self, project_id, owner=None, started_at=None):
            with self.lock:
                self.calls.append((project_id, owner))
            with self.tx() as s:
                status_db.record_sync_result(s, project_id, "SUCCESS", [], None, owner=owner,
                                             contended=project_id == "hot")
            return SyncOutcome(project_id, "SUCCESS")

    syncer = ContendedSyncer(tx)
    scheduler = QuotaScheduler(syncer, tx, lambda: ["calm", "hot"], "e1", sync_interval=60,
                               lease_seconds=30, workers=2, contended_interval=0.05)
    try:
        run_round(scheduler)
        time.sleep(0.1)
        run_round(scheduler)
        assert sorted(p for p, _ in syncer.calls) == ["calm", "hot", "hot"]
    finally:
        scheduler.shutdown()
