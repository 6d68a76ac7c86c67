"""Scale-out mode for real: gunicorn API workers and three ``kingbird-engine``
processes on PostgreSQL, coordinated through tooz (PostgreSQL advisory locks).

200 sync jobs and the periodic quota sync of 100 projects complete with every
entry applied exactly once and no project synced by two engines at once; then
the engine holding the scheduler role is killed with SIGKILL in the middle of
jobs, and the two others finish its entries and take the scheduler role over.
"""

from __future__ import annotations

import datetime as dt
import signal
import time

import pytest
import sqlalchemy as sa
from kb_http import KingbirdHTTP, wait_for
from scaleout_support import (
    PUBLIC_KEY,
    cloud_of,
    create_projects,
    finished_entries,
    overlapping,
    parallel,
    start_stack,
    sync_intervals,
    unique,
)
from sync_helpers import SyncAPI

from kingbird.quota import status_repository as status_db
from kingbird.quota.models import ProjectSyncStatus
from kingbird.sync import repository as jobs_db
from kingbird.sync.models import SyncJobEntry

pytestmark = pytest.mark.functional

SOURCE, TWO, THREE = "RegionOne", "RegionTwo", "RegionThree"
PROJECTS = 100
JOBS = 200
FLAVOR_JOBS = 20
LEASE_SECONDS = 4
SYNC_INTERVAL = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory, "scaleout", engines=3, api_workers=2,
                          sync_interval=SYNC_INTERVAL, lease_seconds=LEASE_SECONDS,
                          job_workers=4, poll_interval=0.3, request_timeout=5)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def cloud(stack):
    return cloud_of(stack)


@pytest.fixture(scope="module")
def db_tx(stack):
    return stack.db()


@pytest.fixture(scope="module")
def api(stack, cloud) -> SyncAPI:
    return SyncAPI(KingbirdHTTP(stack.kingbird_root), cloud.admin_token(),
                   cloud.project_id("admin"))


def _statuses(db_tx, project_ids) -> dict[str, dict]:
    with db_tx() as s:
        return {p: status_db.get_sync_status(s, p) for p in project_ids}


def _create_resources(cloud, keypairs: int, flavors: int) -> tuple[list[str], list[str]]:
    compute = cloud.admin(SOURCE).compute
    kp_names = [unique("so-kp") for _ in range(keypairs)]
    fl_names = [unique("so-fl") for _ in range(flavors)]
    parallel(lambda n: compute.create_keypair(name=n, public_key=PUBLIC_KEY), kp_names)
    parallel(lambda n: compute.create_flavor(name=n, ram=128, vcpus=1, disk=1), fl_names)
    return kp_names, fl_names


def _start_jobs(api: SyncAPI, keypairs: list[str], flavors: list[str]) -> list[str]:
    sets = [{"resource_type": "keypair", "resources": [n], "source": SOURCE,
             "target": [TWO, THREE]} for n in keypairs]
    sets += [{"resource_type": "flavor", "resources": [n], "source": SOURCE,
              "target": [TWO, THREE]} for n in flavors]
    return parallel(lambda rs: api.start({"Sync": [rs]}), sets)


def _wait_jobs(db_tx, job_ids: list[str], timeout: float) -> list[dict]:
    def all_final():
        with db_tx() as s:
            entries = [e for j in job_ids for e in jobs_db.get_job_entries(s, j)]
        return entries if all(e["status"] in ("SUCCESS", "FAILURE") for e in entries) \
            else None

    return wait_for(all_final, timeout=timeout, interval=0.5, what="the jobs to finish")


def _assert_copied_once(cloud, keypairs: list[str], flavors: list[str]) -> None:
    for region in (TWO, THREE):
        compute = cloud.admin(region).compute
        names = {k.name for k in compute.keypairs()}
        assert set(keypairs) <= names, f"keypairs missing in {region}"
        counts: dict[str, int] = {}
        for flavor in compute.flavors(is_public=None):
            counts[flavor.name] = counts.get(flavor.name, 0) + 1
        assert {n: counts.get(n, 0) for n in flavors} == dict.fromkeys(flavors, 1), \
            f"flavors missing or created twice in {region}"


def _scheduler_holder(stack) -> str | None:
    holders = [name for name in stack.engines
               if "holds the quota-scheduler role" in stack.engine_log(name).read_text()]
    return holders[-1] if holders else None


