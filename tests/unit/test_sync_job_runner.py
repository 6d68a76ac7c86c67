"""The job runner on a real SQLite database with fake copiers: claims, bounds,
outcomes, leases and takeovers."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from kingbird.core.exceptions import LeaseLost, RegionError, WorkFailed
from kingbird.regions.copying import Copier
from kingbird.sync import repository as jobs_db
from kingbird.sync.models import SyncJobEntry
from kingbird.sync.runner import JobRunner

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
ENTRIES = SyncJobEntry.__table__


class ScriptedCopier(Copier):
    """Does what the resource name says: ok, fail, region, crash, lose, block."""

    resource_type = "keypair"

    def __init__(self):
        self.seen = []
        self.running = 0
        self.most_running = 0
        self.release = threading.Event()
        self._lock = threading.Lock()

    def locate(self, region, scope, resource):
        return [{"name": resource}]

    def copy(self, task):
        with self._lock:
            self.seen.append((task.resource, task.scope, task.progress.checkpoint))
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            kind = task.resource.split("-")[0]
            if kind == "block":
                assert self.release.wait(10)
            elif kind == "fail":
                raise WorkFailed("keypair fail already exists in R2")
            elif kind == "region":
                raise RegionError("R2", "create keypair: connection refused", transient=True)
            elif kind == "crash":
                raise ZeroDivisionError
            elif kind == "lose":
                raise LeaseLost("taken over")
            elif kind == "save":
                task.progress.save({"step": 1})
        finally:
            with self._lock:
                self.running -= 1


def entries(*names):
    return [{"resource": n, "resource_type": "keypair", "source_region": "R1",
             "target_region": "R2"} for n in names]


def runner(tx, copier, workers=4, lease=30, owner="engine-a") -> JobRunner:
    return JobRunner({"keypair": copier}, tx, owner, workers=workers, lease_seconds=lease)


def drain(run: JobRunner, timeout=5.0):
    deadline = time.monotonic() + timeout
    run.tick()
    while not run.idle():
        assert time.monotonic() < deadline, "entries still running"
        time.sleep(0.01)


def statuses(tx, job_id):
    with tx() as s:
        entries = jobs_db.get_job_entries(s, job_id)
    return {e["resource"]: (e["status"], e["error"]) for e in entries}


def test_entries_run_for_the_jobs_user_and_project_and_their_outcomes_are_recorded(tx):
    with tx() as s:
        job = jobs_db.create_job(s, "p1", "u1", entries("ok-1", "fail-1", "region-1", "crash-1"))
    copier = ScriptedCopier()
    run = runner(tx, copier)
    try:
        drain(run)
    finally:
        run.shutdown()
    assert statuses(tx, job["id"]) == {
        "ok-1": ("SUCCESS", None),
        "fail-1": ("FAILURE", "keypair fail already exists in R2"),
        "region-1": ("FAILURE", "R2: create keypair: connection refused"),
        "crash-1": ("FAILURE", "internal error: ZeroDivisionError"),
    }
    assert {(s.project_id, s.user_id) for _, s, _ in copier.seen} == {("p1", "u1")}
    with tx() as s:
        assert jobs_db.get_job(s, "p1", job["id"])["status"] == "FAILURE"


def test_a_job_succeeds_when_every_entry_does(tx):
    with tx() as s:
        job = jobs_db.create_job(s, "p1", "u1", entries("ok-1", "ok-2"))
    run = runner(tx, ScriptedCopier())
    try:
        drain(run)
    finally:
        run.shutdown()
    with tx() as s:
        assert jobs_db.get_job(s, "p1", job["id"])["status"] == "SUCCESS"


def test_no_more_entries_run_at_once_than_there_are_workers(tx):
    with tx() as s:
        job = jobs_db.create_job(s, "p1", "u1", entries(*[f"block-{i}" for i in range(7)]))
    copier = ScriptedCopier()
    run = runner(tx, copier, workers=3)
    try:
        run.tick()
        run.tick()  # no free worker: claims nothing more
        time.sleep(0.2)
        with tx() as s:
            claimed = [e for e in jobs_db.get_job_entries(s, job["id"]) if e["status"] != "QUEUED"]
        assert len(claimed) == 3
        copier.release.set()
        deadline = time.monotonic() + 5
        while set(statuses(tx, job["id"]).values()) != {("SUCCESS", None)}:
            assert time.monotonic() < deadline
            run.tick()
            time.sleep(0.02)
    finally:
        copier.release.set()
        run.shutdown()
    assert copier.most_running == 3


def test_an_entry_whose_lease_was_lost_is_left_to_its_new_owner(tx):
    with tx() as s:
        job = jobs_db.create_job(s, "p1", "u1", entries("lose-1"))
    run = runner(tx, ScriptedCopier())
    try:
        drain(run)
    finally:
        run.shutdown()
    with tx() as s:
        (entry,) = jobs_db.get_job_entries(s, job["id"])
    assert entry["status"] == "IN_PROGRESS" and entry["lease_owner"] == "engine-a"


def test_an_entry_of_a_dead_engine_is_resumed_with_its_checkpoint(tx):
    with tx() as s:
        job = jobs_db.create_job(s, "p1", "u1", entries("ok-1"))
    with tx() as s:
        (entry,) = jobs_db.claim_entries(s, "dead-engine", 30, 1, now=LONG_AGO)
        assert jobs_db.record_checkpoint(s, entry["id"], "dead-engine", {"action": "create"})
    copier = ScriptedCopier()
    run = runner(tx, copier, owner="engine-b")
    try:
        drain(run)
    finally:
        run.shutdown()
    assert copier.seen[0][2] == {"action": "create"}
    with tx() as s:
        (entry,) = jobs_db.get_job_entries(s, job["id"])
    assert (entry["status"], entry["attempts"], entry["lease_owner"]) == (
        "SUCCESS", 2, "engine-b")


def test_checkpoints_are_saved_only_while_the_lease_is_held(tx):
    with tx() as s:
        job = jobs_db.create_job(s, "p1", "u1", entries("save-1"))
    run = runner(tx, ScriptedCopier())
    try:
        drain(run)
    finally:
        run.shutdown()
    with tx() as s:
        (entry,) = jobs_db.get_job_entries(s, job["id"])
        assert entry["checkpoint"] == {"step": 1} and entry["status"] == "SUCCESS"
        assert not jobs_db.record_checkpoint(s, entry["id"], "engine-a", {"step": 2})


def test_renewal_flags_entries_taken_over_by_another_engine(tx):
    with tx() as s:
        job = jobs_db.create_job(s, "p1", "u1", entries("block-1", "block-2"))
    copier = ScriptedCopier()
    run = runner(tx, copier, lease=30)
    try:
        run.tick()
        with tx() as s:
            first, second = jobs_db.get_job_entries(s, job["id"])
            # engine-b took the first entry over (its lease had expired, say).
            s.execute(ENTRIES.update().where(ENTRIES.c.id == first["id"])
                      .values(lease_owner="engine-b"))
        run.renew_leases()
        progress = dict(run._running)
        assert progress[first["id"]].lost.is_set()
        assert not progress[second["id"]].lost.is_set()
        with pytest.raises(LeaseLost):
            progress[first["id"]].check()
    finally:
        copier.release.set()
        run.shutdown()


def test_a_stopping_runner_claims_nothing(tx):
    with tx() as s:
        job = jobs_db.create_job(s, "p1", "u1", entries("ok-1"))
    run = runner(tx, ScriptedCopier())
    run.shutdown()
    run.tick()
    assert statuses(tx, job["id"]) == {"ok-1": ("QUEUED", None)}
