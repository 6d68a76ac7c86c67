"""The leased-work skeleton (``kingbird.engine.leased_work``) with in-memory work:
each outcome is recorded once through the item, nothing is recorded when the lease
is lost or the database goes away, the pool bound holds, and the renewer flags
leases taken over. No database, no sockets."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from kingbird.core.exceptions import LeaseLost, RegionError, WorkFailed
from kingbird.engine.leased_work import Lease, LeasedWork, LeasedWorker


class Item(LeasedWork):
    """Does what ``behaviour`` says and records its outcome in ``log``."""

    def __init__(self, key, behaviour, log, retry_transient=False):
        super().__init__(key, f"item {key}")
        self.behaviour = behaviour
        self.log = log
        self.retry_transient = retry_transient

    def run(self):
        self.behaviour(self)

    def finish(self):
        self.log.append((self.key, "finish"))

    def fail(self, reason):
        self.log.append((self.key, "fail", reason))

    def retry(self, exc, reason):
        if self.retry_transient and isinstance(exc, RegionError) and exc.transient:
            self.log.append((self.key, "retry", reason))
            return True
        return False

    def lost(self, exc):
        super().lost(exc)
        self.log.append((self.key, "lost"))


class Worker(LeasedWorker):
    """Hands out queued items; ``held`` are the keys whose lease is still ours."""

    def __init__(self, items=(), workers=2, lease_seconds=30):
        super().__init__("e1", workers=workers, lease_seconds=lease_seconds, name="test")
        self.queue = list(items)
        self.held: set | None = None

    def claim(self, limit):
        taken, self.queue = self.queue[:limit], self.queue[limit:]
        return taken

    def renew(self, keys):
        return [k for k in keys if self.held is None or k in self.held]


def wait_idle(worker, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not worker.idle():
        assert time.monotonic() < deadline, "work still running"
        time.sleep(0.01)


def raises(exc):
    def behaviour(item):
        raise exc
    return behaviour


def test_each_outcome_is_recorded_once_through_its_item():
    log = []
    worker = Worker([Item(1, lambda item: None, log),
                     Item(2, raises(WorkFailed("flavor f not found in R1")), log),
                     Item(3, raises(RegionError("R2", "HTTP 500")), log),
                     Item(4, raises(ZeroDivisionError()), log),
                     Item(5, raises(RegionError("R2", "timed out", transient=True)), log,
                          retry_transient=True)], workers=5)
    try:
        worker.tick()
        wait_idle(worker)
    finally:
        worker.shutdown()
    assert sorted(log) == [(1, "finish"), (2, "fail", "flavor f not found in R1"),
                           (3, "fail", "R2: HTTP 500"),
                           (4, "fail", "internal error: ZeroDivisionError"),
                           (5, "retry", "R2: timed out")]


def test_nothing_is_recorded_when_the_lease_is_lost_or_the_database_goes_away():
    log = []
    worker = Worker([Item(1, raises(LeaseLost("taken over")), log),
                     Item(2, raises(OperationalError("UPDATE", {}, Exception("gone"))), log)])
    try:
        worker.tick()
        wait_idle(worker)
    finally:
        worker.shutdown()
    assert sorted(log) == [(1, "lost"), (2, "lost")]


def test_no_more_items_run_at_once_than_there_are_workers_and_a_free_one_claims_more():
    release = threading.Event()
    running, most = [], []
    lock = threading.Lock()

    def block(item):
        with lock:
            running.append(item.key)
            most.append(len(running))
        assert release.wait(5)
        with lock:
            running.remove(item.key)

    log = []
    worker = Worker([Item(i, block, log) for i in range(5)], workers=2)
    try:
        worker.tick()
        worker.tick()  # no free worker: claims nothing more
        assert len(worker.queue) == 3
        release.set()
        wait_idle(worker)  # each freed worker claimed the next item without a tick
    finally:
        release.set()
        worker.shutdown()
    assert max(most) == 2 and len(log) == 5 and worker.queue == []


def test_the_renewer_flags_a_lease_taken_over_and_the_work_stops_at_its_next_check():
    checked = threading.Event()
    log = []

    def long_work(item):
        while True:
            item.lease.check()
            checked.set()
            time.sleep(0.01)

    worker = Worker([Item("a", long_work, log)], lease_seconds=0.06)
    try:
        worker.tick()
        assert checked.wait(5)
        worker.held = set()  # another engine took "a" over
        wait_idle(worker)
    finally:
        worker.shutdown()
    assert log == [("a", "lost")]


def test_a_stopping_worker_stops_its_work_and_claims_nothing():
    started = threading.Event()
    log = []

    def long_work(item):
        started.set()
        while True:
            item.lease.check()
            time.sleep(0.01)

    worker = Worker([Item(1, long_work, log), Item(2, lambda item: None, log)], workers=1)
    worker.tick()
    assert started.wait(5)
    worker.shutdown()
    worker.tick()
    assert log == [(1, "lost")] and len(worker.queue) == 1


def test_an_item_carried_out_in_the_callers_thread_is_not_run_twice():
    log = []
    worker = Worker()
    inner = Item(1, lambda item: log.append("inner ran"), log)

    def outer(item):
        worker.carry_out(inner)  # the same item, already running here

    try:
        worker.carry_out(Item(1, outer, log))
    finally:
        worker.shutdown()
    assert log == [(1, "finish")] and worker.idle()


def test_a_lost_lease_says_so_when_checked():
    lease = Lease("item 1")
    lease.check()
    lease.lose("taken over")
    with pytest.raises(LeaseLost, match="item 1: taken over"):
        lease.check()