def test_engines_share_200_jobs_and_100_projects_and_survive_a_killed_engine(
        stack, cloud, db_tx, api):
    started = dt.datetime.now(dt.UTC)
    projects = create_projects(cloud, PROJECTS, unique("so-proj"))
    # A few projects get their limits changed twice in a row: the last value must win.
    changed = projects[:10]
    kb = KingbirdHTTP(stack.kingbird_root)
    for cores in (30, 45):
        for project in changed:
            answer = kb.call("PUT", f"/v1.1/os-quota-sets/{project}", cloud.admin_token(),
                             json={"quota_set": {"cores": cores}})
            assert answer.status_code == 200, answer.text

    # Room for the keypairs in every region (a global limit would be shared out by
    # demand, and the copies' regions have none until they arrive). Copies are made
    # with the service's credentials, so its project's limit counts too.
    roomy = [cloud.project_id("admin"), cloud.project_id("service")]
    for project in roomy:
        answer = kb.call("PUT", f"/v1.1/os-quota-sets/{project}", cloud.admin_token(),
                         json={"quota_set": {"key_pairs": -1}})
        assert answer.status_code == 200, answer.text
    wait_for(lambda: all(cloud.admin(r).compute.get_quota_set(p).key_pairs == -1
                         for r in (SOURCE, TWO, THREE) for p in roomy), timeout=60,
             what="room for the keypairs")
    keypairs, flavors = _create_resources(cloud, JOBS - FLAVOR_JOBS, FLAVOR_JOBS)
    t0 = time.monotonic()
    job_ids = _start_jobs(api, keypairs, flavors)
    entries = _wait_jobs(db_tx, job_ids, timeout=120)
    jobs_seconds = time.monotonic() - t0
    assert len(entries) == 2 * JOBS
    assert {e["status"] for e in entries} == {"SUCCESS"}, \
        {e["error"] for e in entries if e["error"]}

    def all_synced():
        statuses = _statuses(db_tx, projects)
        return all(s and s["last_sync_at"] and s["last_sync_at"] > started
                   and s["outcome"] == "SUCCESS" and not s["requested_at"]
                   for s in statuses.values())

    wait_for(all_synced, timeout=120, interval=0.5, what="every project to be synced")
    projects_seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()

    logs = [stack.engine_log(name) for name in stack.engines]
    finished = finished_entries(logs)
    assert all(finished[e["id"]] == 1 for e in entries), "an entry was recorded twice"
    _assert_copied_once(cloud, keypairs, flavors)
    owners = {e["lease_owner"] for e in entries}
    assert len(owners) == 3, f"the jobs were not spread over the engines: {owners}"
    spans = sync_intervals(logs)
    assert not overlapping(spans), "two engines synced one project at once"
    synced_by = {name for items in spans.values() for _, _, name in items}
    assert len(synced_by) >= 2, "the periodic sync was not spread over the engines"

    # Quota writes in order: each changed project's regional limits add up to the
    # last global limit set (escrow), not to an earlier one.
    for project in changed:
        cores = [cloud.admin(r).compute.get_quota_set(project).cores
                 for r in (SOURCE, TWO, THREE)]
        assert sum(cores) == 45, (project, cores)
    print(f"\n200 jobs (400 entries) in {jobs_seconds:.1f} s; {PROJECTS} projects synced "
          f"within {projects_seconds:.1f} s of their creation")

    # --- SIGKILL the engine that holds the scheduler role, mid-job --------------------
    victim = _scheduler_holder(stack)
    assert victim is not None, "no engine took the quota-scheduler role"
    keypairs2, flavors2 = _create_resources(cloud, 40, 10)
    cloud.sim("PUT", f"/regions/{TWO}/faults", json={"latency": 0.4}).raise_for_status()
    try:
        job_ids2 = _start_jobs(api, keypairs2, flavors2)

        def victim_busy():
            with db_tx() as s:
                return s.execute(sa.select(sa.func.count()).select_from(SyncJobEntry).where(
                    SyncJobEntry.lease_owner == victim,
                    SyncJobEntry.status == "IN_PROGRESS")).scalar_one() >= 2

        wait_for(victim_busy, timeout=60, interval=0.05, what=f"{victim} to work on entries")
        stack.kill_engine(victim, signal.SIGKILL)
        killed_at = dt.datetime.now()
        with db_tx() as s:
            orphaned = [e for j in job_ids2 for e in jobs_db.get_job_entries(s, j)
                        if e["lease_owner"] == victim and e["status"] == "IN_PROGRESS"]
        assert orphaned, "the killed engine held no entry"
        t1 = time.monotonic()
        entries2 = _wait_jobs(db_tx, job_ids2, timeout=120)
        takeover_seconds = time.monotonic() - t1
    finally:
        cloud.sim("DELETE", f"/regions/{TWO}/faults").raise_for_status()

    assert {e["status"] for e in entries2} == {"SUCCESS"}, \
        {e["error"] for e in entries2 if e["error"]}
    by_id = {e["id"]: e for e in entries2}
    for entry in orphaned:
        resumed = by_id[entry["id"]]
        assert resumed["lease_owner"] != victim and resumed["attempts"] >= 2
    logs = [stack.engine_log(name) for name in stack.engines]
    finished = finished_entries(logs)
    assert all(finished[e["id"]] == 1 for e in entries2), "an entry was recorded twice"
    _assert_copied_once(cloud, keypairs2, flavors2)

    # Another engine takes the scheduler role and the periodic sync goes on.
    def role_taken_over():
        holder = _scheduler_holder(stack)
        return holder if holder and holder != victim else None

    wait_for(role_taken_over, timeout=60, what="another engine to take the scheduler role")
    after_kill = dt.datetime.now(dt.UTC)
    wait_for(lambda: all(s["last_sync_at"] > after_kill
                         for s in _statuses(db_tx, projects[:20]).values()),
             timeout=SYNC_INTERVAL * 3, interval=0.5,
             what="the periodic sync to go on without the killed engine")
    spans = sync_intervals(logs, killed={stack.engine_log(victim).name: killed_at})
    assert not overlapping(spans), "two engines synced one project at once"
    with db_tx() as s:
        leftover = s.execute(sa.select(sa.func.count()).select_from(ProjectSyncStatus).where(
            ProjectSyncStatus.lease_owner == victim,
            ProjectSyncStatus.lease_expires_at > dt.datetime.now(dt.UTC))).scalar_one()
    assert leftover == 0
    print(f"{len(orphaned)} entries of the killed engine taken over; the 100 entries "
          f"finished {takeover_seconds:.1f} s after the kill")

    metrics = KingbirdHTTP(stack.kingbird_root).call("GET", "/metrics").text
    assert 'kingbird_sync_job_entries{status="SUCCESS"}' in metrics
    assert "kingbird_sync_queue_depth 0.0" in metrics
    # The API workers' own calls to the regions (checking the jobs' keypairs), summed.
    assert 'kingbird_region_call_seconds_count{outcome="ok",region="RegionOne"}' in metrics
