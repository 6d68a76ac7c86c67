"""Entries failing for a transient reason are put back with their reason and retried
after a backoff, then fail for good; an entry whose engines keep stopping while they
copy it fails after a bound; their log lines carry the job's request id; what the
runner did is counted. Real SQLite, a fake copier, no sockets."""

from __future__ import annotations

import datetime as dt
import logging
import time

from kingbird.core import metrics
from kingbird.core.exceptions import RegionError
from kingbird.core.requestlog import RequestIdFilter
from kingbird.regions.copying import Copier
from kingbird.sync import repository as jobs_db
from kingbird.sync.runner import JobRunner


class FlakyRegion(Copier):
    """Fails with a transient region error the first ``failures`` times."""

    resource_type = "keypair"

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    def locate(self, region, scope, resource):
        return [{"name": resource}]

    def copy(self, task):
        self.calls += 1
        logging.getLogger("test.copier").info("copying %s", task.resource)
        if self.calls <= self.failures:
            raise RegionError("R2", "create keypair: connection refused", transient=True)


def _job(tx, request_id="req-abc") -> str:
    with tx() as s:
        job = jobs_db.create_job(s, "p1", "u1", [{"resource": "kp", "resource_type": "keypair",
                                                  "source_region": "R1", "target_region": "R2"}],
                                 request_id=request_id)
    return job["id"]


def _entry(tx, job_id):
    with tx() as s:
        (entry,) = jobs_db.get_job_entries(s, job_id)
    return entry


def _until_final(runner, tx, job_id, timeout=10.0):
    deadline = time.monotonic() + timeout
    while _entry(tx, job_id)["status"] not in ("SUCCESS", "FAILURE"):
        assert time.monotonic() < deadline, _entry(tx, job_id)
        runner.tick()
        time.sleep(0.02)
    while not runner.idle():
        time.sleep(0.01)
    return _entry(tx, job_id)


def test_a_transient_failure_is_retried_after_a_backoff_with_its_reason_shown(tx):
    copier = FlakyRegion(failures=2)
    runner = JobRunner({"keypair": copier}, tx, "e1", workers=2, lease_seconds=30,
                       entry_retries=3, retry_backoff=0.1)
    job_id = _job(tx)
    try:
        runner.tick()
        while not runner.idle():
            time.sleep(0.01)
        waiting = _entry(tx, job_id)
        assert waiting["status"] == "IN_PROGRESS" and waiting["lease_owner"] is None
        assert "connection refused" in waiting["error"]
        runner.tick()
        assert copier.calls == 1, "retried before its backoff"
        entry = _until_final(runner, tx, job_id)
    finally:
        runner.shutdown()
    assert entry["status"] == "SUCCESS" and entry["error"] is None
    assert entry["attempts"] == 3 and copier.calls == 3


def test_a_region_that_stays_down_fails_the_entry_after_the_retries(tx):
    copier = FlakyRegion(failures=100)
    runner = JobRunner({"keypair": copier}, tx, "e1", workers=2, lease_seconds=30,
                       entry_retries=2, retry_backoff=0.01)
    job_id = _job(tx)
    retries_before = metrics.SYNC_ENTRIES.labels("keypair", "RETRY")._value.get()
    try:
        entry = _until_final(runner, tx, job_id)
    finally:
        runner.shutdown()
    assert entry["status"] == "FAILURE" and "R2" in entry["error"]
    assert copier.calls == 3
    assert metrics.SYNC_ENTRIES.labels("keypair", "RETRY")._value.get() - retries_before == 2


def _crash(tx, times):
    """Claims the entry as engines that die at once (their leases already expired)."""
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    for n in range(times):
        with tx() as s:
            [claimed] = jobs_db.claim_entries(s, f"dead-{n}", 1, limit=1,
                                              now=long_ago + dt.timedelta(seconds=2 * n))
        assert claimed["attempts"] == n + 1


def test_an_entry_that_keeps_stopping_its_engine_fails_after_the_bound(tx):
    copier = FlakyRegion(failures=0)
    runner = JobRunner({"keypair": copier}, tx, "e1", workers=1, lease_seconds=30,
                       entry_retries=1, entry_crashes=2)
    try:
        survivor = _job(tx)
        _crash(tx, 3)  # the 4th claim is the last allowed: 1 + 1 retry + 2 crashes
        assert _until_final(runner, tx, survivor)["status"] == "SUCCESS"
        assert copier.calls == 1
        doomed = _job(tx)
        _crash(tx, 4)
        entry = _until_final(runner, tx, doomed)
    finally:
        runner.shutdown()
    assert entry["status"] == "FAILURE" and entry["attempts"] == 5 and copier.calls == 1
    assert "given up after 4 tries" in entry["error"]
    assert "entry_crashes = 2" in entry["error"]
    with tx() as s:
        assert jobs_db.find_job(s, doomed)["status"] == "FAILURE"


def test_the_entry_logs_carry_the_request_id_of_its_job(tx, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    runner = JobRunner({"keypair": FlakyRegion(failures=0)}, tx, "e1", workers=1,
                       lease_seconds=30)
    job_id = _job(tx, request_id="req-1234")
    with caplog.at_level(logging.INFO):
        try:
            _until_final(runner, tx, job_id)
        finally:
            runner.shutdown()
    copying = [r for r in caplog.records if r.name == "test.copier"]
    assert copying and all(r.request_id == "req-1234" for r in copying)
